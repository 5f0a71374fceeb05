"""Outbox rows for the e-License / e-Surveillance callbacks beside LINE pushes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=16), nullable=False, server_default="line"))


def downgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("channel")
