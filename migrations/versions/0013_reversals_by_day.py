"""The day's close: the reversals of a day (a partial index on payments.reversed_at: only reversed
payments are in it, so the bank's path writes nothing more) and the receipts issued in a day (an
index on receipts.issued_at that holds the number too, on PostgreSQL). On PostgreSQL a receipt is
now dated by its payment's created_at (the application's clock, as on SQLite) instead of the
database's clock_timestamp(): the same moment, in the same transaction.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_payments_reversed", "payments", ["reversed_at"],
                    sqlite_where=sa.text("reversed_at IS NOT NULL"), postgresql_where=sa.text("reversed_at IS NOT NULL"))
    if op.get_bind().dialect.name == "postgresql":
        from bot.data import receipt_numbers

        op.execute(receipt_numbers.trigger_sql()[0])  # CREATE OR REPLACE FUNCTION tisi_issue_receipt()
    op.create_index("ix_receipts_issued", "receipts", ["issued_at"], postgresql_include=["fiscal_year", "number"])


def downgrade() -> None:
    op.drop_index("ix_receipts_issued", table_name="receipts")
    op.drop_index("ix_payments_reversed", table_name="payments")
