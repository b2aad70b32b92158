"""Decisions (the decision JSON of docs/kb-contract.md and the README): verdicts from pyDatalog, reasons and missing documentation from proofs.

This module knows the *shape* of a decision (stages, lines, admissions, requests) and the names
of the kb's interface predicates; what any verdict means is decided by the kb's clauses.
"""
from __future__ import annotations

from typing import Any

from engine.decide.determination import Determination, determine, interface_answers, kb_incomplete
from engine.decide.session import CaseSession
from engine.explain.node import node_id
from engine.knowledge.interface import ADMISSION_VERDICT, LINE_VERDICT


def decide(session: CaseSession, *, explain: bool = False) -> dict[str, Any]:
    """The decision for one case as plain data, deterministic for the same case, policy and date.

    Each stage records the policy version that decided it (`policy`); when stages are decided
    by different versions, each stage comes from its own version's decision."""
    if session.parts:
        return _decide_parts(session, explain)
    return _decide_one(session, explain)


def _decide_parts(session: CaseSession, explain: bool) -> dict[str, Any]:
    """Each version's session decides (and explains) only the stages that version is chosen for;
    the decision lists the citations of those stages' reasons alone."""
    decisions = {key: _decide_one(part, explain, _stages_of(session, key)) for key, part in session.parts.items()}
    first = decisions[next(iter(decisions))]
    stages, merged, citations = [], {}, {}
    for choice_stage, choice in session.policies.items():
        decision = decisions[choice.key]
        stages += [s for s in decision["stages"] if s["stage"] == choice_stage]
    keys = {f"{s['stage']}:" for s in stages}
    for decision in decisions.values():
        for request in decision["documentation_requests"]:
            unblocks = [u for u in request["unblocks"] if any(u.startswith(k) for k in keys)
                        and session.policies.get(int(u.split(":")[0])) is not None
                        and decisions[session.policies[int(u.split(":")[0])].key] is decision]
            if unblocks:
                entry = merged.setdefault(request["field"], {**request, "unblocks": []})
                entry["unblocks"] += [u for u in unblocks if u not in entry["unblocks"]]
        citations.update({c["id"]: c for c in decision["citations"]})
    return {**first, "stages": stages,
            "documentation_requests": sorted(merged.values(), key=lambda e: e["field"]),
            "citations": [citations[c] for c in sorted(citations)]}


def _stages_of(session: CaseSession, key: Any) -> set[Any]:
    return {stage for stage, choice in session.policies.items() if choice.key == key}


def _decide_one(session: CaseSession, explain: bool, only: Any = None) -> dict[str, Any]:
    kb = session.kb
    merged: dict[str, dict[str, Any]] = {}
    cited: set[str] = set()
    stages: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    admission: dict[str, Any] | None = None
    for found in determine(session, stages=only):  # each stage's lines, its admission, then the stage itself
        cited.update(found.citations)
        if found.kind == "line":
            lines.append(_line_entry(found, kb, explain))
            _merge_requests(merged, found)
        elif found.kind == "admission":
            admission = {"verdict": found.verdict, "basis": found.basis, "requested_days": found.requested_days,
                         "supported_days": found.supported_days, "reasons": found.reasons,
                         "proof": found.proof.id}
        else:
            stage: dict[str, Any] = {"stage": found.stage, "verdict": found.verdict}
            record = session.policy_record(found.stage)
            if record is not None:
                stage["policy"] = record
            if admission is not None:
                stage["admission"] = admission
            stage["lines"] = lines
            stages.append(stage)
            lines, admission = [], None
    documentation_requests = sorted(merged.values(), key=lambda e: e["field"])
    citations = [{"id": c, "title": kb.citations.get(c, {}).get("title", ""),
                  "source": kb.citations.get(c, {}).get("source", "")} for c in sorted(cited)]
    return {"case_id": session.case_id,
            "knowledge_base": {"version": kb.version, "digest": kb.digest},
            "stages": stages, "documentation_requests": documentation_requests, "citations": citations}


def _line_entry(found: Determination, kb, explain: bool) -> dict[str, Any]:
    line = found.line
    entry = {"code": line.code, "label": kb.code_labels.get(line.code, kb.meta.get("unknown_code_label")),
             "level": line.level, "side": line.side, "verdict": found.verdict, "basis": found.basis,
             "reasons": found.reasons, "missing_documentation": found.missing, "criteria": found.criteria,
             "proof": found.proof.id}
    if explain:
        entry["explanation"] = found.proof.to_dict()
    return entry


def _merge_requests(merged: dict[str, dict[str, Any]], found: Determination) -> None:
    """One documentation request per field, naming every line it would unblock."""
    for item in found.missing:
        request = merged.setdefault(item["field"], {"item": item["item"], "field": item["field"],
                                                    "unblocks": []})
        if found.key not in request["unblocks"]:
            request["unblocks"].append(found.key)


def proof_index(session: CaseSession, decision: dict[str, Any]) -> dict[str, tuple]:
    """Map each proof id of a decision back to the conclusion it proves."""
    index = {}
    for stage in decision["stages"]:
        lines = [ln for ln in session.lines if ln.stage == stage["stage"]]  # the order decide() used
        for line, entry in zip(lines, stage["lines"]):
            index[entry["proof"]] = (LINE_VERDICT, (line.id, entry["verdict"], entry["basis"]))
        if "admission" in stage:
            adm = stage["admission"]
            index[adm["proof"]] = (ADMISSION_VERDICT, (stage["stage"], adm["verdict"], adm["basis"]))
    return index


__all__ = ["decide", "find_line", "interface_answers", "line_verdict", "proof_index", "node_id"]


def find_line(session: CaseSession, code: str, level: str | None = None, side: str | None = None,
              stage: int | None = None):
    """The one requested line a command names; a usage error lists the choices otherwise."""
    from engine.errors import UsageError

    code = code.lstrip("+")
    wanted_level = _normal_level(session.kb.levels, level) if level else None
    matches = [ln for ln in session.lines if ln.code == code
               and (stage is None or ln.stage == stage)
               and (wanted_level is None or ln.level == wanted_level)
               and (side is None or ln.side == side)]
    if len(matches) == 1:
        return matches[0]
    choices = ", ".join(_describe(ln) for ln in session.lines if ln.code == code) or "none"
    if not matches:
        raise UsageError(f"case {session.case_id} has no line {code}"
                         f"{' at ' + wanted_level if wanted_level else ''}{' on the ' + side + ' side' if side else ''}"
                         f"{' in stage ' + str(stage) if stage is not None else ''}; lines with this code: {choices}")
    raise UsageError(f"{code} names several lines in case {session.case_id} ({choices}); "
                     "choose one with --level, --side or --stage")


def _describe(line) -> str:
    where = line.level or line.side
    return f"stage {line.stage}" + (f" {where}" if where else " (no level)")


def _normal_level(levels, text: str) -> str:
    try:
        return levels.normalise(text)
    except Exception:
        return text


def line_verdict(session: CaseSession, line) -> tuple[str, str]:
    answers = session.evaluate(["line_verdict"])["line_verdict"]
    for row in answers:
        if row[0] == line.id:
            return row[1], row[2]
    raise kb_incomplete(f"line {line.id} gets no line_verdict/3")
