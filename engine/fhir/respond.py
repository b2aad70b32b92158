"""A decision (engine.decide.decision.decide) → a FHIR R4 response Bundle in the Da Vinci PAS shape.

The Bundle holds:
- a `ClaimResponse` (use preauthorization) answering the imported Claim: `outcome` (complete,
  or partial while some item is pended), per Claim item one adjudication carrying the PAS
  `reviewAction` extension (X12 306 action code: A1 approved, A3 denied, A4 pended for
  documentation, A2 when the item's lines differ), Warrant's per-line determinations (verdict,
  basis, reasons with rule ids and citations, missing fields) as an extension, the reasons as
  `processNote`s linked through `noteNumber`, and the stage and admission determinations;
- when documentation is missing, a `Questionnaire` with one item per requested case field (its
  `linkId` is the field path of the decision's `documentation_requests`) and a
  `CommunicationRequest` pointing the requester at it, in the spirit of Da Vinci DTR.

Everything is derived from the decision, the Claim and the kb's fhir-map.yaml: ids are content
hashes and times come from the Claim's `created`, so the same input gives the same bytes. The
Bundle is validated with the fhir.resources R4B models before it is returned.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

from engine.errors import WarrantError
from engine.fhir.mapping import FhirMap, load_map
from engine.fhir.questionnaire import _questionnaire


_UNSIGNED_INT = 2_147_483_647


def _whole_days(days: Any) -> int:
    """A stay as FHIR unsignedInt; a stay the request states beyond it (1e300 days) is an
    invalid request (exit 3), not a failure of the response."""
    from engine.errors import CaseError

    if isinstance(days, (int, float)) and not isinstance(days, bool) and days == days and 0 <= days <= _UNSIGNED_INT:
        if float(days).is_integer():
            return int(days)
    shown = format(days, ".6g") if isinstance(days, (int, float)) else repr(days)[:40]
    raise CaseError(f"the requested stay of {shown} days cannot be answered in FHIR: a stay is a whole "
                    f"number of days from 0 to {_UNSIGNED_INT}")


class ResponseInvalid(WarrantError):
    """The response Warrant built does not validate as FHIR R4 (a Warrant bug: exit 1)."""

    code = "invalid_response"
    exit_code = 1


def _instant(created: str) -> str:
    if len(created) == 10:
        return f"{created}T00:00:00Z"
    if len(created) in (4, 7):
        return f"{created}{'-01' * ((10 - len(created)) // 3)}T00:00:00Z"
    return created


def _coding(m: FhirMap, short_code: str, display: str | None = None) -> dict[str, Any]:
    system, code = m.code(short_code)
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _ext(url: str, **value: Any) -> dict[str, Any]:
    return {"url": url, **value}


class _Notes:
    """processNote entries, numbered in first-use order, each text once."""

    def __init__(self) -> None:
        self.notes: list[dict[str, Any]] = []
        self.numbers: dict[str, int] = {}

    def add(self, text: str) -> int:
        if text not in self.numbers:
            self.numbers[text] = len(self.notes) + 1
            self.notes.append({"number": self.numbers[text], "type": "display", "text": text})
        return self.numbers[text]


def _reason_text(reason: dict[str, Any]) -> str:
    cites = f" (sources: {', '.join(reason['citations'])})" if reason.get("citations") else ""
    return f"[{reason['rule']}] {reason['text']}{cites}"


def _line_extension(m: FhirMap, stage: int, line: dict[str, Any]) -> dict[str, Any]:
    r = m.response
    line_id = f"{stage}:{line['code']}:{line['level'] or line['side'] or '-'}"
    parts = [_ext("line", valueString=line_id)]
    if line.get("level"):
        parts.append(_ext("level", valueString=line["level"]))
    if line.get("side"):
        parts.append(_ext("side", valueCode=line["side"]))
    parts.append(_ext("verdict", valueCoding={"system": r["verdict_system"], "code": line["verdict"]}))
    parts.append(_ext("basis", valueCoding={"system": r["basis_system"], "code": line["basis"]}))
    for reason in line["reasons"]:
        sub = [_ext("rule", valueString=reason["rule"]), _ext("text", valueString=reason["text"])]
        sub += [_ext("citation", valueString=c) for c in reason["citations"]]
        parts.append(_ext("reason", extension=sub))
    for missing in line["missing_documentation"]:
        parts.append(_ext("missing", valueString=missing["field"]))
    parts.append(_ext("proof", valueString=line["proof"]))
    return _ext(r["line_determination"], extension=parts)


def _action(m: FhirMap, verdicts: Iterable[str]) -> dict[str, str]:
    actions = m.response["actions"]
    found = set(verdicts)
    pended = m.response["pended_verdict"]
    if pended in found:
        return actions[pended]
    if len(found) == 1:
        return actions[found.pop()]
    return actions["mixed"]


def _items(m: FhirMap, decision: dict[str, Any], imported: Any, lines: list[Any], notes: _Notes,
           auth: str) -> tuple[list[dict[str, Any]], list[str]]:
    r = m.response
    seq_of_line = {ln.id: imported.items.get((ln.request, ln.procedure)) for ln in lines}
    by_item: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    order: list[int] = []
    for stage in decision["stages"]:
        for line in stage["lines"]:
            line_id = f"{stage['stage']}:{line['code']}:{line['level'] or line['side'] or '-'}"
            seq = seq_of_line.get(line_id)
            if seq is None:
                continue
            if seq not in by_item:
                by_item[seq] = []
                order.append(seq)
            by_item[seq].append((stage["stage"], line))
    items = []
    item_verdicts = []
    category_system, _, category_code = r["adjudication_category"].partition("#")
    for seq in sorted(order):
        entries = by_item[seq]
        verdicts = [line["verdict"] for _, line in entries]
        action = _action(m, verdicts)
        item_verdicts.append(action["code"])
        bases = []
        for _, line in entries:
            if line["basis"] not in bases:
                bases.append(line["basis"])
        review = [_ext("number", valueString=f"{auth}-{seq}"),
                  _ext(r.get("review_action_code", "code"), valueCodeableConcept={"coding": [
                      {"system": r["action_system"], "code": action["code"], "display": action["display"]}]})]
        for basis in bases:
            review.append(_ext("reasonCode", valueCodeableConcept={
                "coding": [{"system": r["basis_system"], "code": basis}],
                "text": basis.replace("_", " ")}))
        numbers: list[int] = []
        for stage, line in entries:
            where = line["level"] or line["side"] or "no level"
            number = notes.add(f"Item {seq} ({line['code']} {where}, stage {stage}): "
                               f"{m.response['words'].get(line['verdict'], line['verdict'])} "
                               f"({line['basis'].replace('_', ' ')})")
            if number not in numbers:
                numbers.append(number)
            for reason in line["reasons"]:
                number = notes.add(_reason_text(reason))
                if number not in numbers:
                    numbers.append(number)
        item = {
            "extension": [_line_extension(m, stage, line) for stage, line in entries],
            "itemSequence": seq,
            "noteNumber": numbers,
            "adjudication": [{
                "extension": [_ext(r["review_action"], extension=review)],
                "category": {"coding": [{"system": category_system, "code": category_code}]},
            }],
        }
        items.append(item)
    return items, item_verdicts


def _stage_extensions(m: FhirMap, decision: dict[str, Any], notes: _Notes) -> list[dict[str, Any]]:
    r = m.response
    out = []
    for stage in decision["stages"]:
        parts = [_ext("stage", valuePositiveInt=stage["stage"]),
                 _ext("verdict", valueCoding={"system": r["verdict_system"], "code": stage["verdict"]})]
        policy = stage.get("policy")
        if policy:  # the policy version that decided the stage (POLICIES.md section 4)
            parts += [_ext("policy", valueString=policy["id"]), _ext("policyVersion", valueString=policy["version"]),
                      _ext("policyEffective", valueDate=policy["effective_from"]),
                      _ext("policyAsOf", valueDate=policy["as_of"]),
                      _ext("policyDigest", valueString=policy["digest"])]
        admission = stage.get("admission")
        if admission:
            parts.append(_ext("admissionVerdict", valueCoding={"system": r["verdict_system"],
                                                                 "code": admission["verdict"]}))
            parts.append(_ext("admissionBasis", valueCoding={"system": r["basis_system"],
                                                               "code": admission["basis"]}))
            if admission.get("requested_days") is not None:
                parts.append(_ext("requestedDays", valueUnsignedInt=_whole_days(admission["requested_days"])))
            if admission.get("supported_days") is not None:
                parts.append(_ext("supportedDays", valueUnsignedInt=_whole_days(admission["supported_days"])))
            supported = admission.get("supported_days")
            notes.add(f"Stage {stage['stage']} inpatient stay: "
                      f"{m.response['words'].get(admission['verdict'], admission['verdict'])} "
                      f"({admission['basis'].replace('_', ' ')}); "
                      f"{admission.get('requested_days')} days requested"
                      + (f", {supported} supported" if supported is not None else ""))
            for reason in admission["reasons"]:
                notes.add(_reason_text(reason))
        out.append(_ext(r["stage_determination"], extension=parts))
    return out


def _admission_items(m: FhirMap, decision: dict[str, Any], imported: Any, lines: list[Any], notes: _Notes,
                     auth: str) -> list[dict[str, Any]]:
    """One `addItem` per inpatient stay, adjudicated like a Claim item (a reviewAction with the
    X12 306 code, the basis as reason code), pointing at the items of its stage."""
    r = m.response
    category_system, _, category_code = r["adjudication_category"].partition("#")
    seq_of_line = {ln.id: imported.items.get((ln.request, ln.procedure)) for ln in lines}
    out = []
    for stage in decision["stages"]:
        admission = stage.get("admission")
        if not admission:
            continue
        seqs = sorted({seq_of_line.get(f"{stage['stage']}:{ln['code']}:{ln['level'] or ln['side'] or '-'}")
                       for ln in stage["lines"]} - {None})
        action = _action(m, [admission["verdict"]])
        review = [_ext("number", valueString=f"{auth}-stay-{stage['stage']}"),
                  _ext(r.get("review_action_code", "code"), valueCodeableConcept={"coding": [
                      {"system": r["action_system"], "code": action["code"], "display": action["display"]}]}),
                  _ext("reasonCode", valueCodeableConcept={
                      "coding": [{"system": r["basis_system"], "code": admission["basis"]}],
                      "text": admission["basis"].replace("_", " ")})]
        days = admission.get("supported_days")
        if days is None:
            days = admission.get("requested_days")
        stay = r.get("inpatient_stay", {})
        item: dict[str, Any] = {
            "itemSequence": seqs or [1],
            "productOrService": {"coding": [{"system": stay.get("system", r["basis_system"]),
                                             "code": stay.get("code", "inpatient-stay")}],
                                 "text": stay.get("text", "inpatient stay")},
            "noteNumber": [n for n in (notes.numbers.get(t) for t in notes.numbers
                                       if t.startswith(f"Stage {stage['stage']} inpatient stay")) if n],
            "adjudication": [{"extension": [_ext(r["review_action"], extension=review)],
                              "category": {"coding": [{"system": category_system, "code": category_code}]}}],
        }
        if days is not None:
            item["quantity"] = {"value": days, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"}
        if not item["noteNumber"]:
            del item["noteNumber"]
        out.append(item)
    return out


def _include_referenced(response: dict[str, Any], imported: Any, base: str) -> list[dict[str, Any]]:
    """Entries for the Patient, insurer and requester the ClaimResponse names, copied from the
    request bundle under this answer's base, and those references rewritten to them, so that
    every reference in the answer resolves inside it."""
    by_ref: dict[str, dict[str, Any]] = {}
    for entry in imported.bundle.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") and resource.get("id"):
            by_ref[f"{resource['resourceType']}/{resource['id']}"] = resource
            if entry.get("fullUrl"):
                by_ref[str(entry["fullUrl"])] = resource
    out, seen = [], set()
    for key in ("patient", "insurer", "requestor"):
        ref = str((response.get(key) or {}).get("reference", ""))
        target = by_ref.get(ref) or by_ref.get("/".join(ref.rstrip("/").split("/")[-2:]))
        if target is None:
            continue
        local = f"{target['resourceType']}/{target['id']}"
        response[key] = {**response[key], "reference": local}
        if local not in seen:
            seen.add(local)
            out.append({"fullUrl": f"{base}/{local}", "resource": target})
    return out


# ---------------------------------------------------------------------------------- the bundle
def _communication_request(response: dict[str, Any], imported: Any, ask_id: str, qid: str,
                           created: str) -> dict[str, Any]:
    """The request for the missing documentation, about the Claim, carrying the Questionnaire;
    from the insurer to the requester, with the references the ClaimResponse uses."""
    ask: dict[str, Any] = {
        "resourceType": "CommunicationRequest",
        "id": ask_id,
        "status": "active",
        "subject": response["patient"],
        "about": [{"reference": imported.claim_label}],
        "authoredOn": created,
        "payload": [{"contentReference": {"reference": f"Questionnaire/{qid}"}}],
    }
    if imported.claim.get("insurer"):
        ask["requester"] = response["insurer"]
    if response.get("requestor"):
        ask["recipient"] = [response["requestor"]]
    return ask


def _check(bundle: dict[str, Any]) -> None:
    from engine.fhir import require_models
    from engine.fhir.models import validate_resource

    require_models()
    problems = validate_resource(bundle)
    if problems:
        raise ResponseInvalid("the FHIR response does not validate: " + "; ".join(problems[:5]))



def respond(decision: dict[str, Any], imported: Any, lines: list[Any], *,
            fhir_map: FhirMap | None = None, kb_root: Any = None, case_schema: Any = None,
            validate: bool = True) -> dict[str, Any]:
    """The response Bundle (plain JSON data) for a decision on an imported bundle; the
    questionnaire of missing documentation follows the kb's `case_schema` (by default, that of
    the kb at `kb_root`)."""
    m = fhir_map or load_map(kb_root)
    r = m.response
    claim = imported.claim
    created = imported.created or "1970-01-01"
    digest = hashlib.sha256(json.dumps({"claim": imported.claim_label, "created": created,
                                        "bundle": imported.bundle.get("id"), "decision": decision},
                                       sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    short = digest[:16]
    auth = f"WRT-{digest[:12].upper()}"
    notes = _Notes()
    items, actions = _items(m, decision, imported, lines, notes, auth)
    stages = _stage_extensions(m, decision, notes)
    for warning in imported.warnings:
        notes.add(f"Not read from the request: {warning.message}")
    if decision.get("citations"):
        notes.add("Sources: " + "; ".join(f"{c['id']}: {c['title']}" if c.get("title") else c["id"]
                                          for c in decision["citations"]))
    counts = {code: actions.count(code) for code in dict.fromkeys(actions)}
    words = {a["code"]: a["display"].lower() for a in r["actions"].values()}
    disposition = "; ".join(f"{n} item{'s' if n != 1 else ''} {words.get(code, code)}"
                            for code, n in counts.items()) or "no items"
    pended = r["actions"][r["pended_verdict"]]["code"] in actions
    qid = f"warrant-docs-{short}"
    questionnaire = _questionnaire(m, decision, imported, lines, qid, created, case_schema=case_schema,
                                   kb_root=kb_root)
    base = r["base_url"]
    response: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": f"warrant-{short}",
        "meta": {"profile": [r["profiles"]["claim_response"]]},
        "extension": stages,
        "identifier": [{"system": r["identifier_system"], "value": auth}],
        "status": "active",
        "type": claim.get("type") or {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type",
                                                   "code": "professional"}]},
        "use": "preauthorization",
        "patient": claim.get("patient") or {"display": "unknown patient"},
        "created": created,
        "insurer": claim.get("insurer") or {"display": "Warrant review"},
    }
    if claim.get("provider"):
        response["requestor"] = claim["provider"]
    request_ref: dict[str, Any] = {"reference": imported.claim_label}
    if claim.get("identifier"):
        request_ref["identifier"] = claim["identifier"][0]
    response["request"] = request_ref
    response["outcome"] = "partial" if pended else "complete"
    response["disposition"] = disposition
    response["preAuthRef"] = auth
    response["item"] = items
    admissions = _admission_items(m, decision, imported, lines, notes, auth)
    if admissions:
        response["addItem"] = admissions
    if notes.notes:
        response["processNote"] = notes.notes
    entries = [{"fullUrl": f"{base}/ClaimResponse/{response['id']}", "resource": response}]
    entries += _include_referenced(response, imported, base)
    if questionnaire:
        ask = _communication_request(response, imported, f"warrant-ask-{short}", qid, created)
        response["communicationRequest"] = [{"reference": f"CommunicationRequest/{ask['id']}"}]
        entries.append({"fullUrl": f"{base}/Questionnaire/{qid}", "resource": questionnaire})
        entries.append({"fullUrl": f"{base}/CommunicationRequest/{ask['id']}", "resource": ask})
    bundle = {
        "resourceType": "Bundle",
        "id": f"warrant-response-{short}",
        "meta": {"profile": [r["profiles"]["bundle"]]},
        "identifier": {"system": r["identifier_system"], "value": f"{auth}-bundle"},
        "type": "collection",
        "timestamp": _instant(created),
        "entry": entries,
    }
    if validate:
        _check(bundle)
    return bundle
