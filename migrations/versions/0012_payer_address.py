"""The payer's address and postcode, optional, for the receipt's ETDA XML (a Thai address is
accepted there only with its postcode).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("payer_address", sa.String(256), nullable=True))
        batch.add_column(sa.Column("payer_postcode", sa.String(5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("payer_postcode")
        batch.drop_column("payer_address")
