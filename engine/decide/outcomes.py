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

from engine.decide.determination import Determination, determine


def policy_determinations(session, **options: Any) -> dict[str, dict[str, Any]]:
    """`determinations`, each stage's from the session of the policy version that decides it."""
    if not session.parts:
        return _determinations(session, **options)
    out: dict[str, dict[str, Any]] = {}
    for stage, choice in session.policies.items():
        out.update(_determinations(session.parts[choice.key], stages={stage}, **options))
    return out


def determinations(session, **options: Any) -> dict[str, dict[str, Any]]:
    """Every determination of the case (a case whose stages are decided by different policy
    versions: each stage's from its own version)."""
    if session.parts:
        return policy_determinations(session, **options)
    return _determinations(session, **options)


def _determinations(session, *, missing: bool = False, watch: set[str] | None = None,
                    stages: Any = None) -> dict[str, dict[str, Any]]:
    """Every determination of the session's case as a flat record, keyed by line id, `stage:N`
    and `admission:N`: the same walk `decide` makes (engine.decide.determination), so the rules
    listed are the decision's reasons. `missing` adds each line's missing documentation fields;
    `watch` adds the proof traces a kb diff needs (see `determine`)."""
    return {found.key: record(found, missing) for found in determine(session, missing=missing, watch=watch,
                                                                stages=stages)}


def record(found: Determination, missing: bool = True) -> dict[str, Any]:
    """One determination in the flat shape the authoring tools compare."""
    out: dict[str, Any] = {"kind": found.kind, "stage": found.stage, "code": found.code,
                           "verdict": found.verdict, "basis": found.basis, "rules": found.rule_ids}
    if found.kind == "line" and missing:
        out["missing"] = [m["field"] for m in found.missing]
        # the gaps it only inherits from the line it depends on (`via`), which count as that line's
        out["inherited"] = [m["field"] for m in found.missing if "via" in m]
    if found.kind == "admission":
        out["supported_days"] = found.supported_days
        out["requested_days"] = found.requested_days
    out.update(found.trace)
    return out


def brief(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """A determination reduced to what a change report compares: verdict, basis, supported days."""
    if record is None:
        return None
    out = {"verdict": record["verdict"], "basis": record.get("basis")}
    if record["kind"] == "admission":
        out["supported_days"] = record.get("supported_days")
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


DEPENDENT_BASIS = "dependent"
"""The basis of a line held to the verdict of the line it depends on (DESIGN.md §4): an add-on,
counted apart in population figures."""


def decision_outcome(kb, decision: dict[str, Any]) -> str:
    """approved, denied, partial or pended, from the verdicts of every line and admission."""
    roles = {verdict: role for role, verdict in kb.verdicts.items()}
    seen = set()
    for stage in decision.get("stages", []):
        for line in stage.get("lines", []):
            seen.add(roles.get(line["verdict"], "undetermined"))
        if stage.get("admission"):
            seen.add(roles.get(stage["admission"]["verdict"], "undetermined"))
    if "undetermined" in seen or not seen:
        return "pended"
    if seen == {"positive"}:
        return "approved"
    if seen == {"negative"}:
        return "denied"
    return "partial"


def policy_of(kb, decision: dict[str, Any], stage: dict[str, Any] | None = None) -> str:
    """`id@version` of the policy a stage (or decision) was decided under: the stage's own
    `policy` object where the decision has one (dated policies), else the knowledge base's name
    and the version the decision records."""
    for holder in (stage or {}, decision):
        policy = holder.get("policy")
        if isinstance(policy, dict) and policy.get("id"):
            return f"{policy['id']}@{policy.get('version', '')}".rstrip("@")
    version = decision.get("knowledge_base", {}).get("version", "")
    return f"{kb.meta.get('name', 'warrant')}@{version}".rstrip("@")
