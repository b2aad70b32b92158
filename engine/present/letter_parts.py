"""A case whose stages are decided by different policy versions (`--policy`, dates of service):
each stage's determinations, answers and explanations come from the session of its own version
(`CaseSession.parts`, `for_stage`). The letter reads them through these functions, so a case
decided under one policy and one decided stage by stage read the same way."""
from __future__ import annotations

from typing import Any

from engine.decide.determination import Determination, determine


def stage_parts(session) -> dict[Any, Any]:
    """Stage -> the session deciding it; empty when one session decides every stage."""
    if not getattr(session, "parts", None):
        return {}
    return {stage: session.for_stage(stage) for stage in session.policies}


def determinations(session) -> list[Determination]:
    """Every determination of the case, each stage's from its own policy version."""
    parts = stage_parts(session)
    if not parts:
        return determine(session)
    found: dict[Any, list[Determination]] = {}
    for part in {id(p): p for p in parts.values()}.values():
        for d in determine(part, stages={stage for stage, p in parts.items() if p is part}):
            found.setdefault(d.stage, []).append(d)
    return [d for request in session.document.get("requests", []) for d in found.pop(request.get("stage"), [])]


def rows(session, key: tuple[str, int]) -> list[tuple]:
    """A derived predicate's answers about lines (first argument a line id), each line's from
    the session of its stage."""
    parts = stage_parts(session)
    if not parts:
        return [tuple(r) for r in session.derived.get(key, ())]
    stage_of = {line.id: line.stage for line in session.lines}
    out: list[tuple] = []
    for part in {id(p): p for p in parts.values()}.values():
        out += [tuple(r) for r in part.derived.get(key, ()) if parts.get(stage_of.get(r[0])) is part]
    return out


def session_of(session, line_id: str):
    """The session that decides a line."""
    parts = stage_parts(session)
    if not parts:
        return session
    stage = next((line.stage for line in session.lines if line.id == line_id), None)
    return parts.get(stage, session)
