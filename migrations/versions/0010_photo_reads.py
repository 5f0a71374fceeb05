"""Photos users send: what each was found to hold (never the image itself).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "photo_reads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.String(64), nullable=True),
        sa.Column("image_set", sa.String(64), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("invoice_no", sa.String(20), nullable=True),
        sa.Column("ref2", sa.String(20), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("bank_code", sa.String(8), nullable=True),
        sa.Column("trans_ref", sa.String(64), nullable=True),
        sa.Column("read_ms", sa.Integer(), nullable=True),
        sa.Column("presented_before", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("answered_at", _TIME, nullable=True),
    )
    op.create_index("ix_photo_reads_trans_ref", "photo_reads", ["trans_ref"])
    op.create_index("ix_photo_reads_sha256", "photo_reads", ["sha256"])


def downgrade() -> None:
    op.drop_table("photo_reads")
