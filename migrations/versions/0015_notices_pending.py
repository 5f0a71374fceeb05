"""The pending notices in a partial index (ix_notices_pending), in place of the index on
(status, next_attempt_at) that kept a dead entry for every notice sent until a vacuum came (the
inbox's index did the same: 0014). On PostgreSQL the table is vacuumed after every few thousand
dead rows, and keeps room in its pages for a claim's lease.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

PENDING = "status = 'pending'"  # written out: a migration keeps meaning what it meant when it ran


def upgrade() -> None:
    op.drop_index("ix_notices_due", table_name="notices")
    op.create_index("ix_notices_pending", "notices", ["id"], sqlite_where=sa.text(PENDING),
                    postgresql_where=sa.text(PENDING))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE notices SET (autovacuum_vacuum_scale_factor = 0, "
                   "autovacuum_vacuum_threshold = 2000, fillfactor = 80)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE notices RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, fillfactor)")
    op.drop_index("ix_notices_pending", table_name="notices")
    op.create_index("ix_notices_due", "notices", ["status", "next_attempt_at"])
