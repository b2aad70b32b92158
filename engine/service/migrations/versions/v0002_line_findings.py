"""What each stored line's criteria came to, and which documentation it lacks: one row each,
so the workbench's dashboard counts and filters them in SQL. Rows for decisions stored before
this revision are filled in from their decision JSON.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "line_findings",
        sa.Column("decision_seq", SEQ, sa.ForeignKey("decisions.seq"), primary_key=True),
        sa.Column("line_no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(10), primary_key=True),      # criterion | missing
        sa.Column("key", sa.String(200), primary_key=True),      # criterion id or general field path
        sa.Column("state", sa.String(20), nullable=False),       # met | unmet | undocumented | missing
        sa.Column("verdict", sa.String(40), nullable=False),     # the line's, copied: counts need no join
        sa.Column("basis", sa.String(40), nullable=False),
    )
    op.create_index("ix_findings_key", "line_findings", ["kind", "key", "state", "verdict", "basis"])
    # covering indexes for the dashboard's counts (the decisions table holds whole documents)
    op.create_index("ix_decisions_outcome", "decisions", ["outcome"])
    op.create_index("ix_decisions_month", "decisions", ["received_month", "outcome"])
    op.create_index("ix_lines_counts", "decision_lines", ["kind", "code", "verdict", "basis"])
    # and for a filter: the decisions with a matching line, then their findings
    op.create_index("ix_lines_match", "decision_lines", ["code", "verdict", "basis", "decision_seq"])
    op.create_index("ix_findings_seq", "line_findings", ["decision_seq", "kind", "key", "state", "verdict", "basis"])
    _backfill()
    _append_only()


def _backfill() -> None:
    import json

    from engine.service.store.records import finding_rows

    bind = op.get_bind()
    table = sa.table("line_findings", *(sa.column(name) for name in ("decision_seq", "line_no", "kind", "key",
                                                                        "state", "verdict", "basis")))
    rows = list(bind.execute(sa.text("SELECT seq FROM decisions ORDER BY seq LIMIT 1")))
    if not rows:
        return
    from engine.knowledge.base import KnowledgeBase

    levels = KnowledgeBase.load().levels   # the bundled kb's level names (for the general form)
    batch = []
    for seq, text in bind.execute(sa.text("SELECT seq, decision_json FROM decisions ORDER BY seq")):
        batch += finding_rows(seq, json.loads(text), levels)
        if len(batch) > 5000:
            bind.execute(table.insert(), batch)
            batch = []
    if batch:
        bind.execute(table.insert(), batch)


def _append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER line_findings_append_only BEFORE UPDATE OR DELETE ON line_findings "
                   "FOR EACH ROW EXECUTE FUNCTION warrant_append_only()")
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER line_findings_no_{event.lower()} BEFORE {event} ON line_findings "
                   "BEGIN SELECT RAISE(ABORT, 'warrant: line_findings is append-only'); END")


def downgrade() -> None:
    for name, table in (("ix_decisions_outcome", "decisions"), ("ix_decisions_month", "decisions"),
                        ("ix_lines_counts", "decision_lines"), ("ix_lines_match", "decision_lines")):
        op.drop_index(name, table_name=table)
    op.drop_table("line_findings")
