"""The day's close lists the reversals of a day: a partial index on payments.reversed_at (only
reversed payments are in it, so the bank's path writes nothing more).

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


def downgrade() -> None:
    op.drop_index("ix_payments_reversed", table_name="payments")
