"""The staff console: accounts, server-side sessions, staff actions (append-only, each a link of the
audit chain), audit-verify results, conversations with staff; indexes for the console's search and
takings (invoices by tax ID, and on PostgreSQL by payer name with trigrams; payments by date; bank
messages by the invoice they name).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("password_temporary", sa.Boolean(), nullable=False),
        sa.Column("totp_secret", sa.String(64), nullable=False),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", _TIME, nullable=True),
        sa.Column("disabled_at", _TIME, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("last_sign_in_at", _TIME, nullable=True),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("staff_accounts.id"), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("seen_at", _TIME, nullable=False),
        sa.Column("ended_at", _TIME, nullable=True),
    )
    op.create_index("ix_staff_sessions_seen", "staff_sessions", ["seen_at"])
    op.create_table(
        "staff_actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
    )
    op.create_index("ix_staff_actions_account", "staff_actions", ["account", "at"])
    op.create_table(
        "chain_checks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("intact", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("line_user_id", sa.Integer(), sa.ForeignKey("line_users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("opened_at", _TIME, nullable=False),
        sa.Column("answered_at", _TIME, nullable=True),
        sa.Column("last_user_at", _TIME, nullable=False),
        sa.Column("closed_at", _TIME, nullable=True),
        sa.Column("closed_by", sa.String(64), nullable=True),
    )
    op.create_index("uq_conversations_open", "conversations", ["line_user_id"], unique=True,
                    sqlite_where=sa.text("closed_at IS NULL"), postgresql_where=sa.text("closed_at IS NULL"))
    op.create_index("ix_conversations_closed", "conversations", ["closed_at"])
    op.create_table(
        "conversation_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("speaker", sa.String(8), nullable=False),
        sa.Column("staff_name", sa.String(64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("answered_by_bot", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_conversation_messages_conversation", "conversation_messages", ["conversation_id", "id"])

    op.create_index("ix_invoices_tax_id", "invoices", ["tax_id", "id"])  # a company's invoices, newest first
    op.create_index("ix_payments_transacted", "payments", ["transacted_at"], postgresql_include=["status", "amount"])
    op.add_column("bank_messages", sa.Column("ref1", sa.String(20), nullable=True))
    op.create_index("ix_bank_messages_ref1", "bank_messages", ["ref1"])
    op.create_index("ix_photo_reads_invoice_no", "photo_reads", ["invoice_no"])

    if op.get_bind().dialect.name == "postgresql":
        from bot.data.chain import trigger_sql
        from bot.data.states import ChainKind

        op.execute("CREATE TRIGGER staff_actions_append_only BEFORE UPDATE OR DELETE ON staff_actions "
                   "FOR EACH ROW EXECUTE FUNCTION tisi_append_only()")
        op.execute("CREATE TRIGGER staff_actions_no_truncate BEFORE TRUNCATE ON staff_actions "
                   "FOR EACH STATEMENT EXECUTE FUNCTION tisi_append_only()")
        for statement in trigger_sql((ChainKind.STAFF,)):
            op.execute(statement)
        _payer_name_trigrams()
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER staff_actions_no_{verb.lower()} BEFORE {verb} ON staff_actions "
                       "BEGIN SELECT RAISE(ABORT, 'staff_actions is append-only'); END")


def _payer_name_trigrams() -> None:
    """A payer-name search ("เหล็ก") among a million invoices needs an index of trigrams. pg_trgm
    ships with PostgreSQL, but creating an extension may need rights this role lacks: then the
    search still works, by scanning (the console says names are searched slowly)."""
    bind = op.get_bind()
    with bind.begin_nested() as savepoint:
        try:
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except sa.exc.DBAPIError as exc:
            savepoint.rollback()
            log.warning("pg_trgm is not available (%s): payer names are searched without an index",
                        str(exc.orig).strip().splitlines()[0])
            return
    op.execute("CREATE INDEX ix_invoices_payer_name_trgm ON invoices USING gin (payer_name gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        from bot.data.chain import drop_trigger_sql
        from bot.data.states import ChainKind

        for statement in drop_trigger_sql((ChainKind.STAFF,)):
            op.execute(statement)
        op.execute("DROP INDEX IF EXISTS ix_invoices_payer_name_trgm")
    op.drop_index("ix_photo_reads_invoice_no", "photo_reads")
    op.drop_index("ix_bank_messages_ref1", "bank_messages")
    op.drop_column("bank_messages", "ref1")
    op.drop_index("ix_payments_transacted", "payments")
    op.drop_index("ix_invoices_tax_id", "invoices")
    for table in ("conversation_messages", "conversations", "chain_checks", "staff_actions", "staff_sessions",
                  "staff_accounts"):
        op.drop_table(table)
