"""Receipts: a number per confirmed payment from a counter per fiscal year (on PostgreSQL given by
a deferred trigger as the payment commits), the receipts, and their signed PDFs (append-only,
each a link of the audit chain); the payer's branch on invoices.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("invoices", sa.Column("payer_branch", sa.String(5), nullable=True))
    op.add_column("payments", sa.Column("receipt_prefix", sa.String(12), nullable=True))
    op.create_table(
        "receipt_counters",
        sa.Column("fiscal_year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
    )
    op.create_table(
        "receipts",
        sa.Column("payment_id", sa.Integer(), sa.ForeignKey("payments.id"), primary_key=True, autoincrement=False),
        sa.Column("number", sa.String(40), nullable=False, unique=True),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("issued_at", _TIME, nullable=False),
        sa.Column("voided_at", _TIME, nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("pending", sa.String(8), nullable=True),
        sa.Column("lease_until", _TIME, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    # Only the receipts still to render: the worker's claim reads this, the bank's path writes it.
    op.create_index("ix_receipts_pending", "receipts", ["pending"], sqlite_where=sa.text("pending IS NOT NULL"),
                    postgresql_where=sa.text("pending IS NOT NULL"))
    op.create_table(
        "receipt_documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("payment_id", sa.Integer(), sa.ForeignKey("receipts.payment_id"), nullable=False),
        sa.Column("variant", sa.String(8), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("payment_id", "variant", name="uq_receipt_document_variant"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER receipt_documents_append_only BEFORE UPDATE OR DELETE ON receipt_documents "
                   "FOR EACH ROW EXECUTE FUNCTION tisi_append_only()")
        op.execute("CREATE TRIGGER receipt_documents_no_truncate BEFORE TRUNCATE ON receipt_documents "
                   "FOR EACH STATEMENT EXECUTE FUNCTION tisi_append_only()")
        from bot.data.chain import trigger_sql
        from bot.data.states import ChainKind

        for statement in trigger_sql((ChainKind.RECEIPT,)):
            op.execute(statement)
        from bot.data import receipt_numbers

        for statement in receipt_numbers.trigger_sql():
            op.execute(statement)
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER receipt_documents_no_{verb.lower()} BEFORE {verb} ON receipt_documents "
                       "BEGIN SELECT RAISE(ABORT, 'receipt_documents is append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        from bot.data.chain import drop_trigger_sql
        from bot.data.states import ChainKind

        for statement in drop_trigger_sql((ChainKind.RECEIPT,)):
            op.execute(statement)
        from bot.data import receipt_numbers

        for statement in receipt_numbers.drop_trigger_sql():
            op.execute(statement)
    op.drop_table("receipt_documents")
    op.drop_table("receipts")
    op.drop_table("receipt_counters")
    op.drop_column("payments", "receipt_prefix")
    op.drop_column("invoices", "payer_branch")
