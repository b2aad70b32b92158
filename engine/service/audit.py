"""Audit rows as FHIR AuditEvent resources (R4 shape): who read or wrote which decision, when,
from where, through which channel, and how it ended. No clinical content is ever recorded."""
from __future__ import annotations

from typing import Any

from engine.service.store.records import iso

INTERACTION = "http://hl7.org/fhir/restful-interaction"
EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
CHANNEL = "http://warrant.example/fhir/CodeSystem/service-channel"


def audit_event_resource(row: Any) -> dict[str, Any]:
    entity = row.entity or ""
    what = ({"reference": entity} if "/" in entity and " " not in entity else {"display": entity})
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(row.seq),
        "type": {"system": EVENT_TYPE, "code": row.type},
        "subtype": [{"system": INTERACTION, "code": row.subtype}],
        "action": row.action,
        "recorded": iso(row.recorded),
        "outcome": row.outcome,
        "agent": [{"who": {"display": row.agent}, "requestor": True,
                   "network": {"address": row.source, "type": "2"}}],
        "source": {"observer": {"display": "warrant serve"},
                   "type": [{"system": CHANNEL, "code": row.channel}]},
        "extension": [{"url": "http://warrant.example/fhir/StructureDefinition/http-status",
                       "valueInteger": row.http_status}],
    }
    if entity:
        event["entity"] = [{"what": what}]
    return event
