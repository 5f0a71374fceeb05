"""Audit chain on PostgreSQL: the database links each new audit entry, bank message and
statement as its transaction commits (deferred constraint triggers), instead of the application
calling tisi_chain_append before COMMIT: no round trip on the bank's path, and the advisory lock
is held only while the commit finishes. SQLite: nothing changes (the application links there).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from bot.data.chain import trigger_sql

    for statement in trigger_sql():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from bot.data.chain import drop_trigger_sql

    for statement in drop_trigger_sql():
        op.execute(statement)
