"""Subscriptions with consent (PDPA) to new-invoice notices and due-date reminders.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ACTIVE_LICENSE = "withdrawn_at IS NULL AND license_no IS NOT NULL"
_ACTIVE_INVOICE = "withdrawn_at IS NULL AND invoice_id IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_user_id", sa.Integer(), nullable=False),
        sa.Column("license_no", sa.String(length=32), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("consent_lang", sa.String(length=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["line_user_id"], ["line_users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_subscription_active_license", "subscriptions", ["line_user_id", "license_no"], unique=True,
                    sqlite_where=sa.text(_ACTIVE_LICENSE), postgresql_where=sa.text(_ACTIVE_LICENSE))
    op.create_index("uq_subscription_active_invoice", "subscriptions", ["line_user_id", "invoice_id"], unique=True,
                    sqlite_where=sa.text(_ACTIVE_INVOICE), postgresql_where=sa.text(_ACTIVE_INVOICE))
    op.create_index("ix_subscriptions_license", "subscriptions", ["license_no"])
    op.create_index("ix_subscriptions_invoice", "subscriptions", ["invoice_id"])
    # Reminders look for unpaid invoices by due date.
    op.create_index("ix_invoices_status_due", "invoices", ["status", "due_date"])


def downgrade() -> None:
    op.drop_index("ix_invoices_status_due", table_name="invoices")
    op.drop_table("subscriptions")
