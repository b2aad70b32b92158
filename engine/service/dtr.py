"""Da Vinci DTR on the service: the questionnaire of a request's missing documentation, and
adaptive questioning (SDC `$next-question`) driven by the minimal documentation sets.

`$questionnaire-package` takes the DTR input Parameters: `context` (a stored decision's id, which
is CRD's coverage-assertion-id and the ClaimResponse's decision), or `order`s with the
`referenced` clinical resources (decided, and stored, like a CRD request). It answers with two
package Bundles: the full questionnaire of the missing documentation, and the adaptive one.

`$next-question` takes the QuestionnaireResponse so far (its contained adaptive Questionnaire
names the decision in `identifier`), applies the answers to the decision's case, decides again,
and appends the one question that can still change a verdict: a field from the smallest
documentation sets that would make an undetermined line medically necessary (why-not's minimal
sets, searched for the three undetermined lines that lack the least documentation), else the
field the most undetermined lines still lack. It stops (status `completed`) when every line is
decided or no question is left that could change one.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Iterable

from engine.errors import CaseError, Finding, Location, UsageError
from engine.service.deciding import Decided, decide_session, reopen

ADAPTIVE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-questionnaireAdaptive"
DECISION_SYSTEM = "/identifier/decision"
LINES_SEARCHED = 20  # open lines whose minimal documentation sets are searched per question (closest first)
VALUE_KEYS = ("valueBoolean", "valueDecimal", "valueInteger", "valueString", "valueDate", "valueCoding")


def minimal_fields(result: dict[str, Any]) -> list[tuple[int, list[str]]]:
    """Adapter over why-not's `minimal_sets`: (size, case fields) per set. The one place that
    knows their shape (`{size, facts: [{field, ...}], ...}`)."""
    out = []
    for found in result.get("minimal_sets") or []:
        fields = [f.get("field") for f in found.get("facts", []) if f.get("field")]
        if fields:
            out.append((int(found.get("size", len(fields))), fields))
    return out


def _bad(message: str, path: str = "") -> CaseError:
    text = f"{path}: {message}" if path else message
    return CaseError(text, findings=[Finding("invalid_dtr_request", text, Location("request"))])


# ------------------------------------------------------------------ $questionnaire-package
def package_parameters(text: str) -> dict[str, Any]:
    """The inputs of $questionnaire-package: context, orders, other resources."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _bad(f"the body is not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("resourceType") != "Parameters":
        raise _bad("$questionnaire-package takes a FHIR Parameters resource")
    from engine.fhir.models import validate_resource

    problems = validate_resource(data)
    if problems:
        raise CaseError(problems[0], findings=[Finding("invalid_dtr_request", p, Location("request"))
                                               for p in problems])
    out: dict[str, Any] = {"context": None, "orders": [], "others": []}
    for i, p in enumerate(data.get("parameter") or []):
        name = p.get("name") if isinstance(p, dict) else None
        resource = p.get("resource")
        if name == "context":
            out["context"] = p.get("valueString") or p.get("valueId")
        elif name == "order" and isinstance(resource, dict):
            out["orders"].append(resource)
        elif name in ("coverage", "referenced", "patient") and isinstance(resource, dict):
            from engine.service.orders import resources_in

            out["others"].extend(resources_in(resource))
        elif name == "questionnaire" and p.get("valueCanonical"):
            out.setdefault("questionnaires", []).append(p["valueCanonical"])
    if not out["context"] and not out["orders"]:
        raise _bad("give a `context` (the coverage-assertion-id of a CRD answer, or a decision id) or at least "
                   "one `order`", "parameter")
    return out


def questionnaires(decision: dict[str, Any], decision_id: str, base: str, created: str,
                   kb_root: Any) -> list[dict[str, Any]]:
    """The full questionnaire (every missing field) and the adaptive one (asks one at a time)."""
    from engine.fhir.questionnaire import documentation_questionnaire

    identifier = [{"system": base + DECISION_SYSTEM, "value": decision_id}]
    full = documentation_questionnaire(decision, f"warrant-docs-{decision_id}", created, kb_root=kb_root)
    out = []
    if full is not None:
        full["url"] = f"{base}/Questionnaire/{full['id']}"
        full["identifier"] = identifier
        out.append(full)
    out.append({"resourceType": "Questionnaire", "id": f"warrant-dtr-{decision_id}",
                "url": f"{base}/Questionnaire/warrant-dtr-{decision_id}",
                "extension": [{"url": ADAPTIVE, "valueBoolean": True}],
                "identifier": identifier, "name": "WarrantAdaptiveDocumentation",
                "title": "Documentation that can still change the determination, one question at a time",
                "status": "active", "subjectType": ["Patient"], "date": created})
    return out


def package(questionnaire_list: list[dict[str, Any]]) -> dict[str, Any]:
    from engine.fhir.models import validate_resource

    params = {"resourceType": "Parameters", "parameter": [
        {"name": "PackageBundle", "resource": {"resourceType": "Bundle", "type": "collection",
                                               "entry": [{"fullUrl": q["url"], "resource": q}]}}
        for q in questionnaire_list]}
    problems = validate_resource(params)
    if problems:
        raise RuntimeError("the DTR package does not validate: " + "; ".join(problems[:3]))
    return params


# ------------------------------------------------------------------ $next-question
def response_of(text: str) -> dict[str, Any]:
    """The QuestionnaireResponse of a $next-question body (bare, or in Parameters)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _bad(f"the body is not JSON ({exc})") from None
    if isinstance(data, dict) and data.get("resourceType") == "Parameters":
        data = next((p.get("resource") for p in data.get("parameter") or []
                     if isinstance(p, dict) and isinstance(p.get("resource"), dict)), None)
    if not isinstance(data, dict) or data.get("resourceType") != "QuestionnaireResponse":
        raise _bad("$next-question takes a QuestionnaireResponse (or Parameters holding one)")
    from engine.fhir.models import validate_resource

    problems = validate_resource(data)
    if problems:
        raise CaseError(problems[0], findings=[Finding("invalid_dtr_request", p, Location("request"))
                                               for p in problems])
    return data


def contained_questionnaire(qr: dict[str, Any]) -> dict[str, Any]:
    ref = str(qr.get("questionnaire", "")).lstrip("#")
    for resource in qr.get("contained") or []:
        if resource.get("resourceType") == "Questionnaire" and (not ref or resource.get("id") == ref):
            return resource
    raise _bad("must contain the adaptive Questionnaire it answers (from $questionnaire-package)", "contained")


def decision_id_of(qr: dict[str, Any]) -> str:
    for identifier in contained_questionnaire(qr).get("identifier") or []:
        if str(identifier.get("system", "")).endswith(DECISION_SYSTEM) and identifier.get("value"):
            return str(identifier["value"])
    raise _bad("the contained Questionnaire names no decision (identifier)", "contained[0].identifier")


def _answers(items: Iterable[dict[str, Any]]) -> Iterable[tuple[str, list[Any]]]:
    for item in items or []:
        values = []
        for answer in item.get("answer") or []:
            for key in VALUE_KEYS:
                if key in answer:
                    value = answer[key]
                    values.append(value.get("code") if key == "valueCoding" else value)
            yield from _answers(answer.get("item") or [])
        if values:
            yield item.get("linkId", ""), values
        yield from _answers(item.get("item") or [])


def concrete(case: dict[str, Any], field: str) -> str | None:
    """A field path with `[]` (any entry) and `*` (any key) resolved against the case: the first
    entry or key there is; None when the case has none (the question does not apply)."""
    node: Any = case
    out = []
    for part in field.split("."):
        name, bracket, _ = part.partition("[")
        if name == "*":
            if not isinstance(node, dict) or not node:
                return None
            name = next(iter(node))
        node = node.get(name) if isinstance(node, dict) else None
        if bracket:
            if part.endswith("[]"):
                if not isinstance(node, list) or not node:
                    return None
                out.append(f"{name}[0]")
                node = node[0]
            else:
                index = int(part[len(name) + 1:-1])
                out.append(part)
                node = node[index] if isinstance(node, list) and index < len(node) else None
        else:
            out.append(name)
    return ".".join(out)


def apply_answers(case: dict[str, Any], qr: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The case with the response's answers set, and the fields answered."""
    from engine.authoring.whatif import Edit, apply_edit, parse_path

    repeats = {item.get("linkId"): bool(item.get("repeats"))
               for item in contained_questionnaire(qr).get("item") or []}
    changed = copy.deepcopy(case)
    answered = set()
    for link, values in _answers(qr.get("item") or []):
        path = concrete(changed, link)
        if path is None:
            raise _bad("the case has nothing this question could apply to", f"item[{link}]")
        value = values if repeats.get(link) else values[0]
        try:
            apply_edit(changed, Edit("set", path, parse_path(path), value))
        except UsageError as exc:
            raise _bad(str(exc.findings[0].message), f"item[{link}]") from None
        answered.add(link)
    return changed, answered


def next_field(session, decided: Decided, skip: set[str]) -> str | None:
    """The question that can still change a verdict, or None."""
    from engine.decide.decision import line_verdict
    from engine.decide.whynot import explain_absence
    from engine.knowledge.interface import DOC_REQUEST

    kb = session.kb
    case = decided.case
    # the lines documentation can still change are those the kb requests documentation for
    requesting = {row[0] for row in session.derived.get(DOC_REQUEST, ())}
    open_lines = [ln for ln in session.lines if ln.id in requesting]
    missing = {f"{s['stage']}:{ln['code']}:{ln['level'] or ln['side'] or '-'}": len(ln["missing_documentation"])
               for s in decided.decision["stages"] for ln in s["lines"]}
    scores: dict[str, tuple[int, int]] = {}
    # the why-not search is the costly part: only for the lines closest to being decided
    for line in sorted(open_lines, key=lambda ln: (missing.get(ln.id, 0), ln.id))[:LINES_SEARCHED]:
        result = explain_absence(session, line, kb.verdicts["positive"], line_verdict(session, line), tree=False)
        for size, fields in minimal_fields(result):
            for field in fields:
                best, count = scores.get(field, (size, 0))
                scores[field] = (min(best, size), count + 1)
    usable = [f for f in scores if f not in skip and concrete(case, f) is not None]
    if usable:
        return min(usable, key=lambda f: (scores[f][0], -scores[f][1], f))
    requests = decided.decision.get("documentation_requests") or []
    open_ids = {ln.id for ln in open_lines}
    fallback = [(-len(set(e["unblocks"]) & open_ids), e["field"]) for e in requests
                if set(e["unblocks"]) & open_ids and e["field"] not in skip and concrete(case, e["field"]) is not None]
    return min(fallback)[1] if fallback else None


def next_question(kb, qr: dict[str, Any], stored_case: dict[str, Any], decision_id: str, base: str,
                  created: str) -> tuple[Decided, dict[str, Any]]:
    """Apply the answers, decide, and return the response with the next question (or completed)."""
    from engine.fhir.questionnaire import documentation_questionnaire

    case, answered = apply_answers(stored_case, qr)
    session = reopen(kb, json.dumps(case), "answers.json")
    decided = decide_session(session)
    questionnaire = copy.deepcopy(contained_questionnaire(qr))
    asked = {item.get("linkId") for item in questionnaire.get("item") or []}
    field = next_field(session, decided, asked | answered)
    out = copy.deepcopy(qr)
    if field is None:
        out["status"] = "completed"
    else:
        item = documentation_questionnaire(decided.decision, "next", created, kb_root=kb.root,
                                           fields=[field], case_schema=kb.case_schema)["item"][0]
        questionnaire.setdefault("item", []).append(item)
        out["status"] = "in-progress"
    out["contained"] = [questionnaire if r is contained_questionnaire(qr) else r for r in qr.get("contained") or []]
    from engine.fhir.models import validate_resource

    problems = validate_resource(out)
    if problems:
        raise RuntimeError("the next-question answer does not validate: " + "; ".join(problems[:3]))
    return decided, out
