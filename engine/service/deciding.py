"""Deciding one request in the service: text in, decision, normalised case and outcome out.

These functions run on the worker's decision thread (see `decider.py`): pyDatalog keeps its
program per thread, so every call that touches the kb stays on that one thread.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.decide.decision import decide
from engine.decide.session import CaseSession
from engine.inputs import open_session


@dataclass
class Decided:
    session: CaseSession
    decision: dict[str, Any]
    case: dict[str, Any]
    outcome: str


def case_data(session: CaseSession) -> dict[str, Any]:
    """The normalised warrant-case/1 data of a session (what an imported bundle became)."""
    if session.imported is not None:
        return session.imported.case
    case = session.case
    if hasattr(case, "to_data"):
        return case.to_data()
    return case.model_dump(mode="json", exclude_none=True)


def outcome_of(kb, decision: dict[str, Any]) -> str:
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


def decide_session(session: CaseSession) -> Decided:
    decision = decide(session)
    return Decided(session, decision, case_data(session), outcome_of(session.kb, decision))


def decide_text(kb, text: str, name: str) -> Decided:
    """Open `text` (a case in YAML or JSON, or a FHIR bundle) as `name` and decide it; raises
    CaseError with every finding when it is invalid."""
    return decide_session(open_session(kb, name, text=text))


def reopen(kb, text: str, name: str) -> CaseSession:
    """A session for a stored request or case, to explain a stored decision."""
    return open_session(kb, name, text=text)
