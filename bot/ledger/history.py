"""A user's payment history: payments of the invoices they asked about and of their licenses
(asked about or subscribed to), never anyone else's."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.data.models import Invoice, LineUser, Payment, Subscription, Watch
from bot.data.states import PaymentStatus
from bot.ledger.batch import Batch

HISTORY_LENGTH = 10


def payments_for(session: Session, user: LineUser, limit: int = HISTORY_LENGTH,
                 batch: Batch | None = None) -> list[tuple[Payment, Invoice]]:
    Batch.settle(session, batch)  # invoices asked about earlier in this batch of chat events count
    asked_invoices = select(Watch.invoice_id).where(Watch.line_user_id == user.id, Watch.invoice_id.is_not(None))
    asked_licenses = select(Watch.license_no).where(Watch.line_user_id == user.id, Watch.license_no.is_not(None))
    subscribed = Subscription.line_user_id == user.id, Subscription.withdrawn_at.is_(None)
    sub_licenses = select(Subscription.license_no).where(*subscribed, Subscription.license_no.is_not(None))
    sub_invoices = select(Subscription.invoice_id).where(*subscribed, Subscription.invoice_id.is_not(None))
    query = (
        select(Payment, Invoice).join(Invoice, Payment.invoice_id == Invoice.id)
        .where(Payment.status.in_((PaymentStatus.CONFIRMED, PaymentStatus.REVERSED)))
        .where(or_(Invoice.id.in_(asked_invoices), Invoice.id.in_(sub_invoices),
                   Invoice.license_no.in_(asked_licenses), Invoice.license_no.in_(sub_licenses)))
        .order_by(Payment.transacted_at.desc(), Payment.id.desc()).limit(limit)
    )
    return [(payment, inv) for payment, inv in session.execute(query)]
