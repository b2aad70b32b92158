"""Da Vinci PAS on the service: `$submit` decides a request Bundle and answers with the PAS
response Bundle (engine.fhir.respond); `$inquire` finds the stored answer to the same request.

A request is the same request when its Claim carries the same identifier (system and value),
or, without one, the same Claim id. These functions run on the decision thread.
"""
from __future__ import annotations

import json
from typing import Any

from engine.errors import CaseError, Finding, Location, UsageError
from engine.service.deciding import Decided, decide_session
from engine.service.deciding import reopen as open_input


def claim_key(claim: dict[str, Any]) -> str:
    for identifier in claim.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("value"):
            return f"{identifier.get('system', '')}|{identifier['value']}"
    return f"Claim/{claim.get('id', '')}"


def submit(kb, text: str) -> tuple[Decided, dict[str, Any], str]:
    """Decide a PAS request Bundle: (the decision, the response Bundle, the request key)."""
    from engine.fhir.respond import respond

    session = open_input(kb, text, "bundle.json")
    if session.imported is None:
        raise UsageError("Claim/$submit takes a FHIR Bundle holding a Claim with use = preauthorization; "
                         "send a warrant-case file to /api/v1/decisions instead")
    decided = decide_session(session)
    answer = respond(decided.decision, session.imported, session.lines, kb_root=kb.root,
                     case_schema=kb.case_schema)
    return decided, answer, claim_key(session.imported.claim)


def inquiry_key(text: str) -> str:
    """The request key of a PAS inquiry Bundle (its Claim's identifier)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _invalid(f"the body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise _invalid("Claim/$inquire takes a FHIR Bundle holding the Claim to look up")
    for entry in data.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "Claim":
            return claim_key(resource)
    raise _invalid("the inquiry Bundle holds no Claim")


def claim_response(bundle: dict[str, Any]) -> dict[str, Any] | None:
    for entry in bundle.get("entry") or []:
        if entry.get("resource", {}).get("resourceType") == "ClaimResponse":
            return entry["resource"]
    return None


def _invalid(message: str) -> CaseError:
    return CaseError(message, findings=[Finding("invalid_bundle", message, Location("inquiry"))])
