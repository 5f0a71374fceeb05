"""Queueing notices: who gets one when an invoice's money state changes, rendered in their
language, written in the same transaction as the change (transactional outbox). Delivery is
`bot.runtime.outbox`."""
from __future__ import annotations

import json
import uuid

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from bot.core.dates import utcnow
from bot.core.i18n import Translator
from bot.data.db import insert_ignore
from bot.data.models import Invoice, LineUser, Notice, Payment, PhotoRead, Watch
from bot.data.states import NoticeChannel, NoticeStatus
from bot.data.wakeup import notify_workers
from bot.render.messages import receipt

UPSTREAM_RECIPIENT = "upstream"
OUTBOX = "outbox"  # the queue that delivers notices (bot.runtime.outbox.NoticeQueue.name)


def recipients(session: Session, inv: Invoice, payment: Payment | None = None) -> list[LineUser]:
    """Followed LINE users who asked about this invoice or its license, and (for a payment) those
    who sent a bank e-slip with its reference before Krungthai confirmed it."""
    watchers = select(Watch.line_user_id).where(
        or_(Watch.invoice_id == inv.id, (Watch.license_no == inv.license_no) if inv.license_no else false())
    )
    who: ColumnElement[bool] = LineUser.id.in_(watchers)
    if payment is not None:
        slips = select(PhotoRead.user_id).where(PhotoRead.trans_ref == payment.bank_ref)
        who = or_(who, LineUser.user_id.in_(slips))
    return list(session.scalars(select(LineUser).where(who, LineUser.followed.is_(True))).all())


def enqueue(session: Session, *, channel: NoticeChannel, event_key: str, to: str, body: str) -> bool:
    """One notice per (event, recipient), whoever queues it how often; True if it is new."""
    now = utcnow()
    return insert_ignore(
        session, Notice, retry_key=str(uuid.uuid4()), channel=channel, event_key=event_key, to_user=to,
        messages=body, status=NoticeStatus.PENDING, attempts=0, next_attempt_at=now, created_at=now,
    ) is not None


def enqueue_payment_notices(session: Session, inv: Invoice, payment: Payment, kind: str,
                            receipt_url: str | None = None) -> bool:
    """The paid (or reversed) notice, once per recipient."""
    queued = False
    for user in recipients(session, inv, payment):
        message = receipt(inv, payment, Translator(user.language), reversed_=kind == "reversed",
                          receipt_url=receipt_url)
        queued |= enqueue(session, channel=NoticeChannel.LINE, event_key=f"{kind}:{payment.id}", to=user.user_id,
                          body=json.dumps([message], ensure_ascii=False))
    if queued:
        notify_workers(session, OUTBOX)
    return queued


def enqueue_upstream(session: Session, inv: Invoice, payment: Payment, kind: str, previous: str) -> None:
    """The invoice's new status for the e-License / e-Surveillance systems."""
    enqueue(session, channel=NoticeChannel.UPSTREAM, event_key=f"upstream:{kind}:{payment.id}",
            to=UPSTREAM_RECIPIENT, body=status_change(inv, payment, previous=previous))
    notify_workers(session, OUTBOX)


def status_change(inv: Invoice, payment: Payment | None, *, previous: str) -> str:
    body = {
        "event": "invoice.status_changed", "invoice_no": inv.invoice_no, "ref2": inv.ref2,
        "status": inv.status, "previous_status": previous, "amount": f"{inv.amount:.2f}",
        "paid_at": inv.paid_at.isoformat() if inv.paid_at else None,
        "payment": None if payment is None else {
            "bank_code": payment.bank_code, "bank_ref": payment.bank_ref, "channel": payment.channel,
            "amount": f"{payment.amount:.2f}", "status": payment.status, "tranx_id": payment.tranx_id},
        "at": utcnow().isoformat(),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
