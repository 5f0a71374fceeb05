"""Bank commands against the database: idempotent, audited, with the paid notices in the same
transaction as the payment (transactional outbox)."""
from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.bank import protocol as p
from bot.bank.spool import Spool, SpoolFull
from bot.core.dates import utcnow
from bot.core.errors import one_line
from bot.data.db import OUTAGE, Database, insert_ignore
from bot.data.models import BankMessage, BankRequest, Invoice, Payment, PendingReversal
from bot.data.states import InvoiceStatus, PaymentStatus
from bot.ledger import payments, receipts
from bot.ledger.receipts import ReceiptBook, ReceiptToIssue

log = logging.getLogger(__name__)


def new_tranx_id() -> str:
    return "TISI" + uuid.uuid4().hex[:20].upper()


Render = Callable[[int, bytes], tuple[int, bytes]]  # (status, JSON answer) -> (status, the adapter's bytes)


def as_json(status: int, body: bytes) -> tuple[int, bytes]:
    return status, body


@dataclass(frozen=True)
class Answered:
    """What the bank is answered, and what the transaction gave the workers to do."""

    status: int
    body: bytes
    notices_queued: bool = False  # paid or reversed notices, callbacks upstream
    receipt_queued: bool = False  # a receipt numbered, its PDF to make


def handle(db: Database, cmd: p.BankCommand, raw_body: bytes, *, upstream: bool = False,
           render: Render = as_json, signed: tuple[str, str] | None = None,
           book: ReceiptBook | None = None) -> Answered:
    """Process one authenticated, well-formed command: the answer, and what work it queued.

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
            return Answered(status, body)
        tranx_id = new_tranx_id()
        handler = {"inquiry": _inquiry, "payment": _payment, "reversal": _reversal}[cmd.command]
        handled = handler(session, cmd, tranx_id, upstream, book)
        status, core = p.answer(handled.code, tranx_id, **handled.extra)
        session.execute(update(BankRequest).where(BankRequest.id == request_id)
                        .values(http_status=status, response_body=core.decode()))
        status, body = render(status, core)
        _log(session, cmd, raw_body, status, body, handled.code, replayed=False, signed=signed)
        if handled.receipt is not None and book is not None:  # last: the year's counter row stays locked until COMMIT
            receipts.issue(session, handled.receipt, book)
    return Answered(status, body, notices_queued=handled.queued,
                    receipt_queued=handled.receipt is not None and book is not None)


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
            log.warning("bank request answered %s, not logged: the database is unavailable (%s)", code, one_line(exc))
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
                    getattr(cmd, "command", "?"), getattr(cmd, "bank_ref", "?"), code, one_line(exc), spooled)
    except Exception as exc:  # the log must never turn a clear answer into a 500; nor a data error into an outage
        log.error("could not log a bank request answered %s: %s", code, one_line(exc))


DATABASE_DOWN = OUTAGE  # an error in what was sent is never taken for an outage, so it is never spooled


def database_down(exc: BaseException) -> bool:
    """The database could not be reached or used: the bank is answered 9999 and retries."""
    return isinstance(exc, DATABASE_DOWN)


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
    if state == InvoiceStatus.PAID:
        return p.ALREADY_PAID
    if state == InvoiceStatus.CANCELLED:
        return p.CANCELLED
    if state == InvoiceStatus.EXPIRED:
        return p.EXPIRED
    if cmd.amount is not None and cmd.amount != inv.amount:
        return p.AMOUNT_DIFFERS
    return None


@dataclass(frozen=True)
class Handled:
    """What a bank command came to: its respCode, the answer's extra fields, whether notices were
    queued, and a receipt to number last in the transaction."""

    code: str
    extra: dict[str, str] = field(default_factory=dict)
    queued: bool = False
    receipt: ReceiptToIssue | None = None


def _money(cmd: p.BankCommand) -> payments.BankMoney:
    return payments.BankMoney(cmd.command, cmd.bank_code, cmd.bank_ref, cmd.amount, cmd.channel, cmd.transacted_at)


def _inquiry(session: Session, cmd: p.BankCommand, tranx_id: str, upstream: bool, book: ReceiptBook | None) -> Handled:
    inv = _locked_invoice(session, cmd)
    if inv is None:
        return Handled(p.NOT_FOUND)
    refusal = _refusal_for_state(inv, cmd)
    if refusal:
        return Handled(refusal)
    return Handled(p.OK, {"customerName": inv.payer_name, "amount": f"{inv.amount:.2f}"})


def _payment(session: Session, cmd: p.BankCommand, tranx_id: str, upstream: bool, book: ReceiptBook | None) -> Handled:
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
        return Handled(p.NOT_FOUND)
    refusal = _refusal_for_state(inv, cmd)
    if refusal == p.ALREADY_PAID:
        payments.record_double_payment(session, inv, _money(cmd), tranx_id)
    if refusal:
        return Handled(refusal)
    if pending_exists:
        pending = session.scalars(select(PendingReversal).where(
            PendingReversal.bank_code == cmd.bank_code, PendingReversal.bank_ref == cmd.bank_ref).with_for_update()).one()
        pending.applied_at = utcnow()
    paid = payments.pay(session, inv, _money(cmd), tranx_id, book=book, reversed_first=bool(pending_exists),
                        upstream=upstream)
    return Handled(p.OK, queued=paid.queued, receipt=paid.receipt)


def _reversal(session: Session, cmd: p.BankCommand, tranx_id: str, upstream: bool, book: ReceiptBook | None) -> Handled:
    payment = session.scalar(select(Payment).where(
        Payment.bank_code == cmd.bank_code, Payment.bank_ref == cmd.bank_ref,
        Payment.status.in_((PaymentStatus.CONFIRMED, PaymentStatus.REVERSED))).with_for_update())
    if payment is None:
        insert_ignore(session, PendingReversal, bank_code=cmd.bank_code, bank_ref=cmd.bank_ref, received_at=utcnow())
        return Handled(p.UNKNOWN_PAYMENT)
    inv = _locked_invoice(session, cmd)
    if inv is None or inv.id != payment.invoice_id:
        return Handled(p.NOT_FOUND)
    if cmd.amount != payment.amount:
        return Handled(p.AMOUNT_DIFFERS)
    if payment.status == PaymentStatus.REVERSED:
        return Handled(p.OK)
    return Handled(p.OK, queued=payments.reverse(session, inv, payment, _money(cmd), notify=True, upstream=upstream))
