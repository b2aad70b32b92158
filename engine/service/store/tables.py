"""The decision store's tables (SQLAlchemy Core), one definition for SQLite and PostgreSQL.

Five append-only tables: `decisions` (one row per decision, with the request exactly as
received and the decision JSON whole), `decision_facts` (a narrow copy of what searches filter
on and counts group by), `decision_lines` (one row per line or admission, for searching and
metrics), `line_findings` (each line's criteria and missing documentation, for the workbench's
dashboard) and `audit_events` (one row per read or write, shaped like a FHIR AuditEvent). The
Alembic migrations in `engine/service/migrations/` create them; this module is what the queries
are written against, and a test checks the two agree.
"""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
SEQ = BigInteger().with_variant(Integer(), "sqlite")

decisions = Table(
    "decisions", metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("channel", String(8), nullable=False),          # api | pas | crd | dtr
    Column("caller", String(64), nullable=False),          # the token's name
    Column("case_id", String(200), nullable=False),
    Column("request_key", String(300)),                    # what $inquire looks a request up by
    Column("content_type", String(100), nullable=False),
    Column("request_body", LargeBinary, nullable=False),   # the bytes as received
    Column("request_sha256", String(64), nullable=False),
    Column("case_json", Text, nullable=False),             # the normalised warrant-case/1 document
    Column("decision_json", Text, nullable=False),         # the decision, whole (DESIGN.md §4)
    Column("response_json", Text),                         # the FHIR answer sent (pas, crd, dtr)
    Column("response_id", String(64)),                     # e.g. the ClaimResponse id
    Column("policy_id", String(100), nullable=False),
    Column("policy_version", String(50), nullable=False),
    Column("policy_digest", String(80), nullable=False),
    Column("as_of", String(10)),
    Column("outcome", String(16), nullable=False),         # approved | denied | partial | pended
    Column("received_at", DateTime(), nullable=False),     # UTC, naive
    Column("decided_at", DateTime(), nullable=False),
    Column("received_month", String(7), nullable=False),   # YYYY-MM, for monthly metrics
    Column("duration_ms", Float, nullable=False),
)
Index("ix_decisions_received_at", decisions.c.received_at)
Index("ix_decisions_request_key", decisions.c.request_key)
Index("ix_decisions_response_id", decisions.c.response_id)
Index("ix_decisions_policy", decisions.c.policy_id, decisions.c.policy_version)

decision_lines = Table(
    "decision_lines", metadata,
    Column("decision_seq", SEQ, ForeignKey("decisions.seq"), primary_key=True),
    Column("line_no", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(10), nullable=False),            # line | admission
    Column("line_id", String(100), nullable=False),
    Column("stage", Integer, nullable=False),
    Column("code", String(20), nullable=False),
    Column("level", String(20)),
    Column("side", String(10)),
    Column("verdict", String(40), nullable=False),
    Column("basis", String(40), nullable=False),
    Column("reasons", Text, nullable=False),               # JSON list of rule ids
    Column("proof", String(64)),
)
Index("ix_lines_code", decision_lines.c.code, decision_lines.c.verdict)
Index("ix_lines_verdict", decision_lines.c.verdict, decision_lines.c.basis)

audit_events = Table(
    "audit_events", metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("recorded", DateTime(), nullable=False),
    Column("type", String(20), nullable=False),            # rest | operation
    Column("subtype", String(40), nullable=False),         # create | read | search | ...
    Column("action", String(1), nullable=False),           # C R U D E
    Column("outcome", String(2), nullable=False),          # 0 success, 4 minor, 8 serious, 12 major
    Column("agent", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("entity", String(300)),                         # a decision id, or what was searched
    Column("http_status", Integer, nullable=False),
)
Index("ix_audit_recorded", audit_events.c.recorded)

line_findings = Table(
    "line_findings", metadata,
    Column("decision_seq", SEQ, ForeignKey("decisions.seq"), primary_key=True),
    Column("line_no", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(10), primary_key=True),          # criterion | missing
    Column("key", String(200), primary_key=True),          # the criterion, or the field in general form
    Column("state", String(20), nullable=False),           # met | unmet | undocumented | missing
    Column("verdict", String(40), nullable=False),         # the line's, copied: counts need no join
    Column("basis", String(40), nullable=False),
)
Index("ix_findings_key", line_findings.c.kind, line_findings.c.key, line_findings.c.state,
      line_findings.c.verdict, line_findings.c.basis, line_findings.c.decision_seq)
Index("ix_decisions_outcome", decisions.c.outcome)
Index("ix_decisions_month", decisions.c.received_month, decisions.c.outcome)
Index("ix_lines_counts", decision_lines.c.kind, decision_lines.c.code, decision_lines.c.verdict,
      decision_lines.c.basis, decision_lines.c.decision_seq)
Index("ix_lines_match", decision_lines.c.code, decision_lines.c.verdict, decision_lines.c.basis,
      decision_lines.c.decision_seq)
Index("ix_findings_seq", line_findings.c.decision_seq, line_findings.c.kind, line_findings.c.key,
      line_findings.c.state, line_findings.c.verdict, line_findings.c.basis)


# One narrow row per decision: what searches filter on and the dashboard counts by. `decisions`
# rows hold whole documents, so reading their outcome for every decision read every document.
decision_facts = Table(
    "decision_facts", metadata,
    Column("seq", SEQ, ForeignKey("decisions.seq"), primary_key=True, autoincrement=False),
    Column("case_id", String(200), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("policy_id", String(100), nullable=False),
    Column("policy_version", String(50), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("received_at", DateTime(), nullable=False),
    Column("received_month", String(7), nullable=False),
)
Index("ix_facts_counts", decision_facts.c.received_month, decision_facts.c.outcome, decision_facts.c.policy_id,
      decision_facts.c.policy_version)
Index("ix_facts_received_at", decision_facts.c.received_at)
Index("ix_facts_case_id", decision_facts.c.case_id)
FACT_COLUMNS = tuple(decision_facts.columns.keys())

APPEND_ONLY = ("decisions", "decision_lines", "audit_events", "line_findings", "decision_facts")
