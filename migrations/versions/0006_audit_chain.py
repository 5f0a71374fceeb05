"""Audit chain: links over audit entries, bank messages and statements; the bank's signature
and timestamp kept beside each message. Rows written before this revision are linked now, in
the order they were written.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_messages") as batch:
        batch.add_column(sa.Column("bank_timestamp", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("bank_signature", sa.String(length=128), nullable=True))
    op.create_table(
        "chain_links",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("row_id", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    _append_only("chain_links")
    _append_only("statement_files")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CHAIN_APPEND_FUNCTION)
    if op.get_bind().dialect.name == "postgresql":  # 0001 left TRUNCATE open on these two
        for table in ("audit_entries", "bank_messages"):
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION tisi_append_only()")
    _link_existing()


# One round trip per transaction on the bank's path: lock, read the last link, append the new ones.
# The hash is the same as bot/core/chain.py's (SHA-256 of prev_hash || content, UTF-8, lowercase hex):
# `audit verify` recomputes every link in Python, so a difference could not pass unnoticed.
CHAIN_APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION tisi_chain_append(p_kinds text[], p_ids bigint[], p_contents text[],
                                             p_at timestamptz, p_lock bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  s bigint;
  h text;
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock);
  SELECT seq, hash INTO s, h FROM chain_links ORDER BY seq DESC LIMIT 1;
  IF s IS NULL THEN
    s := 0;
    h := repeat('0', 64);
  END IF;
  FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
    s := s + 1;
    INSERT INTO chain_links (seq, kind, row_id, prev_hash, hash, linked_at)
    VALUES (s, p_kinds[i], p_ids[i], h, encode(sha256(convert_to(h || p_contents[i], 'UTF8')), 'hex'), p_at)
    RETURNING hash INTO h;
  END LOOP;
  RETURN s;
END $$
"""


def _link_existing() -> None:
    from sqlalchemy.orm import Session

    from bot.core.chain import FIELDS
    from bot.data.chain import FIRST_KINDS, TABLES, append

    session = Session(bind=op.get_bind())
    rows = []
    # In the order they were written, as far as the rows tell: by time, then kind, then id.
    when = {"audit": "at", "bank": "received_at", "statement": "imported_at"}
    for kind in FIRST_KINDS:  # the kinds of this revision; later ones are linked as they are written
        model = TABLES[kind]
        # Only the columns the chain reads: later revisions add others this one has not created.
        table = model.__table__
        names = ["id", when[kind], *(name for name in FIELDS[kind] if name not in ("id", when[kind]))]
        rows += [(kind, row) for row in session.execute(sa.select(*(table.c[n] for n in names)).order_by(table.c.id))]
    rows.sort(key=lambda r: (getattr(r[1], when[r[0]]).replace(tzinfo=None), r[0], r[1].id))
    append(session, rows)
    session.flush()


def _append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(  # tisi_append_only() exists since revision 0001
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION tisi_append_only()"
        )
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION tisi_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS tisi_chain_append(text[], bigint[], text[], timestamptz, bigint)")
    op.drop_table("chain_links")
    with op.batch_alter_table("bank_messages") as batch:
        batch.drop_column("bank_signature")
        batch.drop_column("bank_timestamp")
