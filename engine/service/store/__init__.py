"""The decision store: append-only decision records, their lines and an audit trail, in SQLite
(the default, a file in the user's data directory) or PostgreSQL, through SQLAlchemy Core.

`Store` is the one object the web routes (and `warrant replay`, and later the workbench) use:
`save`, `get`, `search`, `find_by_request_key`, `find_by_response_id`, `metrics`, `audit`,
`audit_events`, `ping`. A database that cannot be reached raises `StoreUnavailable`, which the
service turns into 503 without restarting; the connection pool checks connections before use,
so the service recovers by itself when the database is back.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from engine.service.store.records import (
    AuditEntry,
    NewDecision,
    Search,
    audit_query,
    audit_row,
    insert_decision,
    iso,
    search_query,
    summary,
)


class StoreUnavailable(Exception):
    """The database cannot be reached or refused the operation for a transient reason."""


@dataclass
class StoredDecision:
    """A decision record as read back."""

    seq: int
    id: str
    channel: str
    caller: str
    case_id: str
    content_type: str
    request_body: bytes
    request_sha256: str
    case: dict[str, Any]
    decision: dict[str, Any]
    response: dict[str, Any] | None
    response_id: str | None
    policy: dict[str, str]
    as_of: str | None
    outcome: str
    received_at: dt.datetime
    decided_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        """The record as the API shows it (the request body is available separately)."""
        return {"id": self.id, "case_id": self.case_id, "channel": self.channel, "caller": self.caller,
                "outcome": self.outcome, "policy": self.policy, "as_of": self.as_of,
                "received": iso(self.received_at), "decided": iso(self.decided_at),
                "request": {"content_type": self.content_type, "sha256": self.request_sha256,
                            "bytes": len(self.request_body)},
                "decision": self.decision}


def data_dir() -> Path:
    """Where Warrant keeps data: $WARRANT_DATA_DIR, else $XDG_DATA_HOME/warrant, else
    ~/.local/share/warrant."""
    if os.environ.get("WARRANT_DATA_DIR"):
        return Path(os.environ["WARRANT_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "warrant"


def default_url() -> str:
    return f"sqlite:///{data_dir() / 'warrant.db'}"


def normal_url(url: str) -> str:
    """`postgresql://` means psycopg 3 (the driver the `serve` extra installs)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers and one writer work at once; NORMAL sync keeps committed data across a
    # killed process (not across a power cut, which needs FULL: see docs/service.md).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Store:
    def __init__(self, url: str, *, migrate: bool = True, pool_size: int = 8) -> None:
        from sqlalchemy import create_engine, event

        self.url = normal_url(url)
        if self.url.startswith("sqlite"):
            path = self.url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(self.url, connect_args={"timeout": 30})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(self.url, pool_pre_ping=True, pool_size=pool_size,
                                        max_overflow=pool_size, pool_timeout=5,
                                        connect_args={"connect_timeout": 3})
        if migrate:
            self.migrate()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        from engine.service.store.migrate import upgrade

        with self._guard():
            upgrade(self.engine)

    def schema_revision(self) -> str | None:
        from engine.service.store.migrate import current

        with self._guard():
            return current(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        from sqlalchemy.exc import DBAPIError, TimeoutError as PoolTimeout

        try:
            yield
        except PoolTimeout as exc:
            raise StoreUnavailable("no database connection became free in time") from exc
        except DBAPIError as exc:
            from sqlalchemy.exc import IntegrityError, ProgrammingError

            if isinstance(exc, (IntegrityError, ProgrammingError)) and not exc.connection_invalidated:
                raise
            raise StoreUnavailable(_short(exc)) from exc

    # ------------------------------------------------------------------ writes
    def save(self, new: NewDecision, audit: AuditEntry | None = None) -> int:
        """Store a decision, its lines and its audit event in one transaction: all or nothing."""
        from engine.service.store.tables import audit_events

        with self._guard(), self.engine.begin() as conn:
            seq = insert_decision(conn, new)
            if audit is not None:
                conn.execute(audit_events.insert(), audit_row(audit))
        return seq

    def audit(self, entry: AuditEntry) -> None:
        from engine.service.store.tables import audit_events

        with self._guard(), self.engine.begin() as conn:
            conn.execute(audit_events.insert(), audit_row(entry))

    # ------------------------------------------------------------------ reads
    def ping(self) -> None:
        from sqlalchemy import text

        with self._guard(), self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def get(self, decision_id: str) -> StoredDecision | None:
        from engine.service.store.tables import decisions

        return self._one(decisions.c.id == decision_id)

    def get_seq(self, seq: int) -> StoredDecision | None:
        from engine.service.store.tables import decisions

        return self._one(decisions.c.seq == seq)

    def find_by_request_key(self, channel: str, key: str) -> StoredDecision | None:
        """The newest decision of `channel` for a request key (PAS: the Claim's identifier)."""
        from engine.service.store.tables import decisions

        return self._one((decisions.c.channel == channel) & (decisions.c.request_key == key))

    def find_by_response_id(self, response_id: str) -> StoredDecision | None:
        from engine.service.store.tables import decisions

        return self._one(decisions.c.response_id == response_id)

    def _one(self, condition) -> StoredDecision | None:
        from sqlalchemy import select

        from engine.service.store.tables import decisions

        with self._guard(), self.engine.connect() as conn:
            row = conn.execute(select(decisions).where(condition).order_by(decisions.c.seq.desc()).limit(1)).first()
        return None if row is None else _stored(row)

    def search(self, search: Search) -> dict[str, Any]:
        """A page of decision summaries, newest first, and the cursor of the next page."""
        with self._guard(), self.engine.connect() as conn:
            rows = list(conn.execute(search_query(search)))
        more = len(rows) > search.limit
        rows = rows[:search.limit]
        return {"items": [summary(r) for r in rows],
                "next_cursor": str(rows[-1].seq) if more and rows else None}

    def lines(self, decision_id: str) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from engine.service.store.tables import decision_lines, decisions

        query = (select(decision_lines).join(decisions, decisions.c.seq == decision_lines.c.decision_seq)
                 .where(decisions.c.id == decision_id).order_by(decision_lines.c.line_no))
        with self._guard(), self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def policies(self) -> list[str]:
        """`id@version` of every policy a stored decision was made under (for the filter menus)."""
        from sqlalchemy import select

        from engine.service.store.tables import decision_facts

        facts = decision_facts.c
        query = select(facts.policy_id, facts.policy_version).distinct().order_by(facts.policy_id, facts.policy_version)
        with self._guard(), self.engine.connect() as conn:
            return [f"{p}@{v}".rstrip("@") for p, v in conn.execute(query)]

    def line_codes(self, decision_ids: list[str]) -> dict[str, list[str]]:
        """Each decision's line codes in decision order (admissions left out), for a page of
        the list: one query over the page's decisions."""
        from sqlalchemy import select

        from engine.service.store.tables import decision_lines, decisions

        if not decision_ids:
            return {}
        out: dict[str, list[str]] = {i: [] for i in decision_ids}
        with self._guard(), self.engine.connect() as conn:
            # the seqs first, from the index on id: a join let the planner read whole decisions
            ids = dict(conn.execute(select(decisions.c.seq, decisions.c.id).where(decisions.c.id.in_(decision_ids))).all())
            query = (select(decision_lines.c.decision_seq, decision_lines.c.code)
                     .where(decision_lines.c.decision_seq.in_(list(ids)), decision_lines.c.kind == "line")
                     .order_by(decision_lines.c.decision_seq, decision_lines.c.line_no))
            for seq, code in conn.execute(query):
                out[ids[seq]].append(code)
        return out

    def seqs(self, after: int = 0, batch: int = 500) -> Iterator[int]:
        """Every decision's seq in storing order (for `warrant replay --all`)."""
        from sqlalchemy import select

        from engine.service.store.tables import decisions

        while True:
            with self._guard(), self.engine.connect() as conn:
                found = [r[0] for r in conn.execute(select(decisions.c.seq).where(decisions.c.seq > after)
                                                    .order_by(decisions.c.seq).limit(batch))]
            yield from found
            if len(found) < batch:
                return
            after = found[-1]

    def metrics(self, since: dt.datetime | None = None, until: dt.datetime | None = None) -> dict[str, Any]:
        from engine.service.store.metrics import metrics

        with self._guard(), self.engine.connect() as conn:
            return metrics(conn, since, until)

    def population(self, search: Search, pop) -> None:
        """Count the decisions a search selects into `pop` (engine.authoring.population)."""
        from engine.service.store.population import fill

        with self._guard(), self.engine.connect() as conn:
            fill(conn, search, pop)

    def count(self, search: Search) -> int:
        """How many decisions a search selects (all pages)."""
        from sqlalchemy import func, select

        from engine.service.store.records import search_conditions
        from engine.service.store.tables import decision_facts

        with self._guard(), self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(decision_facts)
                                .where(*search_conditions(search))).scalar_one()

    def received_days(self, search: Search) -> list[tuple[str, str]]:
        """(YYYY-MM-DD, outcome) of every decision a search selects (for a short period's chart)."""
        from sqlalchemy import select

        from engine.service.store.records import search_conditions
        from engine.service.store.tables import decision_facts

        with self._guard(), self.engine.connect() as conn:
            rows = conn.execute(select(decision_facts.c.received_at, decision_facts.c.outcome)
                                .where(*search_conditions(search)))
            return [(r[0].strftime("%Y-%m-%d"), r[1]) for r in rows]

    def counts(self) -> dict[str, int]:
        """Rows per table (for health checks and the benchmarks)."""
        from sqlalchemy import func, select

        from engine.service.store.tables import audit_events, decision_facts, decision_lines, decisions, line_findings

        with self._guard(), self.engine.connect() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in (decisions, decision_facts, decision_lines, line_findings, audit_events)}

    def audit_events(self, since: dt.datetime | None = None, limit: int = 100,
                     cursor: int | None = None) -> dict[str, Any]:
        """Audit rows as FHIR AuditEvent resources, newest first."""
        from engine.service.audit import audit_event_resource

        with self._guard(), self.engine.connect() as conn:
            rows = list(conn.execute(audit_query(since, limit, cursor)))
        more = len(rows) > limit
        rows = rows[:limit]
        return {"items": [audit_event_resource(r) for r in rows],
                "next_cursor": str(rows[-1].seq) if more and rows else None}


def _stored(row) -> StoredDecision:
    return StoredDecision(
        seq=row.seq, id=row.id, channel=row.channel, caller=row.caller, case_id=row.case_id,
        content_type=row.content_type, request_body=bytes(row.request_body), request_sha256=row.request_sha256,
        case=json.loads(row.case_json), decision=json.loads(row.decision_json),
        response=json.loads(row.response_json) if row.response_json else None, response_id=row.response_id,
        policy={"id": row.policy_id, "version": row.policy_version, "digest": row.policy_digest},
        as_of=row.as_of, outcome=row.outcome, received_at=row.received_at, decided_at=row.decided_at)


def _short(exc: Exception) -> str:
    text = str(getattr(exc, "orig", exc)).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


__all__ = ["AuditEntry", "NewDecision", "Search", "Store", "StoreUnavailable", "StoredDecision",
           "data_dir", "default_url"]
