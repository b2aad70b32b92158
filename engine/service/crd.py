"""Da Vinci CRD through CDS Hooks: draft orders in, cards and coverage information out.

The hooks `order-sign`, `order-select` and `appointment-book` carry ServiceRequests (CPT code,
body site) in `context.draftOrders` / `context.appointments`, and the patient's record in
`prefetch`. The orders become a request Bundle (`orders.py`) and are decided like a PAS request.
Each order gets one card and a `systemActions` update of the order carrying the CRD
coverage-information extension:

- every line of the order meets the policy → `pa-needed` satisfied, `satisfied-pa-id` the id of
  the stored decision;
- documentation is missing → `pa-needed` auth-needed, `doc-needed` clinical, `doc-purpose`
  withpa, and the DTR questionnaire to fill in (`questionnaire`);
- otherwise → `pa-needed` auth-needed with the reasons.

`covered` is always `covered`: Warrant decides medical necessity, not benefits. The
`coverage-assertion-id` is the stored decision's id, which DTR accepts as `context`.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from engine.errors import CaseError, Finding, Location
from engine.service.deciding import Decided, decide_session, reopen
from engine.service.orders import orders_bundle, resources_in

HOOKS = {"order-sign": "draftOrders", "order-select": "draftOrders", "appointment-book": "appointments"}
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "coverage": "Coverage?patient={{context.patientId}}&status=active",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "imagingStudies": "ImagingStudy?patient={{context.patientId}}",
    "reports": "DiagnosticReport?patient={{context.patientId}}",
}


def services(crd: dict[str, Any]) -> dict[str, Any]:
    """The CDS Hooks discovery document."""
    source = crd.get("source", "Warrant")
    return {"services": [
        {"hook": hook, "id": f"warrant-{hook}", "title": f"{source}: prior authorization ({hook})",
         "description": "Says whether the ordered spine procedures need prior authorization, whether the "
                        "record on file already meets the policy, and which documentation is missing.",
         "prefetch": PREFETCH}
        for hook in HOOKS]}


def _bad(message: str, path: str = "") -> CaseError:
    text = f"{path}: {message}" if path else message
    return CaseError(text, findings=[Finding("invalid_hook_request", text, Location("hook"))])


def hook_orders(hook: str, request: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None]:
    """(the ServiceRequests to decide, the other resources, the patient id) of a hook request."""
    if request.get("hook") not in (None, hook):
        raise _bad(f"this service answers {hook}, not {request.get('hook')}", "hook")
    context = request.get("context")
    if not isinstance(context, dict):
        raise _bad("is required", "context")
    holder = context.get(HOOKS[hook])
    resources = list(resources_in(holder))
    prefetched = [r for value in (request.get("prefetch") or {}).values() for r in resources_in(value)]
    orders = [r for r in resources if r.get("resourceType") == "ServiceRequest"]
    if hook == "appointment-book":  # orders the appointments are based on, from the prefetch
        wanted = {str(ref.get("reference", "")).rsplit("/", 1)[-1]
                  for r in resources if r.get("resourceType") == "Appointment" for ref in r.get("basedOn") or []}
        orders += [r for r in prefetched if r.get("resourceType") == "ServiceRequest" and r.get("id") in wanted]
    if hook == "order-select" and context.get("selections"):
        chosen = {str(s).rsplit("/", 1)[-1] for s in context["selections"]}
        orders = [o for o in orders if o.get("id") in chosen]
    if not orders:
        raise _bad("holds no ServiceRequest to decide", f"context.{HOOKS[hook]}")
    _validate(orders)
    return orders, prefetched + [r for r in resources if r.get("resourceType") != "ServiceRequest"], \
        context.get("patientId")


def _validate(orders: list[dict[str, Any]]) -> None:
    """Every order must be a valid FHIR R4 ServiceRequest (the rest is checked by the importer)."""
    from engine.fhir import require_models
    from engine.fhir.models import validate_resource

    require_models("hook")
    problems = [f"ServiceRequest/{o.get('id', '?')}: {p.split(': ', 1)[-1]}" for o in orders
                for p in validate_resource(o)]
    if problems:
        raise CaseError(problems[0], findings=[Finding("invalid_hook_request", p, Location("hook"))
                                               for p in problems])


def decide_orders(kb, orders: list[dict[str, Any]], others: list[dict[str, Any]], patient_id: str | None,
                  key: str, system: str) -> tuple[Decided, Any]:
    """Decide draft orders; returns the decision and the session (its lines know their items)."""
    created = dt.date.today().isoformat()
    bundle = orders_bundle(orders, others, patient_id=patient_id, created=created, key=key,
                           identifier_system=system)
    session = reopen(kb, json.dumps(bundle), "orders.json")
    return decide_session(session), session


def decide_hook(kb, hook: str, body: str, decision_id: str, base: str) -> tuple[Decided, dict[str, Any], str]:
    """Decide a hook request: (the decision, the CDS Hooks response, the hook instance)."""
    try:
        request = json.loads(body)
    except ValueError as exc:
        raise _bad(f"the body is not JSON ({exc})") from None
    if not isinstance(request, dict):
        raise _bad("the body must be a CDS Hooks request object")
    orders, others, patient_id = hook_orders(hook, request)
    instance = str(request.get("hookInstance") or decision_id)
    decided, session = decide_orders(kb, orders, others, patient_id, instance, f"{base}/identifier/crd")
    return decided, answer(kb, decided, session, orders, decision_id, base), instance


def order_lines(decided: Decided, session) -> dict[int, list[dict[str, Any]]]:
    """The decision's lines grouped by the Claim item (= order, 1-based) they came from."""
    items = session.imported.items
    seq_of_line = {ln.id: items.get((ln.request, ln.procedure)) for ln in session.lines}
    out: dict[int, list[dict[str, Any]]] = {}
    for stage in decided.decision["stages"]:
        for line in stage["lines"]:
            line_id = f"{stage['stage']}:{line['code']}:{line['level'] or line['side'] or '-'}"
            seq = seq_of_line.get(line_id)
            if seq is not None:
                out.setdefault(seq, []).append(line)
    return out


def _state(kb, lines: list[dict[str, Any]]) -> str:
    roles = {v: k for k, v in kb.verdicts.items()}
    seen = {roles.get(line["verdict"], "undetermined") for line in lines}
    if seen == {"positive"}:
        return "satisfied"
    if any(line["missing_documentation"] for line in lines):
        return "documentation"
    if "undetermined" in seen:
        return "pended"
    return "denied"


def answer(kb, decided: Decided, session, orders: list[dict[str, Any]], decision_id: str,
           base: str) -> dict[str, Any]:
    """Cards and coverage-information updates, one per order."""
    from engine.fhir.mapping import load_map
    from engine.fhir.models import validate_resource

    from engine.cases import case_json_schema

    crd = load_map(kb.root).crd
    schema = case_json_schema(kb)
    grouped = order_lines(decided, session)
    cards, actions = [], []
    for seq, order in enumerate(orders, 1):
        lines = grouped.get(seq, [])
        state = _state(kb, lines) if lines else "pended"
        cards.append(_card(crd, order, lines, state, decision_id, base, schema))
        updated = {**order, "extension": [e for e in order.get("extension") or []
                                          if e.get("url") != crd["coverage_information"]]
                   + [_coverage_information(crd, lines, state, decision_id, base)]}
        problems = validate_resource(updated)
        if problems:
            raise RuntimeError("the CRD answer does not validate: " + "; ".join(problems[:3]))
        actions.append({"type": "update", "description": "coverage information", "resource": updated})
    return {"cards": cards, "systemActions": actions}


def _where(lines: list[dict[str, Any]]) -> str:
    places = [line["level"] or line["side"] for line in lines if line["level"] or line["side"]]
    return f" at {', '.join(places)}" if places else ""


def _code(order: dict[str, Any], lines: list[dict[str, Any]]) -> str:
    if lines:
        return lines[0]["code"]
    codings = (order.get("code") or {}).get("coding") or [{}]
    return str(codings[0].get("code", "the order"))


def _card(crd: dict[str, Any], order: dict[str, Any], lines: list[dict[str, Any]], state: str,
          decision_id: str, base: str, schema: dict[str, Any]) -> dict[str, Any]:
    """One card; `schema` is the JSON Schema of the kb's case format (for the questions' words)."""
    from engine.fhir.questionnaire import question_text

    missing = []
    for line in lines:
        for item in line["missing_documentation"]:
            words = question_text(schema, item["field"], item["item"])
            if words not in missing:
                missing.append(words)
    words = crd.get("detail", {})
    summary = crd["cards"][state].format(code=_code(order, lines), where=_where(lines), count=len(missing))
    detail = []
    reasons = [r["text"] for line in lines for r in line["reasons"]]
    if reasons and state != "documentation":
        detail.append(words.get("reasons", "Why:"))
        detail += [f"- {text}" for text in dict.fromkeys(reasons)]
    if missing:
        detail.append(words.get("missing", "Missing:"))
        detail += [f"- {text}" for text in missing]
        detail.append(words.get("questionnaire", ""))
    import uuid

    card = {"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base}/{decision_id}/{order.get('id', '')}")),
            "summary": summary[:140],
            "indicator": {"satisfied": "info", "documentation": "warning"}.get(state, "warning"),
            "source": {"label": crd.get("source", "Warrant")}, "detail": "\n".join(d for d in detail if d)}
    return card


def _coverage_information(crd: dict[str, Any], lines: list[dict[str, Any]], state: str, decision_id: str,
                          base: str) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"url": "coverage", "valueReference": {"display": "the patient's coverage"}},
                                   {"url": "covered", "valueCode": "covered"}]
    if state == "satisfied":
        parts.append({"url": "pa-needed", "valueCode": "satisfied"})
    else:
        parts.append({"url": "pa-needed", "valueCode": "auth-needed"})
    if state == "documentation":
        parts += [{"url": "doc-needed", "valueCode": "clinical"}, {"url": "doc-purpose", "valueCode": "withpa"},
                  {"url": "questionnaire", "valueCanonical": f"{base}/Questionnaire/warrant-dtr-{decision_id}"}]
    if state in ("denied", "pended"):
        texts = list(dict.fromkeys(r["text"] for line in lines for r in line["reasons"]))
        if texts:
            parts.append({"url": "reason", "valueCodeableConcept": {"text": "; ".join(texts)[:1000]}})
    parts.append({"url": "date", "valueDate": dt.date.today().isoformat()})
    parts.append({"url": "coverage-assertion-id", "valueString": decision_id})
    if state == "satisfied":
        parts.append({"url": "satisfied-pa-id", "valueString": decision_id})
    return {"url": crd["coverage_information"], "extension": parts}
