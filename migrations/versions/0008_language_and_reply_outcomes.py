"""Whether a LINE user chose their language ("English" / "ภาษาไทย"): until they do, each message
is answered in the language it is written in. And, per stored webhook event, how many reply
attempts had an outcome we cannot know (after one, the reply is tried once more at most).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("line_users") as batch:
        batch.add_column(sa.Column("language_chosen", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("inbox_events") as batch:
        batch.add_column(sa.Column("unknown_sends", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("inbox_events") as batch:
        batch.drop_column("unknown_sends")
    with op.batch_alter_table("line_users") as batch:
        batch.drop_column("language_chosen")
