"""Subscriptions: a user's recorded consent (PDPA) to proactive notices about a license, or about
one invoice when it has no license. Consent is kept with the exact wording shown; withdrawing
keeps the row and sets when. Nothing here talks to LINE."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.core.dates import utcnow
from bot.data.db import insert_ignore
from bot.data.models import Invoice, LineUser, Subscription, Watch
from bot.data.states import SubscribeOutcome
from bot.ledger.batch import Batch
from bot.ledger.invoices import find_invoice, invoices_for_license, remember_interest

MAX_ACTIVE = 20  # per user: a list that fits one chat bubble, and a cap on what a script can store


@dataclass(frozen=True)
class Target:
    """What a subscription is about: a license, or one invoice that has no license."""

    license_no: str | None = None
    invoice: Invoice | None = None

    @property
    def label(self) -> str:
        return self.license_no or (self.invoice.invoice_no if self.invoice is not None else "")


def resolve(session: Session, *, license_no: str | None = None, invoice_no: str | None = None) -> Target | None:
    """The target named by a license or an invoice number, or None if we know no such thing.

    An invoice that belongs to a license stands for its license: the business wants that
    license's next invoices too, not only this one."""
    if license_no:
        return Target(license_no=license_no) if invoices_for_license(session, license_no) else None
    if invoice_no:
        inv = find_invoice(session, invoice_no)
        if inv is None:
            return None
        return Target(license_no=inv.license_no) if inv.license_no else Target(invoice=inv)
    return None


def active(session: Session, user: LineUser) -> list[Subscription]:
    return list(session.scalars(
        select(Subscription).where(Subscription.line_user_id == user.id, Subscription.withdrawn_at.is_(None))
        .order_by(Subscription.created_at, Subscription.id)
    ))


def _active_for(session: Session, user: LineUser, target: Target) -> Subscription | None:
    query = select(Subscription).where(Subscription.line_user_id == user.id, Subscription.withdrawn_at.is_(None))
    if target.license_no:
        query = query.where(Subscription.license_no == target.license_no)
    elif target.invoice is not None:
        query = query.where(Subscription.invoice_id == target.invoice.id)
    return session.scalar(query)


def is_subscribed(session: Session, user: LineUser, label: str, batch: Batch | None = None) -> bool:
    """Whether the user's notices about this license (or invoice number, for one without a
    license) are on."""
    if batch is not None and user.id not in batch.maybe_subscribed:
        return False  # known for the whole batch of chat events: no notices are on
    query = select(Subscription.id).where(Subscription.line_user_id == user.id, Subscription.withdrawn_at.is_(None))
    if label.isdigit():
        query = query.join(Invoice, Invoice.id == Subscription.invoice_id).where(Invoice.invoice_no == label)
    else:
        query = query.where(Subscription.license_no == label)
    return session.scalar(query.limit(1)) is not None


def subscribe(session: Session, user: LineUser, target: Target, *, consent_text: str, lang: str,
              batch: Batch | None = None) -> SubscribeOutcome:
    if _active_for(session, user, target) is not None:
        return SubscribeOutcome.ALREADY
    count = session.scalar(select(func.count()).select_from(Subscription).where(
        Subscription.line_user_id == user.id, Subscription.withdrawn_at.is_(None))) or 0
    if count >= MAX_ACTIVE:
        return SubscribeOutcome.LIMIT
    if batch is not None:
        batch.maybe_subscribed.add(user.id)
    created = insert_ignore(  # the partial unique index settles a double tap on two workers
        session, Subscription, line_user_id=user.id, license_no=target.license_no,
        invoice_id=target.invoice.id if target.invoice else None, consent_text=consent_text[:2000],
        consent_lang=lang, created_at=utcnow(),
    )
    if created is None:
        return SubscribeOutcome.ALREADY
    # A subscriber also gets the paid and reversal notices, which go to those who asked.
    remember_interest(session, user, invoice=target.invoice, license_no=target.license_no, batch=batch)
    return SubscribeOutcome.SUBSCRIBED


def withdraw(session: Session, user: LineUser, subscription: Subscription, batch: Batch | None = None) -> None:
    subscription.withdrawn_at = utcnow()
    if subscription.license_no:
        Batch.settle(session, batch)  # a watch asked for earlier in this batch is deleted too
        # Stop the license's paid notices too; invoices the user asked about one by one still get theirs.
        session.execute(delete(Watch).where(Watch.line_user_id == user.id, Watch.license_no == subscription.license_no))


def unsubscribe(session: Session, user: LineUser, target: Target, batch: Batch | None = None) -> bool:
    found = _active_for(session, user, target)
    if found is None:
        return False
    withdraw(session, user, found, batch)
    return True


def unsubscribe_by_id(session: Session, user: LineUser, subscription_id: int,
                      batch: Batch | None = None) -> Subscription | None:
    """Only the user's own active subscription: a postback carrying someone else's id finds nothing."""
    found = session.scalar(select(Subscription).where(
        Subscription.id == subscription_id, Subscription.line_user_id == user.id, Subscription.withdrawn_at.is_(None)))
    if found is not None:
        withdraw(session, user, found, batch)
    return found
