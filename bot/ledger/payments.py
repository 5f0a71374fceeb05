"""Every change of an invoice's money state: paid, paid twice, reversed, cancelled. Each writes its
audit entry, queues its notices and numbers or voids its receipt in the caller's transaction; the
bank adapters and the Institute's API call these and nothing else changes money. And what the
web pages and handlers ask of payments."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.dates import utcnow
from bot.core.i18n import N_, Translator
from bot.data.models import Invoice, Payment
from bot.data.states import AuditAction, InvoiceStatus, PaymentStatus
from bot.ledger import audit, notices, receipts
from bot.ledger.receipts import ReceiptBook, ReceiptToIssue

BANK = "bank"  # the actor of what the bank's messages change


@dataclass(frozen=True)
class BankMoney:
    """What a bank message says of money, as the audit entry records it."""

    command: str
    bank_code: str
    bank_ref: str
    amount: Decimal | None
    channel: str
    transacted_at: datetime

    def detail(self) -> dict[str, Any]:
        return {"command": self.command, "bankCode": self.bank_code, "bankRef": self.bank_ref, "amount": self.amount,
                "channel": self.channel, "transDateTime": self.transacted_at.isoformat()}


@dataclass(frozen=True)
class Paid:
    payment: Payment
    receipt: ReceiptToIssue | None  # to number with receipts.issue, last in the transaction
    queued: bool  # notices were queued (the worker should be woken)


def pay(session: Session, inv: Invoice, money: BankMoney, tranx_id: str, *, book: ReceiptBook | None,
        reversed_first: bool, upstream: bool) -> Paid:
    """The bank confirmed a payment of an unpaid invoice (its row locked by the caller). With
    `reversed_first` the bank reversed it before telling us of it: net nothing was paid, so it is
    recorded and reversed at once, with no receipt and no notice."""
    # A receipt, unless receipts are off or the bank already reversed this payment (net: nothing paid).
    receipt_prefix = book.prefix if book is not None and not reversed_first else None
    payment = Payment(invoice_id=inv.id, bank_code=money.bank_code, bank_ref=money.bank_ref, amount=money.amount,
                      channel=money.channel, transacted_at=money.transacted_at, status=PaymentStatus.CONFIRMED,
                      tranx_id=tranx_id, created_at=utcnow(), receipt_prefix=receipt_prefix)
    session.add(payment)
    inv.status, inv.paid_at = InvoiceStatus.PAID, money.transacted_at
    session.flush()
    receipt = receipts.to_issue(inv, payment) if receipt_prefix is not None else None
    _audit(session, inv, AuditAction.PAID, InvoiceStatus.UNPAID, InvoiceStatus.PAID, money)
    if reversed_first:
        reverse(session, inv, payment, money, notify=False, upstream=False)
        return Paid(payment, None, False)
    queued = notices.enqueue_payment_notices(session, inv, payment, kind="paid",
                                             receipt_url=receipt.url(book) if receipt is not None and book else None)
    if upstream:
        notices.enqueue_upstream(session, inv, payment, kind="paid", previous=InvoiceStatus.UNPAID)
        queued = True
    return Paid(payment, receipt, queued)


def record_double_payment(session: Session, inv: Invoice, money: BankMoney, tranx_id: str) -> Payment:
    """The bank says a paid invoice was paid again: refused, but kept where staff will see it (the
    customer may have been debited twice)."""
    payment = Payment(invoice_id=inv.id, bank_code=money.bank_code, bank_ref=money.bank_ref, amount=money.amount,
                      channel=money.channel, transacted_at=money.transacted_at, status=PaymentStatus.DOUBLE_PAYMENT,
                      tranx_id=tranx_id, created_at=utcnow())
    session.add(payment)
    _audit(session, inv, AuditAction.DOUBLE_PAYMENT, inv.status, inv.status, money)
    return payment


def reverse(session: Session, inv: Invoice, payment: Payment, money: BankMoney, *, notify: bool,
            upstream: bool) -> bool:
    """The bank reversed a confirmed payment: the invoice is unpaid again and its receipt void.
    Whether notices were queued."""
    payment.status, payment.reversed_at = PaymentStatus.REVERSED, utcnow()
    voided = receipts.void(session, payment, _reversal_reason(payment.bank_ref))
    _audit(session, inv, AuditAction.REVERSED, inv.status, InvoiceStatus.UNPAID, money,
           **({"voidedReceipt": voided.number} if voided is not None else {}))
    inv.status, inv.paid_at = InvoiceStatus.UNPAID, None
    session.flush()
    queued = notices.enqueue_payment_notices(session, inv, payment, kind="reversed") if notify else False
    if upstream:
        notices.enqueue_upstream(session, inv, payment, kind="reversed", previous=InvoiceStatus.PAID)
        queued = True
    return queued


class Cancelled(enum.StrEnum):
    """What asking to cancel an invoice came to."""

    DONE = "done"
    ALREADY = "already"  # cancelled before: nothing changed
    PAID = "paid"  # a paid invoice cannot be cancelled


def cancel(session: Session, inv: Invoice, actor: str, reason: str = "") -> Cancelled:
    """Cancel an unpaid (or expired) invoice, its row locked by the caller."""
    if inv.status == InvoiceStatus.PAID:
        return Cancelled.PAID
    if inv.status == InvoiceStatus.CANCELLED:
        return Cancelled.ALREADY
    session.add(audit.entry(inv.id, AuditAction.CANCELLED, inv.status, InvoiceStatus.CANCELLED, actor,
                            reason=reason[:500]))
    inv.status = InvoiceStatus.CANCELLED
    return Cancelled.DONE


# -- what pages and handlers ask ------------------------------------------------------------------
def payments_of(session: Session, inv: Invoice) -> list[Payment]:
    return list(session.scalars(select(Payment).where(Payment.invoice_id == inv.id).order_by(Payment.id)))


def latest_confirmed(session: Session, inv: Invoice) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.invoice_id == inv.id, Payment.status == PaymentStatus.CONFIRMED)
                          .order_by(Payment.transacted_at.desc()).limit(1))


def confirmed_by_bank_ref(session: Session, bank_ref: str) -> tuple[Payment, Invoice] | None:
    """A confirmed payment with that bank reference (from an e-slip), with its invoice."""
    found = session.execute(select(Payment, Invoice).join(Invoice, Invoice.id == Payment.invoice_id)
                            .where(Payment.bank_ref == bank_ref, Payment.status == PaymentStatus.CONFIRMED)
                            .limit(1)).first()
    return (found[0], found[1]) if found is not None else None


_REVERSAL_REASON = N_("The bank reversed the payment (bank reference %(ref)s)")


def _reversal_reason(bank_ref: str) -> str:
    """Why a receipt was voided, as printed on it: Thai, then English."""
    return f"{Translator('th')(_REVERSAL_REASON, ref=bank_ref)} / {Translator('en')(_REVERSAL_REASON, ref=bank_ref)}"


def _audit(session: Session, inv: Invoice, action: AuditAction, before: str, after: str, money: BankMoney,
           **extra: object) -> None:
    session.add(audit.entry(inv.id, action, before, after, BANK, **money.detail(), **extra))
