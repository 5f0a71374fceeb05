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
    # Plain ADD COLUMN (no batch copy of the table): on SQLite a copy would drop the append-only
    # triggers of bank_messages.
    op.add_column("line_users", sa.Column("language_chosen", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("inbox_events", sa.Column("unknown_sends", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("bank_messages", sa.Column("spool_id", sa.String(36), nullable=True))
    op.create_index("uq_bank_messages_spool_id", "bank_messages", ["spool_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_bank_messages_spool_id", "bank_messages")
    for table, column in (("bank_messages", "spool_id"), ("inbox_events", "unknown_sends"),
                          ("line_users", "language_chosen")):
        op.drop_column(table, column)  # SQLite ≥ 3.35 drops a column in place: triggers stay
