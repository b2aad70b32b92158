"""Determinations as flat records, for the authoring tools that compare them.

Rule tests, what-if, kb diff and corpus summaries all ask the same questions of a case: for
each line, stage and admission, what is the verdict and basis, which rules are its reasons,
and (sometimes) which documentation is missing. This module answers them in one shape:

    {"2:22633:L4-5": {"kind": "line", "stage": 2, "code": "22633", "verdict": ..., "basis": ...,
                      "rules": ["verdict.undocumented", ...], "missing": ["exam.correlates_with_imaging"]},
     "stage:2":      {"kind": "stage", "stage": 2, "verdict": ...},
     "admission:2":  {"kind": "admission", "stage": 2, "verdict": ..., "basis": ..., "supported_days": 3,
                      "rules": [...]}}
"""
from __future__ import annotations

from typing import Any

from engine.knowledge.interface import CRITERION_MET, CRITERION_UNMET

def line_key(stage: Any, code: str, level: str | None, side: str | None) -> str:
    return f"{stage}:{code}:{level or side or '-'}"


def determinations(session, *, missing: bool = False, watch: set[str] | None = None) -> dict[str, dict[str, Any]]:
    """Every determination of the session's case, keyed by line id, `stage:N`, `admission:N`.

    With `missing`, the full decision is computed (documentation requests included) and each
    line carries the `field`s of its missing documentation; without it only verdicts and
    reasons are computed, which is several times faster. With `watch` (ground atoms written as
    `threshold(translation_mm, 3)`), each line and admission also lists `proof_rules` (every
    rule id in its proof and in the proofs of its met and unmet criteria), `criterion_rules`
    (the rule ids of those criterion proofs alone) and `kb_facts` (the watched atoms these
    proofs use).
    """
    if missing:
        from engine.decide.decision import decide

        return from_decision(decide(session))
    return _light(session, watch)


def from_decision(decision: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The flat records of a `decide()` result."""
    out: dict[str, dict[str, Any]] = {}
    for stage in decision["stages"]:
        number = stage["stage"]
        for line in stage["lines"]:
            key = line_key(number, line["code"], line["level"], line["side"])
            out[key] = {"kind": "line", "stage": number, "code": line["code"], "verdict": line["verdict"],
                        "basis": line["basis"], "rules": _rule_ids(line["reasons"]),
                        "missing": [m["field"] for m in line["missing_documentation"]]}
        if "admission" in stage:
            adm = stage["admission"]
            out[f"admission:{number}"] = {"kind": "admission", "stage": number, "code": "admission",
                                          "verdict": adm["verdict"], "basis": adm["basis"],
                                          "supported_days": adm.get("supported_days"),
                                          "requested_days": adm.get("requested_days"),
                                          "rules": _rule_ids(adm["reasons"])}
        out[f"stage:{number}"] = {"kind": "stage", "stage": number, "code": "stage",
                                  "verdict": stage["verdict"], "basis": None, "rules": []}
    return out


def brief(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """A determination reduced to what a change report compares: verdict, basis, supported days."""
    if record is None:
        return None
    out = {"verdict": record["verdict"], "basis": record.get("basis")}
    if record["kind"] == "admission":
        out["supported_days"] = record.get("supported_days")
    return out


def _rule_ids(reasons: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for reason in reasons:
        if reason["rule"] not in out:
            out.append(reason["rule"])
    return out


def _light(session, watch: set[str] | None = None) -> dict[str, dict[str, Any]]:
    from engine.decide.decision import ADMISSION_VERDICT, LINE_VERDICT, interface_answers, kb_incomplete
    from engine.explain.trees import reasons

    kb = session.kb
    verdicts, stage_verdicts, admissions, supported = interface_answers(session)
    explainer = session.explainer
    out: dict[str, dict[str, Any]] = {}

    traces: dict[tuple, dict[str, list[str]]] = {}
    # A verdict's proof may reach its criteria only through negations (e.g. "no criterion is
    # undocumented"), so a trace also walks the proofs of the line's met and unmet criteria.
    criteria: dict[Any, list[tuple]] = {}
    if watch is not None:
        for key in (CRITERION_MET, CRITERION_UNMET):
            for row in sorted(session.derived.get(key, ()), key=lambda r: [str(v) for v in r]):
                criteria.setdefault(row[0], []).append((key, tuple(row)))

    known = set(kb.rules_by_id) if watch is not None else set()

    def rule_ids(key, row) -> list[str]:
        proof = explainer.why(key, row)
        ids: list[str] = []
        for node in reasons(proof, kb.reason_predicates):
            if node.rule not in ids:
                ids.append(node.rule)
        if watch is not None:
            rules: list[str] = []
            facts: list[str] = []
            criterion_rules: list[str] = []
            proofs = [(proof, False)] + [(explainer.why(k, r), True) for k, r in criteria.get(row[0], [])]
            for tree, of_criterion in proofs:
                for node in tree.walk():
                    if node.rule in known and node.rule not in rules:
                        rules.append(node.rule)
                    if of_criterion and node.rule in known and node.rule not in criterion_rules:
                        criterion_rules.append(node.rule)
                    if node.label in watch and node.label not in facts:
                        facts.append(node.label)
            traces[(key, row)] = {"proof_rules": rules, "criterion_rules": criterion_rules, "kb_facts": facts}
        return ids

    def traced(record: dict[str, Any], key, row) -> dict[str, Any]:
        record["rules"] = rule_ids(key, row)
        record.update(traces.get((key, row), {}))
        return record

    for request in session.document.get("requests", []):
        number = request.get("stage")
        for line in (ln for ln in session.lines if ln.stage == number):
            if line.id not in verdicts:
                raise kb_incomplete(f"line {line.id} gets no line_verdict/3")
            verdict, basis = verdicts[line.id]
            out[line.id] = traced({"kind": "line", "stage": number, "code": line.code, "verdict": verdict,
                                   "basis": basis}, LINE_VERDICT, (line.id, verdict, basis))
        if number in admissions:
            verdict, basis = admissions[number]
            out[f"admission:{number}"] = traced({"kind": "admission", "stage": number, "code": "admission",
                                                 "verdict": verdict, "basis": basis,
                                                 "supported_days": supported.get(number),
                                                 "requested_days": request.get("length_of_stay_days")},
                                                ADMISSION_VERDICT, (number, verdict, basis))
        if number not in stage_verdicts:
            raise kb_incomplete(f"stage {number} gets no stage_verdict/2")
        out[f"stage:{number}"] = {"kind": "stage", "stage": number, "code": "stage",
                                  "verdict": stage_verdicts[number],
                                  "basis": None, "rules": []}
    return out


def describe(record: dict[str, Any] | None) -> str:
    """`verdict (basis), N days supported` for a change report; `(not requested)` for a
    determination one side does not have."""
    if record is None:
        return "(not requested)"
    text = record["verdict"] + (f" ({record['basis']})" if record.get("basis") else "")
    if record.get("supported_days") is not None:
        text += f", {record['supported_days']} days supported"
    return text


def same(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Whether two records are the same determination (verdict, basis, supported days)."""
    if a is None or b is None:
        return a is b
    return (a["verdict"], a.get("basis"), a.get("supported_days")) == \
        (b["verdict"], b.get("basis"), b.get("supported_days"))
