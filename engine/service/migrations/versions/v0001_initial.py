"""The decision store: decisions, their lines, audit events; append-only by trigger.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLES = ("decisions", "decision_lines", "audit_events")


def upgrade() -> None:
    _decisions()
    _lines_and_audit()
    _append_only()


def _decisions() -> None:
    op.create_table(
        "decisions",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(32), nullable=False, unique=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("request_key", sa.String(300)),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("request_body", sa.LargeBinary, nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("case_json", sa.Text, nullable=False),
        sa.Column("decision_json", sa.Text, nullable=False),
        sa.Column("response_json", sa.Text),
        sa.Column("response_id", sa.String(64)),
        sa.Column("policy_id", sa.String(100), nullable=False),
        sa.Column("policy_version", sa.String(50), nullable=False),
        sa.Column("policy_digest", sa.String(80), nullable=False),
        sa.Column("as_of", sa.String(10)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("received_month", sa.String(7), nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
    )
    op.create_index("ix_decisions_received_at", "decisions", ["received_at"])
    op.create_index("ix_decisions_request_key", "decisions", ["request_key"])
    op.create_index("ix_decisions_response_id", "decisions", ["response_id"])
    op.create_index("ix_decisions_policy", "decisions", ["policy_id", "policy_version"])


def _lines_and_audit() -> None:
    op.create_table(
        "decision_lines",
        sa.Column("decision_seq", SEQ, sa.ForeignKey("decisions.seq"), primary_key=True),
        sa.Column("line_no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("line_id", sa.String(100), nullable=False),
        sa.Column("stage", sa.Integer, nullable=False),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("level", sa.String(20)),
        sa.Column("side", sa.String(10)),
        sa.Column("verdict", sa.String(40), nullable=False),
        sa.Column("basis", sa.String(40), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("proof", sa.String(64)),
    )
    op.create_index("ix_lines_code", "decision_lines", ["code", "verdict"])
    op.create_index("ix_lines_verdict", "decision_lines", ["verdict", "basis"])
    op.create_table(
        "audit_events",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("recorded", sa.DateTime(), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("subtype", sa.String(40), nullable=False),
        sa.Column("action", sa.String(1), nullable=False),
        sa.Column("outcome", sa.String(2), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("entity", sa.String(300)),
        sa.Column("http_status", sa.Integer, nullable=False),
    )
    op.create_index("ix_audit_recorded", "audit_events", ["recorded"])


def _append_only() -> None:
    """Refuse UPDATE and DELETE on every table, in the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION warrant_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   "BEGIN RAISE EXCEPTION 'warrant: % is append-only', TG_TABLE_NAME; END $$")
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION warrant_append_only()")
        return
    for table in TABLES:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, 'warrant: {table} is append-only'); END")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS warrant_append_only()")
