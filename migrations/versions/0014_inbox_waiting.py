"""The inbox's unfinished rows in a partial index (ix_inbox_waiting), in place of the index on
(status, next_attempt_at) that kept a dead entry for each of a row's three status changes and
made every claim visit them until a vacuum came. On PostgreSQL the table is vacuumed after every
few thousand dead rows instead of after a fifth of the table, and keeps room in its pages for
the updates that change no indexed column (a claim's lease).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Written out, not imported: a migration keeps meaning what it meant when it ran.
WAITING = "status IN ('pending', 'handled', 'photo')"


def upgrade() -> None:
    op.drop_index("ix_inbox_due", table_name="inbox_events")
    op.create_index("ix_inbox_waiting", "inbox_events", ["id"], sqlite_where=sa.text(WAITING),
                    postgresql_where=sa.text(WAITING))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE inbox_events SET (autovacuum_vacuum_scale_factor = 0, "
                   "autovacuum_vacuum_threshold = 2000, fillfactor = 80)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE inbox_events RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, "
                   "fillfactor)")
    op.drop_index("ix_inbox_waiting", table_name="inbox_events")
    op.create_index("ix_inbox_due", "inbox_events", ["status", "next_attempt_at"])
