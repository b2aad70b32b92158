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
    from engine.decide.outcomes import decision_outcome

    return decision_outcome(kb, decision)


def decide_session(session: CaseSession) -> Decided:
    decision = decide(session)
    return Decided(session, decision, case_data(session), outcome_of(session.kb, decision))


def decide_text(kb, text: str, name: str, policy: str | None = None, as_of: Any = None) -> Decided:
    """Open `text` (a case in YAML or JSON, or a FHIR bundle) as `name` and decide it under the
    policy `policy`/`as_of` and the case choose (POLICIES.md section 4); raises CaseError with
    every finding when it is invalid."""
    return decide_session(open_session(kb, name, text=text, policy=policy, as_of=as_of))


def reopen(kb, text: str, name: str, decision: dict[str, Any] | None = None) -> CaseSession:
    """A session for a stored request or case, to explain (or replay) a stored decision: under
    the policy versions that decision recorded."""
    policy, as_of = recorded_selection(decision or {})
    return open_session(kb, name, text=text, policy=policy, as_of=as_of)


def recorded_selection(decision: dict[str, Any]) -> tuple[str | None, Any]:
    """`--policy` and `--as-of` that reproduce a decision's recorded policy versions: the version
    pinned when every stage had the same one; else the id, with the recorded day when it did not
    come from the case's own dates."""
    import datetime as dt

    records = [s["policy"] for s in decision.get("stages", []) if isinstance(s.get("policy"), dict)]
    if not records:
        return None, None
    versions = {(r["id"], r["version"]) for r in records}
    if len(versions) == 1:
        (policy_id, version), = versions
        return f"{policy_id}@{version}", None
    fixed = next((r["as_of"] for r in records if r.get("as_of_from") in ("option", "today")), None)
    return records[0]["id"], dt.date.fromisoformat(fixed) if fixed else None
