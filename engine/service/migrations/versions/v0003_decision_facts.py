"""A narrow row per decision with the columns that searches filter on and the dashboard counts
by: `decisions` holds whole documents (the request, the case, the decision), so reading its
outcome or policy for 10,000 decisions read 10,000 documents. Rows for decisions stored before
this revision are copied from `decisions` in one statement.

The covering indexes of lines and findings get the decision's seq at their end, so a count over
a large part of the store scans them in grouping order and tests each row's decision there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
COLUMNS = "seq, case_id, channel, policy_id, policy_version, outcome, received_at, received_month"


def upgrade() -> None:
    op.create_table(
        "decision_facts",
        sa.Column("seq", SEQ, sa.ForeignKey("decisions.seq"), primary_key=True, autoincrement=False),
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("policy_id", sa.String(100), nullable=False),
        sa.Column("policy_version", sa.String(50), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("received_month", sa.String(7), nullable=False),
    )
    op.execute(f"INSERT INTO decision_facts ({COLUMNS}) SELECT {COLUMNS} FROM decisions")
    op.create_index("ix_facts_counts", "decision_facts", ["received_month", "outcome", "policy_id", "policy_version"])
    op.create_index("ix_facts_received_at", "decision_facts", ["received_at"])
    op.create_index("ix_facts_case_id", "decision_facts", ["case_id"])
    _with_seq("ix_findings_key", "line_findings", ["kind", "key", "state", "verdict", "basis"])
    _with_seq("ix_lines_counts", "decision_lines", ["kind", "code", "verdict", "basis"])
    _append_only()


def _with_seq(name: str, table: str, columns: list[str], seq: bool = True) -> None:
    op.drop_index(name, table_name=table)
    op.create_index(name, table, columns + (["decision_seq"] if seq else []))


def _append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER decision_facts_append_only BEFORE UPDATE OR DELETE ON decision_facts "
                   "FOR EACH ROW EXECUTE FUNCTION warrant_append_only()")
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER decision_facts_no_{event.lower()} BEFORE {event} ON decision_facts "
                   "BEGIN SELECT RAISE(ABORT, 'warrant: decision_facts is append-only'); END")


def downgrade() -> None:
    _with_seq("ix_findings_key", "line_findings", ["kind", "key", "state", "verdict", "basis"], seq=False)
    _with_seq("ix_lines_counts", "decision_lines", ["kind", "code", "verdict", "basis"], seq=False)
    op.drop_table("decision_facts")
