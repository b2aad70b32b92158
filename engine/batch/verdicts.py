"""Verdicts only (`warrant batch --verdicts-only`): the decision JSON without what proofs give.

A verdict-only line is the full decision (`engine.decide.decision.decide`) with the parts that
need a proof left out: the same keys in the same order, holding `case_id`, `knowledge_base` and,
per stage, its verdict, `policy`, `admission` (verdict, basis, requested and supported days) and
lines (code, label, level, side, verdict, basis). No reasons, missing documentation, criteria,
proof ids, documentation requests or citations: those come from proofs and the criteria walk,
which cost more than the verdicts themselves.

The evaluation asks pyDatalog for the verdict predicates alone (the strata they read), so a
rule that only feeds reasons or documentation requests is not evaluated for the case.
"""
from __future__ import annotations

from typing import Any

from engine.decide.determination import kb_incomplete
from engine.knowledge.interface import ADMISSION_SUPPORTED_DAYS, ADMISSION_VERDICT, LINE_VERDICT, STAGE_VERDICT

VERDICT_DEMAND = (LINE_VERDICT, STAGE_VERDICT, ADMISSION_VERDICT, ADMISSION_SUPPORTED_DAYS)


def verdicts(session: Any) -> dict[str, Any]:
    """The verdict-only decision of a session opened by `engine.inputs.open_session`: each stage
    from the session of the policy version that decides it, as `decide` does."""
    kb = session.kb
    answers: dict[int, tuple[dict, dict, dict, dict]] = {}
    stages = []
    for request in session.document.get("requests", []):
        number = request.get("stage")
        part = session.for_stage(number)
        found = answers.get(id(part))
        if found is None:
            found = answers[id(part)] = _answers(part)
        stages.append(_stage(session, part, number, request, found))
    return {"case_id": session.case_id, "knowledge_base": {"version": kb.version, "digest": kb.digest},
            "stages": stages}


def _answers(session: Any) -> tuple[dict, dict, dict, dict]:
    """Line, stage and admission verdicts and supported days of the session's case, keyed."""
    from engine.evaluate.answers import Answers

    derived = Answers(session.kb.program, session.facts, VERDICT_DEMAND)
    return ({row[0]: (row[1], row[2]) for row in derived.get(LINE_VERDICT, ())},
            {row[0]: row[1] for row in derived.get(STAGE_VERDICT, ())},
            {row[0]: (row[1], row[2]) for row in derived.get(ADMISSION_VERDICT, ())},
            {row[0]: row[1] for row in derived.get(ADMISSION_SUPPORTED_DAYS, ())})


def _stage(session: Any, part: Any, number: Any, request: dict[str, Any], found: tuple) -> dict[str, Any]:
    lines, stage_verdicts, admissions, supported = found
    labels, unknown = part.kb.code_labels, part.kb.meta.get("unknown_code_label")
    entries = []
    for line in part.lines:
        if line.stage != number:
            continue
        if line.id not in lines:
            raise kb_incomplete(f"line {line.id} gets no line_verdict/3")
        verdict, basis = lines[line.id]
        entries.append({"code": line.code, "label": labels.get(line.code, unknown), "level": line.level,
                        "side": line.side, "verdict": verdict, "basis": basis})
    if number not in stage_verdicts:
        raise kb_incomplete(f"stage {number} gets no stage_verdict/2")
    stage: dict[str, Any] = {"stage": number, "verdict": stage_verdicts[number]}
    record = session.policy_record(number)
    if record is not None:
        stage["policy"] = record
    if number in admissions:
        verdict, basis = admissions[number]
        stage["admission"] = {"verdict": verdict, "basis": basis,
                              "requested_days": request.get("length_of_stay_days"),
                              "supported_days": supported.get(number)}
    stage["lines"] = entries
    return stage
