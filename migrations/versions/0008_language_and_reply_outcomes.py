"""Whether a LINE user chose their language ("English" / "ภาษาไทย"): until they do, each message
is answered in the language it is written in. And, per stored webhook event, how many reply
attempts had an outcome we cannot know (after one, the reply is tried once more at most). And the
spool id of a bank message replayed from the local spool after a database outage.

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
    with op.batch_alter_table("bank_messages") as batch:
        batch.add_column(sa.Column("spool_id", sa.String(36), nullable=True))
        batch.create_unique_constraint("uq_bank_messages_spool_id", ["spool_id"])


def downgrade() -> None:
    with op.batch_alter_table("bank_messages") as batch:
        batch.drop_constraint("uq_bank_messages_spool_id", type_="unique")
        batch.drop_column("spool_id")
    with op.batch_alter_table("inbox_events") as batch:
        batch.drop_column("unknown_sends")
    with op.batch_alter_table("line_users") as batch:
        batch.drop_column("language_chosen")
