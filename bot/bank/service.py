"""Bank commands against the database: idempotent, audited, with the paid notices in the same
transaction as the payment (transactional outbox)."""
from __future__ import annotations

import json
import logging
import uuid
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from bot.bank import protocol as p
from bot.bank.spool import Spool, SpoolFull
from bot.core.dates import utcnow
from bot.core.i18n import N_, Translator
from bot.data.db import Database, insert_ignore
from bot.data.models import (
    BankMessage,
    BankRequest,
    Invoice,
    Payment,
    PendingReversal,
    Status,
)
from bot.data.states import AuditAction, PaymentStatus
from bot.ledger import audit, notices, receipts
from bot.ledger.receipts import ReceiptBook

log = logging.getLogger(__name__)


def new_tranx_id() -> str:
    return "TISI" + uuid.uuid4().hex[:20].upper()


Render = Callable[[int, bytes], tuple[int, bytes]]  # (status, JSON answer) -> (status, the adapter's bytes)


def as_json(status: int, body: bytes) -> tuple[int, bytes]:
    return status, body


def handle(db: Database, cmd: p.BankCommand, raw_body: bytes, *, upstream: bool = False,
           render: Render = as_json, signed: tuple[str, str] | None = None,
           book: ReceiptBook | None = None) -> tuple[int, bytes, bool]:
    """Process one authenticated, well-formed command. Returns (HTTP status, body, queued notices).

    The answer is kept in the bank core's JSON form, whichever adapter the command came by, and
    `render` turns it into the adapter's bytes (JSON as is, or Direct Link's SOAP): the same
    payment arriving once by each adapter is one payment, and each gets its own form of the
    same answer.

    The idempotency row (command, bankCode, bankRef) is inserted first. On PostgreSQL a
    concurrent duplicate blocks on the unique index until the first transaction commits and
    then finds its stored answer; on SQLite writers are serialised. Either way the answer to a
    repeated request is the stored bytes of the first one. With `upstream`, a change of an
    invoice's status is also queued for the e-License / e-Surveillance systems. `signed` is the
    bank's (X-Bank-Timestamp, X-Bank-Signature), kept with the message for `audit verify`. With
    `book`, a confirmed payment gets its receipt number in this transaction (its PDF is made later,
    off this path); a reversal voids the payment's receipt whether or not receipts are issued now.
    """
    with db.transaction() as session:
        request_id = insert_ignore(session, BankRequest, command=cmd.command, bank_code=cmd.bank_code,
                                   bank_ref=cmd.bank_ref, created_at=utcnow())
        if request_id is None:
            stored = session.execute(select(BankRequest.http_status, BankRequest.response_body).where(
                BankRequest.command == cmd.command, BankRequest.bank_code == cmd.bank_code,
                BankRequest.bank_ref == cmd.bank_ref)).one()
            status, body = render(stored.http_status, stored.response_body.encode())
            _log(session, cmd, raw_body, status, body, _resp_code(stored.response_body.encode()), replayed=True,
                 signed=signed)
            return status, body, False
        tranx_id = new_tranx_id()
        handler = {"inquiry": _inquiry, "payment": _payment, "reversal": _reversal}[cmd.command]
        code, extra, queued, receipt = handler(session, cmd, tranx_id, upstream, book)
        status, core = p.answer(code, tranx_id, **extra)
        session.execute(update(BankRequest).where(BankRequest.id == request_id)
                        .values(http_status=status, response_body=core.decode()))
        status, body = render(status, core)
        _log(session, cmd, raw_body, status, body, code, replayed=False, signed=signed)
        if receipt is not None:  # last: the year's counter row stays locked until COMMIT
            receipts.issue(session, receipt, book)
    return status, body, queued


def log_refusal(db: Database, raw_body: bytes, status: int, body: bytes, cmd: p.BankCommand | None = None,
                resp_code: str | None = None, signed: tuple[str | None, str | None] | None = None,
                spool: Spool | None = None) -> None:
    """Refused and failed requests that passed authentication go to the log too, in their own
    transaction; when the database cannot be reached, to the spool (fsynced before the bank gets
    its answer). Only ever called after authentication: anyone else's request is not the bank's
    record (bot.bank.routes)."""
    code = resp_code or _resp_code(body)
    try:
        with db.transaction() as session:
            _log(session, cmd, raw_body, status, body, code, replayed=False, signed=signed)
    except DATABASE_DOWN as exc:
        if spool is None:
            log.warning("bank request answered %s, not logged: the database is unavailable (%s)", code, short(exc))
            return
        try:
            spooled = spool.append(command=getattr(cmd, "command", None), bank_code=getattr(cmd, "bank_code", None),
                                   bank_ref=getattr(cmd, "bank_ref", None), ref1=getattr(cmd, "ref1", None),
                                   request_body=raw_body, http_status=status,
                                   resp_code=code, response_body=body, signed=signed)
        except SpoolFull as full:
            log.error("bank request %s %s answered %s and NOT kept: the database is unavailable and %s",
                      getattr(cmd, "command", "?"), getattr(cmd, "bank_ref", "?"), code, full)
            return
        log.warning("bank request %s %s answered %s: the database is unavailable (%s); kept in the spool as %s",
                    getattr(cmd, "command", "?"), getattr(cmd, "bank_ref", "?"), code, short(exc), spooled)
    except Exception as exc:  # the log must never turn a clear answer into a 500; nor a data error into an outage
        log.error("could not log a bank request answered %s: %s", code, short(exc))


# Connection and operational errors only: an error in what was sent (a DataError, an
# IntegrityError) is never taken for an outage, so it is never spooled.
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)


def database_down(exc: BaseException) -> bool:
    """The database could not be reached or used: the bank is answered 9999 and retries."""
    return isinstance(exc, DATABASE_DOWN)


def short(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    return f"{type(orig).__name__}: {text}"[:200]


def _resp_code(json_body: bytes) -> str:
    return json.loads(json_body)["respCode"]


def _log(session: Session, cmd, raw_body: bytes, status: int, body: bytes, resp_code: str, replayed: bool,
         signed: tuple[str | None, str | None] | None = None) -> None:
    timestamp, signature = signed or (None, None)
    session.add(BankMessage(
        received_at=utcnow(),
        command=getattr(cmd, "command", None), bank_code=getattr(cmd, "bank_code", None),
        bank_ref=getattr(cmd, "bank_ref", None), ref1=(getattr(cmd, "ref1", None) or "")[:20] or None,
        request_body=raw_body[:65536].decode("utf-8", "replace"), http_status=status,
        resp_code=resp_code, response_body=body.decode(), replayed=replayed,
        bank_timestamp=(timestamp or "")[:32] or None, bank_signature=(signature or "")[:128] or None,
    ))


def _locked_invoice(session: Session, cmd: p.BankCommand) -> Invoice | None:
    inv = session.scalar(select(Invoice).where(Invoice.invoice_no == cmd.ref1).with_for_update())
    return inv if inv is not None and inv.ref2 == cmd.ref2 else None


def _refusal_for_state(inv: Invoice, cmd: p.BankCommand) -> str | None:
    state = inv.effective_status()
    if state == Status.PAID:
        return p.ALREADY_PAID
    if state == Status.CANCELLED:
        return p.CANCELLED
    if state == Status.EXPIRED:
        return p.EXPIRED
    if cmd.amount is not None and cmd.amount != inv.amount:
        return p.AMOUNT_DIFFERS
    return None


def _inquiry(session: Session, cmd: p.BankCommand, tranx_id: str, upstream: bool, book: ReceiptBook | None):
    inv = _locked_invoice(session, cmd)
    if inv is None:
        return p.NOT_FOUND, {}, False, None
    refusal = _refusal_for_state(inv, cmd)
    if refusal:
        return refusal, {}, False, None
    return p.OK, {"customerName": inv.payer_name, "amount": f"{inv.amount:.2f}"}, False, None


def _payment(session: Session, cmd: p.BankCommand, tranx_id: str, upstream: bool, book: ReceiptBook | None):
    # One round trip: lock the invoice and learn whether a reversal of this payment came first.
    reversed_first = (
        select(PendingReversal.id)
        .where(PendingReversal.bank_code == cmd.bank_code, PendingReversal.bank_ref == cmd.bank_ref,
               PendingReversal.applied_at.is_(None))
        .exists()
    )
    row = session.execute(
        select(Invoice, reversed_first).where(Invoice.invoice_no == cmd.ref1).with_for_update(of=Invoice)
    ).first()
    inv, pending_exists = (row[0], row[1]) if row is not None and row[0].ref2 == cmd.ref2 else (None, False)
    if inv is None:
        return p.NOT_FOUND, {}, False, None
    refusal = _refusal_for_state(inv, cmd)
    if refusal == p.ALREADY_PAID:
        # The customer may have been debited twice: keep it where staff will see it.
        session.add(Payment(invoice_id=inv.id, bank_code=cmd.bank_code, bank_ref=cmd.bank_ref, amount=cmd.amount,
                            channel=cmd.channel, transacted_at=cmd.transacted_at, status=PaymentStatus.DOUBLE_PAYMENT,
                            tranx_id=tranx_id, created_at=utcnow()))
        _audit(session, inv, AuditAction.DOUBLE_PAYMENT, inv.status, inv.status, cmd)
    if refusal:
        return refusal, {}, False, None
    # A receipt, unless receipts are off or the bank already reversed this payment (net: nothing paid).
    receipt_prefix = book.prefix if book is not None and not pending_exists else None
    payment = Payment(invoice_id=inv.id, bank_code=cmd.bank_code, bank_ref=cmd.bank_ref, amount=cmd.amount,
                      channel=cmd.channel, transacted_at=cmd.transacted_at, status=PaymentStatus.CONFIRMED,
                      tranx_id=tranx_id, created_at=utcnow(), receipt_prefix=receipt_prefix)
    session.add(payment)
    inv.status, inv.paid_at = Status.PAID, cmd.transacted_at
    session.flush()
    receipt = receipts.to_issue(inv, payment) if receipt_prefix is not None else None
    _audit(session, inv, AuditAction.PAID, Status.UNPAID, Status.PAID, cmd)
    if pending_exists:
        pending = session.scalar(select(PendingReversal).where(
            PendingReversal.bank_code == cmd.bank_code, PendingReversal.bank_ref == cmd.bank_ref).with_for_update())
        # The bank reversed this payment before telling us about it: net, nothing was paid,
        # so the customer gets no notice (a "paid" immediately followed by "reversed").
        pending.applied_at = utcnow()
        _reverse(session, inv, payment, cmd, notify=False, upstream=False)
        return p.OK, {}, False, None  # nothing was paid, net: no receipt
    queued = notices.enqueue_payment_notices(session, inv, payment, kind="paid",
                                             receipt_url=receipt.url(book) if receipt is not None else None)
    if upstream:
        notices.enqueue_upstream(session, inv, payment, kind="paid", previous=Status.UNPAID)
        queued = True
    return p.OK, {}, queued, receipt


def _reversal(session: Session, cmd: p.BankCommand, tranx_id: str, upstream: bool, book: ReceiptBook | None):
    payment = session.scalar(select(Payment).where(
        Payment.bank_code == cmd.bank_code, Payment.bank_ref == cmd.bank_ref,
        Payment.status.in_((PaymentStatus.CONFIRMED, PaymentStatus.REVERSED))).with_for_update())
    if payment is None:
        insert_ignore(session, PendingReversal, bank_code=cmd.bank_code, bank_ref=cmd.bank_ref, received_at=utcnow())
        return p.UNKNOWN_PAYMENT, {}, False, None
    inv = _locked_invoice(session, cmd)
    if inv is None or inv.id != payment.invoice_id:
        return p.NOT_FOUND, {}, False, None
    if cmd.amount != payment.amount:
        return p.AMOUNT_DIFFERS, {}, False, None
    if payment.status == PaymentStatus.REVERSED:
        return p.OK, {}, False, None
    queued = _reverse(session, inv, payment, cmd, notify=True, upstream=upstream)
    return p.OK, {}, queued, None


def _reverse(session: Session, inv: Invoice, payment: Payment, cmd: p.BankCommand, notify: bool,
             upstream: bool) -> bool:
    payment.status, payment.reversed_at = PaymentStatus.REVERSED, utcnow()
    voided = receipts.void(session, payment, _reversal_reason(payment.bank_ref))
    _audit(session, inv, AuditAction.REVERSED, inv.status, Status.UNPAID, cmd,
           **({"voidedReceipt": voided.number} if voided is not None else {}))
    inv.status, inv.paid_at = Status.UNPAID, None
    session.flush()
    queued = notices.enqueue_payment_notices(session, inv, payment, kind="reversed") if notify else False
    if upstream:
        notices.enqueue_upstream(session, inv, payment, kind="reversed", previous=Status.PAID)
        queued = True
    return queued


_REVERSAL_REASON = N_("The bank reversed the payment (bank reference %(ref)s)")


def _reversal_reason(bank_ref: str) -> str:
    """Why a receipt was voided, as printed on it: Thai, then English."""
    return f"{Translator('th')(_REVERSAL_REASON, ref=bank_ref)} / {Translator('en')(_REVERSAL_REASON, ref=bank_ref)}"


def _audit(session: Session, inv: Invoice, action: AuditAction, before: str, after: str, cmd: p.BankCommand,
           **extra: object) -> None:
    session.add(audit.entry(inv.id, action, before, after, "bank", command=cmd.command, bankCode=cmd.bank_code,
                            bankRef=cmd.bank_ref, amount=cmd.amount, channel=cmd.channel,
                            transDateTime=cmd.transacted_at.isoformat(), **extra))
