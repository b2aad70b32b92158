"""Draft orders (CRD hooks, DTR requests) as a PAS-shaped request Bundle, so that they are read
by the same importer, mapping and validation as a prior-authorization request.

Each ServiceRequest becomes one Claim item: `code` gives productOrService (a CPT coding),
the first `bodySite` the level, further body sites the laterality (`subSite`),
`occurrenceDateTime` the service date (which orders stages), `locationCode` the place of
service, and Warrant's item extensions (surgical stage, instrumented span, facet resection)
carry over. The clinical resources sent along (CDS Hooks prefetch, DTR `referenced`) join the
Bundle as they are.
"""
from __future__ import annotations

from typing import Any, Iterable

CLAIM_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]}
PRIORITY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]}


def resources_in(value: Any) -> Iterable[dict[str, Any]]:
    """The resources of a Bundle (searchset or collection), or the resource itself."""
    if not isinstance(value, dict):
        return
    if value.get("resourceType") == "Bundle":
        for entry in value.get("entry") or []:
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict) and resource.get("resourceType"):
                yield from resources_in(resource)
    elif value.get("resourceType"):
        yield value


def claim_item(sequence: int, order: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"sequence": sequence, "productOrService": order.get("code") or {}}
    sites = order.get("bodySite") or []
    if sites:
        item["bodySite"] = sites[0]
    if len(sites) > 1:
        item["subSite"] = sites[1:]
    when = order.get("occurrenceDateTime") or (order.get("occurrencePeriod") or {}).get("start")
    if isinstance(when, str) and len(when) >= 10:
        item["servicedDate"] = when[:10]
    if order.get("locationCode"):
        item["locationCodeableConcept"] = order["locationCode"][0]
    if order.get("extension"):
        item["extension"] = list(order["extension"])
    return item


def orders_bundle(orders: list[dict[str, Any]], others: list[dict[str, Any]], *, patient_id: str | None,
                  created: str, key: str, identifier_system: str) -> dict[str, Any]:
    """A request Bundle: a Claim (use preauthorization) of the orders, and the other resources."""
    patient = next((r for r in others if r.get("resourceType") == "Patient"
                    and (patient_id is None or r.get("id") == patient_id)), None)
    coverage = next((r for r in others if r.get("resourceType") == "Coverage"), None)
    requester = next((o.get("requester") for o in orders if o.get("requester")), None)
    claim = {
        "resourceType": "Claim", "id": "orders",
        "identifier": [{"system": identifier_system, "value": key}],
        "status": "active", "type": CLAIM_TYPE, "use": "preauthorization",
        "patient": {"reference": f"Patient/{patient['id'] if patient else patient_id or 'unknown'}"},
        "created": created,
        "provider": requester or {"display": "the ordering clinician"},
        "priority": PRIORITY,
        "insurance": [{"sequence": 1, "focal": True,
                       "coverage": {"reference": f"Coverage/{coverage['id']}"} if coverage and coverage.get("id")
                       else {"display": "the patient's coverage"}}],
        "item": [claim_item(i + 1, order) for i, order in enumerate(orders)],
    }
    entries = [{"fullUrl": "urn:warrant:claim:orders", "resource": claim}]
    seen = set()
    for resource in others:
        ident = (resource.get("resourceType"), resource.get("id"))
        if resource.get("resourceType") in ("Claim", "ServiceRequest", "Appointment") or ident in seen:
            continue
        seen.add(ident)
        entries.append({"resource": resource})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
