"""Rows in and out of the decision store: a decision becomes one `decisions` row, its narrow
`decision_facts` copy, one `decision_lines` row per line and admission and one `line_findings`
row per criterion and missing field of a line; searches filter the narrow rows and read the
page's decisions back."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select, tuple_

from engine.service.store.tables import FACT_COLUMNS, audit_events, decision_facts, decision_lines, decisions, line_findings


@dataclass
class NewDecision:
    """Everything the service knows about one decision when it stores it."""

    id: str
    channel: str
    caller: str
    content_type: str
    request_body: bytes
    case: dict[str, Any]
    decision: dict[str, Any]
    policy_id: str
    outcome: str
    received_at: dt.datetime
    decided_at: dt.datetime
    as_of: str | None = None
    request_key: str | None = None
    response: dict[str, Any] | None = None
    response_id: str | None = None
    levels: Any = None           # the kb's level vocabulary: missing fields are kept in general form


@dataclass
class AuditEntry:
    """One AuditEvent-shaped row: who did what to which record, and how it ended."""

    subtype: str                 # create | read | search | operation name
    action: str                  # C | R | E
    agent: str
    source: str
    channel: str
    http_status: int
    entity: str | None = None
    type: str = "rest"
    recorded: dt.datetime = field(default_factory=lambda: utcnow())

    @property
    def outcome(self) -> str:
        if self.http_status < 400:
            return "0"
        return "4" if self.http_status < 500 else "8"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def decision_row(new: NewDecision) -> dict[str, Any]:
    kb = new.decision.get("knowledge_base", {})
    stage_policy = next((s["policy"] for s in new.decision.get("stages", []) if isinstance(s.get("policy"), dict)),
                        None)
    if stage_policy is not None:  # the policy version that decided (the first stage's)
        kb = {"version": stage_policy.get("version", ""), "digest": stage_policy.get("digest", "")}
    return {
        "id": new.id, "channel": new.channel, "caller": new.caller,
        "case_id": str(new.decision.get("case_id", ""))[:200], "request_key": new.request_key,
        "content_type": new.content_type[:100], "request_body": new.request_body,
        "request_sha256": hashlib.sha256(new.request_body).hexdigest(),
        "case_json": _json(new.case), "decision_json": _json(new.decision),
        "response_json": _json(new.response) if new.response is not None else None,
        "response_id": new.response_id,
        "policy_id": new.policy_id, "policy_version": str(kb.get("version", "")),
        "policy_digest": str(kb.get("digest", "")), "as_of": new.as_of, "outcome": new.outcome,
        "received_at": new.received_at, "decided_at": new.decided_at,
        "received_month": new.received_at.strftime("%Y-%m"),
        "duration_ms": (new.decided_at - new.received_at).total_seconds() * 1000.0,
    }


def insert_decision(conn, new: NewDecision) -> int:
    """Write a decision's rows in the caller's transaction; its seq."""
    row = decision_row(new)
    seq = conn.execute(decisions.insert(), row).inserted_primary_key[0]
    conn.execute(decision_facts.insert(), {**{k: row[k] for k in FACT_COLUMNS if k != "seq"}, "seq": seq})
    lines = line_rows(seq, new.decision)
    if lines:
        conn.execute(decision_lines.insert(), lines)
    findings = finding_rows(seq, new.decision, new.levels)
    if findings:
        conn.execute(line_findings.insert(), findings)
    return seq


def line_rows(seq: int, decision: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per line and per admission, in decision order."""
    rows = []
    for stage in decision.get("stages", []):
        for line in stage.get("lines", []):
            where = line.get("level") or line.get("side") or "-"
            rows.append({"kind": "line", "line_id": f"{stage['stage']}:{line['code']}:{where}",
                         "stage": stage["stage"], "code": line["code"], "level": line.get("level"),
                         "side": line.get("side"), "verdict": line["verdict"], "basis": line["basis"],
                         "reasons": _json([r["rule"] for r in line.get("reasons", [])]),
                         "proof": line.get("proof")})
        admission = stage.get("admission")
        if admission:
            rows.append({"kind": "admission", "line_id": f"{stage['stage']}:admission:-",
                         "stage": stage["stage"], "code": "admission", "level": None, "side": None,
                         "verdict": admission["verdict"], "basis": admission["basis"],
                         "reasons": _json([r["rule"] for r in admission.get("reasons", [])]),
                         "proof": admission.get("proof")})
    return [{"decision_seq": seq, "line_no": i, **row} for i, row in enumerate(rows)]


def finding_rows(seq: int, decision: dict[str, Any], levels: Any = None) -> list[dict[str, Any]]:
    """Each line's criteria (with their state) and its own missing documentation (in general
    form with the kb's `levels`, each field once), numbered as `line_rows` numbers the lines."""
    from engine.authoring.population import general_field

    rows, line_no = [], 0
    for stage in decision.get("stages", []):
        for line in stage.get("lines", []):
            seen = set()
            judged = {"verdict": line["verdict"], "basis": line["basis"]}
            for item in line.get("criteria", []):
                if ("criterion", item["criterion"]) not in seen:
                    seen.add(("criterion", item["criterion"]))
                    rows.append({"decision_seq": seq, "line_no": line_no, "kind": "criterion",
                                 "key": str(item["criterion"])[:200], "state": item["state"], **judged})
            for item in line.get("missing_documentation", []):
                key = general_field(item["field"], levels)[:200]
                if "via" not in item and ("missing", key) not in seen:
                    seen.add(("missing", key))
                    rows.append({"decision_seq": seq, "line_no": line_no, "kind": "missing", "key": key,
                                 "state": "missing", **judged})
            line_no += 1
        if stage.get("admission"):
            line_no += 1
    return rows


def audit_row(entry: AuditEntry) -> dict[str, Any]:
    return {"recorded": entry.recorded, "type": entry.type, "subtype": entry.subtype,
            "action": entry.action, "outcome": entry.outcome, "agent": entry.agent[:64],
            "source": entry.source[:64], "channel": entry.channel, "entity": (entry.entity or "")[:300] or None,
            "http_status": entry.http_status}


@dataclass
class Search:
    """Filters of `GET /api/v1/decisions` and the workbench; every one optional.

    Line filters (code, codes, verdict, basis, criterion with state, missing, blocked) must all
    hold on one and the same line of a decision; the others filter decisions."""

    code: str | None = None
    verdict: str | None = None
    basis: str | None = None
    policy: str | None = None
    channel: str | None = None
    since: dt.datetime | None = None
    limit: int = 50
    cursor: int | None = None    # the seq of the last row of the previous page
    until: dt.datetime | None = None          # exclusive
    case_id: str | None = None                # a prefix of the case id
    outcome: str | None = None
    codes: tuple[str, ...] | None = None      # any of these codes (a family's codes)
    criterion: str | None = None
    state: str | None = None                  # with criterion: met | unmet | undocumented
    missing: str | None = None                # a missing field, in general form
    blocked: bool = False                     # the line is not approved on its own account
    positive: str | None = None               # the kb's positive verdict (for `blocked`)
    dependent: str = "dependent"              # the basis of a line held to its parent (for `blocked`)


_MATCH_LINES = decision_lines.alias("match_lines")


def _line_conditions(s: Search) -> list:
    """Conditions on one line (an alias of `decision_lines`, so that queries over the lines
    themselves can use these as a filter of decisions)."""
    line = _MATCH_LINES.c
    conditions = []
    for column, value in ((line.code, s.code), (line.verdict, s.verdict), (line.basis, s.basis)):
        if value:
            conditions.append(column == value)
    if s.codes is not None:
        conditions.append(line.code.in_(list(s.codes)))
    if s.blocked and not (s.criterion or s.missing):   # else the findings say it (they copy verdict, basis)
        conditions += [line.basis != s.dependent, line.kind == "line"]
        if s.positive:
            conditions.append(line.verdict != s.positive)
    return conditions


def _finding_lines(s: Search):
    """(decision_seq, line_no) of the lines with the criterion state or missing field a search
    names, or None; read from `line_findings` alone (it carries each line's verdict and basis)."""
    from engine.service.store.tables import line_findings

    found = line_findings.c
    conditions = []
    for kind, key, state in (("criterion", s.criterion, s.state), ("missing", s.missing, "missing")):
        if key:
            wanted = [found.kind == kind, found.key == key] + ([found.state == state] if state else [])
            conditions.append(and_(*wanted))
    if not conditions:
        return None
    query = select(found.decision_seq, found.line_no).where(*conditions[:1])
    if s.blocked:
        query = query.where(found.basis != s.dependent, *([found.verdict != s.positive] if s.positive else []))
    if len(conditions) > 1:   # a criterion and a missing field: both on the same line
        other = line_findings.alias("other_findings").c
        query = query.where(tuple_(found.decision_seq, found.line_no).in_(
            select(other.decision_seq, other.line_no).where(other.kind == "missing", other.key == s.missing)))
    return query


def search_conditions(s: Search) -> list:
    """The WHERE conditions on `decision_facts` that a search's filters make (no cursor)."""
    facts = decision_facts.c
    conditions = []
    line_conditions = _line_conditions(s)
    findings = _finding_lines(s)
    if findings is not None and not line_conditions:
        conditions.append(facts.seq.in_(findings.with_only_columns(findings.selected_columns[0])))
    elif findings is not None:
        line_conditions.append(tuple_(_MATCH_LINES.c.decision_seq, _MATCH_LINES.c.line_no).in_(findings))
    if line_conditions:
        # IN (the matching lines' decisions), read from the line indexes, rather than a correlated
        # EXISTS per decision
        conditions.append(facts.seq.in_(select(_MATCH_LINES.c.decision_seq).where(*line_conditions)))
    if s.policy:
        name, _, version = s.policy.partition("@")
        conditions.append(facts.policy_id == name)
        if version:
            conditions.append(facts.policy_version == version)
    for column, value in ((facts.channel, s.channel), (facts.outcome, s.outcome)):
        if value:
            conditions.append(column == value)
    if s.case_id:
        escaped = s.case_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(facts.case_id.like(escaped + "%", escape="\\"))
    if s.since is not None:
        conditions.append(facts.received_at >= s.since)
    if s.until is not None:
        conditions.append(facts.received_at < s.until)
    return conditions


def search_query(s: Search):
    """Newest first; `cursor` continues after the previous page's last row. The filters read
    the narrow `decision_facts`; only the page's rows are read from `decisions`."""
    cols = [decisions.c.seq, decisions.c.id, decisions.c.case_id, decisions.c.channel,
            decisions.c.caller, decisions.c.outcome, decisions.c.policy_id, decisions.c.policy_version,
            decisions.c.received_at, decisions.c.decided_at]
    conditions = search_conditions(s)
    if s.cursor is not None:
        conditions.append(decision_facts.c.seq < s.cursor)
    page = select(decision_facts.c.seq).where(*conditions).order_by(decision_facts.c.seq.desc()).limit(s.limit + 1)
    return select(*cols).where(decisions.c.seq.in_(page)).order_by(decisions.c.seq.desc())


def summary(row) -> dict[str, Any]:
    return {"id": row.id, "case_id": row.case_id, "channel": row.channel, "caller": row.caller,
            "outcome": row.outcome, "policy": {"id": row.policy_id, "version": row.policy_version},
            "received": iso(row.received_at), "decided": iso(row.decided_at)}


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.replace(tzinfo=dt.timezone.utc).isoformat().replace("+00:00", "Z")


def audit_query(since: dt.datetime | None, limit: int, cursor: int | None):
    conditions = []
    if since is not None:
        conditions.append(audit_events.c.recorded >= since)
    if cursor is not None:
        conditions.append(audit_events.c.seq < cursor)
    return select(audit_events).where(*conditions).order_by(audit_events.c.seq.desc()).limit(limit + 1)
