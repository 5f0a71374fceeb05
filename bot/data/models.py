"""The data model (SQLAlchemy 2, typed). Money is integer satang in the database, Decimal in Python."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.core.dates import today_bangkok, utcnow
from bot.core.money import from_satang, to_satang
from bot.data.states import InboxStatus, InvoiceStatus, NoticeChannel, NoticeStatus


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes, stored as UTC; SQLite hands back naive values, fixed here."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; times must be timezone-aware")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Money(TypeDecorator):
    """Baht as Decimal in Python, integer satang in the database (exact on SQLite too)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError("money must be a Decimal")
        return to_satang(value)

    def process_result_value(self, value, dialect):
        return None if value is None else from_satang(int(value))


class Base(DeclarativeBase):
    pass


def table_of(model: type[Base]) -> Table:
    """A model's table, for Core statements (typed: `__table__` is declared a FromClause)."""
    found = model.__table__
    assert isinstance(found, Table)
    return found


Status = InvoiceStatus  # the invoice statuses (bot.data.states), by their old name here


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_no: Mapped[str] = mapped_column(String(20), unique=True)  # Ref1
    ref2: Mapped[str] = mapped_column(String(20))
    license_no: Mapped[str | None] = mapped_column(String(32))  # canonical, e.g. ท5137-2/10
    tax_id: Mapped[str] = mapped_column(String(13))
    payer_name: Mapped[str] = mapped_column(String(255))
    # The payer's Revenue Department branch for the receipt: None is the head office (สำนักงานใหญ่).
    payer_branch: Mapped[str | None] = mapped_column(String(5), nullable=True)
    payer_address: Mapped[str | None] = mapped_column(String(256), nullable=True)  # for the receipt's XML
    payer_postcode: Mapped[str | None] = mapped_column(String(5), nullable=True)
    fee_code: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[Decimal] = mapped_column(Money)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=Status.UNPAID)
    # Random, never derived from the invoice: the base of QR and tracking tokens.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_invoices_license_status", "license_no", "status"),
                      Index("ix_invoices_status_due", "status", "due_date"),
                      # The console's search; on PostgreSQL payer_name has a trigram index too (0011).
                      Index("ix_invoices_tax_id", "tax_id", "id"))

    def effective_status(self, today: date | None = None) -> InvoiceStatus:
        if self.status == Status.UNPAID and (today or today_bangkok()) > self.due_date:
            return Status.EXPIRED
        return InvoiceStatus(self.status)

    def is_payable(self, today: date | None = None) -> bool:
        return self.effective_status(today) == Status.UNPAID


class LineUser(Base):
    __tablename__ = "line_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(2), default="th")
    # False: answered in the language of each message (and pushed in the last one seen); True:
    # the user chose with "English" / "ภาษาไทย", and that holds.
    language_chosen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    followed: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Watch(Base):
    """A LINE user asked about an invoice or a license: the paid notice goes to them."""

    __tablename__ = "watches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_user_id: Mapped[int] = mapped_column(ForeignKey("line_users.id", ondelete="CASCADE"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), nullable=True)
    license_no: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("line_user_id", "invoice_id", name="uq_watch_user_invoice"),
        UniqueConstraint("line_user_id", "license_no", name="uq_watch_user_license"),
        Index("ix_watches_invoice", "invoice_id"),
        Index("ix_watches_license", "license_no"),
    )


class Subscription(Base):
    """A LINE user's consent (PDPA) to proactive notices about a license, or one invoice that has
    no license: who, what, when, the exact wording shown, and when it was withdrawn. A withdrawn
    row is kept as the record; subscribing again makes a new one."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_user_id: Mapped[int] = mapped_column(ForeignKey("line_users.id", ondelete="CASCADE"))
    license_no: Mapped[str | None] = mapped_column(String(32), nullable=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), nullable=True)
    consent_text: Mapped[str] = mapped_column(Text)  # the sentence the user was shown
    consent_lang: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The invoice of a subscription to one invoice (its number is what the user is shown).
    invoice: Mapped[Invoice | None] = relationship(lazy="select")

    @property
    def label(self) -> str:
        """The license number, or the invoice number of a subscription to one invoice."""
        return self.license_no or (self.invoice.invoice_no if self.invoice is not None else "")

    __table_args__ = (
        # One active subscription per user and target; withdrawn ones stay as history.
        Index("uq_subscription_active_license", "line_user_id", "license_no", unique=True,
              sqlite_where=text("withdrawn_at IS NULL AND license_no IS NOT NULL"),
              postgresql_where=text("withdrawn_at IS NULL AND license_no IS NOT NULL")),
        Index("uq_subscription_active_invoice", "line_user_id", "invoice_id", unique=True,
              sqlite_where=text("withdrawn_at IS NULL AND invoice_id IS NOT NULL"),
              postgresql_where=text("withdrawn_at IS NULL AND invoice_id IS NOT NULL")),
        Index("ix_subscriptions_license", "license_no"),
        Index("ix_subscriptions_invoice", "invoice_id"),
    )


# The predicates of the partial indexes on the queues' unfinished rows. A query uses such an
# index only when it contains the predicate as written: these return it as SQL.
INBOX_WAITING = "status IN ({})".format(", ".join(f"'{s.value}'" for s in InboxStatus.waiting()))
NOTICE_PENDING = f"status = '{NoticeStatus.PENDING.value}'"


def inbox_waiting():
    return text(INBOX_WAITING)


def notice_pending():
    return text(NOTICE_PENDING)


class InboxEvent(Base):
    """A webhook event, stored before LINE gets its 200 and handled later by a worker.

    The unique webhookEventId recognises a redelivery. Workers claim rows with a lease; the
    handler's effects and its rendered reply commit together (status `handled`), so a worker
    killed after that point sends the stored reply instead of handling the event again.
    """

    __tablename__ = "inbox_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # one-to-one chats only
    reply_token: Mapped[str | None] = mapped_column(String(255), nullable=True)
    payload: Mapped[str] = mapped_column(Text)  # the event's JSON as LINE sent it
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default=InboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Reply attempts whose outcome we cannot know (no answer after sending; a claim that ended
    # without recording, e.g. a worker killed): after one, the reply is tried once more at most.
    unknown_sends: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON messages, rendered once
    handler_error: Mapped[str | None] = mapped_column(Text, nullable=True)  # the exception, when the handler raised
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)  # LINE's answer to a failed reply
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    # Only the unfinished rows (a few, however many weeks of finished ones the table keeps), in
    # claim order. Each row changes status three times; an index on status kept a dead entry for
    # every change, which each claim visited until a vacuum came: 18,000 of them, 5 ms a claim,
    # after 20 s of load. A query uses the index only when it says `INBOX_WAITING` literally
    # (SQLite matches the predicate as written; PostgreSQL cannot prove it from a parameter).
    __table_args__ = (Index("ix_inbox_waiting", "id", sqlite_where=text(INBOX_WAITING),
                            postgresql_where=text(INBOX_WAITING)),)


class WorkerHeartbeat(Base):
    """Each worker (inline thread or `tisi-pay worker`) says it is alive, for /healthz and `tisi-pay health`."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)  # host:pid
    kind: Mapped[str] = mapped_column(String(12))  # WorkerKind
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """Append-only trail of every change of an invoice's money state (same transaction)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    action: Mapped[str] = mapped_column(String(32))  # created, amount_changed, paid, reversed, cancelled, ...
    from_status: Mapped[str | None] = mapped_column(String(12), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(12), nullable=True)
    actor: Mapped[str] = mapped_column(String(32))  # import, api, bank
    detail: Mapped[str] = mapped_column(Text, default="")  # JSON

    __table_args__ = (Index("ix_audit_invoice", "invoice_id"),)


class BankRequest(Base):
    """Idempotency of bank commands: one row per command + bankCode + bankRef, with its answer."""

    __tablename__ = "bank_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    command: Mapped[str] = mapped_column(String(16))
    bank_code: Mapped[str] = mapped_column(String(8))
    bank_ref: Mapped[str] = mapped_column(String(64))
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[str | None] = mapped_column(Text, nullable=True)  # exact bytes sent back
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("command", "bank_code", "bank_ref", name="uq_bank_request_key"),)


class BankMessage(Base):
    """Append-only log of every request the bank endpoint received and what it answered."""

    __tablename__ = "bank_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    command: Mapped[str | None] = mapped_column(String(16), nullable=True)
    bank_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    bank_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The invoice it named (its Ref1, as sent): finds an invoice's messages for the console, refused
    # ones too. Read from request_body, which the chain covers; not a field of the link itself.
    ref1: Mapped[str | None] = mapped_column(String(20), nullable=True)
    request_body: Mapped[str] = mapped_column(Text)
    http_status: Mapped[int] = mapped_column(Integer)
    resp_code: Mapped[str] = mapped_column(String(4))
    response_body: Mapped[str] = mapped_column(Text)
    replayed: Mapped[bool] = mapped_column(Boolean, default=False)
    # X-Bank-Timestamp and X-Bank-Signature as sent: `audit verify` re-checks the signature later.
    bank_timestamp: Mapped[str | None] = mapped_column(String(32), nullable=True)
    bank_signature: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # Set on a message that could not be stored when it came (the database was down): it was
    # kept in the local spool and replayed from there; the id makes a second replay a no-op.
    spool_id: Mapped[str | None] = mapped_column(String(36), nullable=True)

    __table_args__ = (Index("uq_bank_messages_spool_id", "spool_id", unique=True),
                      Index("ix_bank_messages_ref1", "ref1"))  # an invoice's story in the console


class Payment(Base):
    """A payment the bank confirmed (or a double payment we refused, kept for staff)."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    bank_code: Mapped[str] = mapped_column(String(8))
    bank_ref: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money)
    channel: Mapped[str] = mapped_column(String(16))
    transacted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # a PaymentStatus
    tranx_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set (RECEIPT_PREFIX) on a confirmed payment that gets a receipt: numbered as it commits
    # (bot/data/receipt_numbers.py on PostgreSQL; bot.ledger.receipts.issue on SQLite).
    receipt_prefix: Mapped[str | None] = mapped_column(String(12), nullable=True)

    __table_args__ = (
        UniqueConstraint("bank_code", "bank_ref", name="uq_payment_bank_ref"),
        Index("ix_payments_invoice", "invoice_id"),
        # The console's takings by day: on PostgreSQL read from the index alone (30 days of a busy
        # office are ~170,000 payments: 130 ms from the table, 50 from the index).
        Index("ix_payments_transacted", "transacted_at", postgresql_include=["status", "amount"]),
        # The day's close lists the day's reversals; partial, so a payment (never reversed as it
        # is written) costs no index insert on the bank's path.
        Index("ix_payments_reversed", "reversed_at", sqlite_where=text("reversed_at IS NOT NULL"),
              postgresql_where=text("reversed_at IS NOT NULL")),
    )


class PendingReversal(Base):
    """A reversal that arrived before its payment: applied when the payment comes."""

    __tablename__ = "pending_reversals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_code: Mapped[str] = mapped_column(String(8))
    bank_ref: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("bank_code", "bank_ref", name="uq_pending_reversal"),)


class Notice(Base):
    """Transactional outbox of LINE pushes: committed with the payment, delivered later."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    retry_key: Mapped[str] = mapped_column(String(36), unique=True)  # X-Line-Retry-Key, every attempt
    channel: Mapped[str] = mapped_column(String(16), default=NoticeChannel.LINE, server_default="line")
    event_key: Mapped[str] = mapped_column(String(64))  # e.g. paid:<payment id>
    to_user: Mapped[str] = mapped_column(String(64))
    messages: Mapped[str] = mapped_column(Text)  # JSON, rendered once so every attempt is identical
    status: Mapped[str] = mapped_column(String(12), default=NoticeStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("event_key", "to_user", name="uq_notice_event_user"),
        # Only the pending notices, in claim order: see InboxEvent's index (a sent notice's
        # status change left a dead entry in an index on status for every claim to walk).
        Index("ix_notices_pending", "id", sqlite_where=text(NOTICE_PENDING), postgresql_where=text(NOTICE_PENDING)),
    )


class ChainLink(Base):
    """One link of the audit chain: hash = SHA-256(prev_hash ‖ canonical content of the row it
    points at). Appended at commit, one writer at a time; see bot/data/chain.py and the README."""

    __tablename__ = "chain_links"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # 1, 2, 3, … no gaps
    kind: Mapped[str] = mapped_column(String(16))  # a ChainKind
    row_id: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # No index besides seq: each one costs every bank payment an index insert; `audit verify`
    # reads the table whole anyway, and names a row linked twice.


class StatementFile(Base):
    """A bank statement already reconciled: the same file again is recognised by its hash."""

    __tablename__ = "statement_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    effective_date: Mapped[date] = mapped_column(Date)
    company_account: Mapped[str] = mapped_column(String(10))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    balanced: Mapped[bool] = mapped_column(Boolean)
    report: Mapped[str] = mapped_column(Text)  # JSON, as printed


class ReceiptCounter(Base):
    """The last receipt number of each fiscal year: taken and raised in the payment's own
    transaction, so numbers have no gaps (a rolled-back payment returns its number) and are
    never used twice (the row lock serialises concurrent payments)."""

    __tablename__ = "receipt_counters"

    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # Buddhist era
    last_seq: Mapped[int] = mapped_column(Integer)


class Receipt(Base):
    """A receipt (ใบเสร็จรับเงิน) for one confirmed payment, keyed by it. A reversal voids it (kept,
    with the reason and time); a later payment of the invoice gets a new one. Its PDFs are made
    off the bank's path (`pending` names the one still to make) and kept in `receipt_documents`.
    Lean on purpose: each column with an index is one more write on the bank's path. Its public
    link is built from the invoice's public id and the payment id (bot/ledger/receipts.py)."""

    __tablename__ = "receipts"

    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), primary_key=True, autoincrement=False)
    number: Mapped[str] = mapped_column(String(40), unique=True)  # TISI-2569-000123
    fiscal_year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    void_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    pending: Mapped[str | None] = mapped_column(String(8), nullable=True)  # a ReceiptVariant to render
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    # Only the receipts still to render: the worker's claim reads it.
    __table_args__ = (Index("ix_receipts_pending", "pending", sqlite_where=text("pending IS NOT NULL"),
                            postgresql_where=text("pending IS NOT NULL")),
                      # The day's close: the numbers issued in a day, read from the index alone on
                      # PostgreSQL (5,500 a day from the table, scattered: up to 180 ms; from here 5)
                      Index("ix_receipts_issued", "issued_at", postgresql_include=["fiscal_year", "number"]))


class ReceiptDocument(Base):
    """A signed receipt PDF as served, byte for byte (the same link always gets the same bytes),
    and a link of the audit chain: its SHA-256, number and amount. Append-only."""

    __tablename__ = "receipt_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("receipts.payment_id"))  # the receipt's key
    variant: Mapped[str] = mapped_column(String(8))  # a ReceiptVariant: the receipt, or it marked void
    number: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Money)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (UniqueConstraint("payment_id", "variant", name="uq_receipt_document_variant"),)


class PhotoRead(Base):
    """What a photo a user sent was found to hold: never the image, only its SHA-256 (to know the
    same slip again), the decoded codes and the outcome. Kept as long as the chat event is."""

    __tablename__ = "photo_reads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)  # LINE's message id
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    image_set: Mapped[str | None] = mapped_column(String(64), nullable=True)  # LINE's imageSet.id
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))  # a PhotoOutcome
    detail: Mapped[str] = mapped_column(Text, default="")  # why refused, or what was read (JSON)
    invoice_no: Mapped[str | None] = mapped_column(String(20), nullable=True)
    ref2: Mapped[str | None] = mapped_column(String(20), nullable=True)
    amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)  # the code's amount
    bank_code: Mapped[str | None] = mapped_column(String(8), nullable=True)  # an e-slip's sending bank
    trans_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)  # an e-slip's reference
    read_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # An e-slip (or the same image) another LINE user sent before: answered, and kept for staff.
    presented_before: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_photo_reads_trans_ref", "trans_ref"), Index("ix_photo_reads_sha256", "sha256"),
                      Index("ix_photo_reads_invoice_no", "invoice_no"))  # an invoice's story in the console


class StaffAccount(Base):
    """A member of the Institute's staff who signs in to the console (`tisi-pay staff add`)."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(12))  # a StaffRole
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id (bot/core/credentials.py)
    # The password printed by `staff add`: good for one sign-in, which must set a new one.
    password_temporary: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret: Mapped[str] = mapped_column(String(64))  # base32, as in the provisioning URI
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0)  # a code is accepted once
    failed_count: Mapped[int] = mapped_column(Integer, default=0)  # failures in a row
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StaffSession(Base):
    """A browser's session with the console, kept here (the cookie holds only its random id, of
    which this stores the SHA-256): signing in starts a new one and ends the old, signing out or 30
    idle minutes end it for good, whatever the browser still holds."""

    __tablename__ = "staff_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"), nullable=True)
    data: Mapped[str] = mapped_column(Text, default="{}")  # JSON: CSRF token, language, …
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_staff_sessions_seen", "seen_at"),)


class StaffActionEntry(Base):
    """Append-only record of what staff did (and of account changes): each a link of the audit chain."""

    __tablename__ = "staff_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    account: Mapped[str] = mapped_column(String(64))  # the account's name (as typed, for a failed sign-in)
    action: Mapped[str] = mapped_column(String(32))  # a StaffAction
    target: Mapped[str] = mapped_column(String(128), default="")  # what it was done to: a notice, an invoice, …
    detail: Mapped[str] = mapped_column(Text, default="")  # JSON
    address: Mapped[str] = mapped_column(String(64), default="")  # the client's address

    __table_args__ = (Index("ix_staff_actions_account", "account", "at"),)


class ChainCheck(Base):
    """The outcome of each `tisi-pay audit verify`, shown on the console's first page."""

    __tablename__ = "chain_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    intact: Mapped[bool] = mapped_column(Boolean)
    summary: Mapped[str] = mapped_column(Text)  # the line `audit verify` printed
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class Conversation(Base):
    """A LINE user asked for a person ("ติดต่อเจ้าหน้าที่"): open until staff close it; meanwhile the
    bot answers only invoice and license numbers and passes other text to staff."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_user_id: Mapped[int] = mapped_column(ForeignKey("line_users.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # staff's first reply
    last_user_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the user's last message
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        # One open conversation per user, however many workers handle their messages at once.
        Index("uq_conversations_open", "line_user_id", unique=True, sqlite_where=text("closed_at IS NULL"),
              postgresql_where=text("closed_at IS NULL")),
        Index("ix_conversations_closed", "closed_at"),
    )


class ConversationMessage(Base):
    """A line of a conversation: what the user wrote while it was open, or a staff answer (pushed
    through the outbox, event key staff-reply:<id>)."""

    __tablename__ = "conversation_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    speaker: Mapped[str] = mapped_column(String(8))  # a Speaker
    staff_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    answered_by_bot: Mapped[bool] = mapped_column(Boolean, default=False)  # an invoice or license number

    __table_args__ = (Index("ix_conversation_messages_conversation", "conversation_id", "id"),)
