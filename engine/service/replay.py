"""`warrant replay`: decide stored requests again and say what differs.

Each stored request is opened as it was decided (the body for the API and PAS, the normalised
case for CRD and DTR) and decided with the knowledge base given; every line and admission whose
verdict or basis differs from the stored one is reported. With the kb the decision was made with
(same digest) a difference is a bug (decisions are deterministic); with a changed kb it is
exactly the set of decisions the change would change. Nothing is written to the store, but the
reads are audited.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from engine.errors import WarrantError
from engine.service.explaining import session_of
from engine.service.deciding import decide_session
from engine.service.store.records import line_rows


@dataclass
class Replayed:
    id: str
    case_id: str
    recorded: dict[str, str]            # the policy id, version and digest recorded
    changes: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.changes) or self.error is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "case_id": self.case_id, "recorded_policy": self.recorded,
                               "changed": self.changed, "changes": self.changes}
        if self.error:
            out["error"] = self.error
        return out


def _by_line(decision: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["line_id"]: row for row in line_rows(0, decision)}


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Every line or admission whose verdict or basis differs (or that appears or disappears)."""
    old, new = _by_line(before), _by_line(after)
    changes = []
    for line_id in list(old) + [k for k in new if k not in old]:
        a, b = old.get(line_id), new.get(line_id)
        pair = lambda row: None if row is None else {"verdict": row["verdict"], "basis": row["basis"]}  # noqa: E731
        if pair(a) != pair(b):
            changes.append({"line": line_id, "before": pair(a), "after": pair(b)})
    return changes


def replay_one(kb, stored) -> Replayed:
    result = Replayed(stored.id, stored.case_id, stored.policy)
    try:
        decided = decide_session(session_of(kb, stored))
    except WarrantError as exc:
        result.error = f"{exc.code}: {exc.findings[0].message if exc.findings else exc}"
        return result
    result.changes = compare(stored.decision, decided.decision)
    return result


def replay(kb, store, ids: Iterable[str] | None = None) -> Iterable[Replayed]:
    """Replay the named decisions (all of them, in storing order, when `ids` is None)."""
    from engine.service.store import AuditEntry

    if ids is None:
        records = (store.get_seq(seq) for seq in store.seqs())
    else:
        records = (store.get(i) or i for i in ids)
    for stored in records:
        if isinstance(stored, str):
            yield Replayed(stored, "", {}, error="not_found: no such decision in the store")
            continue
        store.audit(AuditEntry(subtype="read", action="R", agent="warrant replay", source="local",
                               channel=stored.channel, http_status=200, entity=f"Decision/{stored.id}"))
        yield replay_one(kb, stored)
