"""Proactive notices to subscribers: each new invoice of a subscribed license, a reminder
REMINDER_DAYS before the due date, and one overdue notice after it.

Each (user, invoice, kind) goes out at most once, ever: its notice row's (event key, user) is
unique in the outbox, so a re-import, a second `remind` at the same moment, or two `remind`
processes on two machines at once queue it once (INSERT … ON CONFLICT DO NOTHING). Nothing is
queued inside QUIET_HOURS: `remind` then does nothing (its next run after them sends), and a
new-invoice notice is held in the outbox until they end. Blocked (unfollowed) users and
withdrawn subscriptions get nothing.
"""
from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, tuple_
from sqlalchemy.orm import Session

from bot import metrics
from bot.config import Settings
from bot.core.dates import to_bangkok, today_bangkok, utcnow
from bot.core.i18n import Translator
from bot.core.schedule import OVERDUE_WINDOW_DAYS, ReminderKind, reminder_due
from bot.data.db import insert_ignore_rows
from bot.data.models import Invoice, LineUser, Notice, Status, Subscription
from bot.data.states import NoticeChannel, NoticeStatus
from bot.data.wakeup import notify_workers
from bot.ledger.notices import OUTBOX
from bot.render.messages import Links, proactive_messages

# A subscriber hears of an invoice that arrived while `remind` could not run (no settings at
# import time, say) if it is at most this old and still payable.
NEW_INVOICE_WINDOW = timedelta(days=7)
_CHUNK = 500


@dataclass
class RemindReport:
    at: datetime
    quiet: bool = False
    queued: Counter[str] = field(default_factory=Counter)  # by kind
    already: int = 0  # due, but queued before (by this or another process)

    def line(self) -> str:
        when = to_bangkok(self.at).strftime("%Y-%m-%d %H:%M Bangkok time")
        if self.quiet:
            return f"{when}: inside QUIET_HOURS, nothing queued (the next run after them queues what is due)"
        order = sorted(self.queued, key=lambda k: (k != ReminderKind.NEW_INVOICE, k))
        kinds = ", ".join(f"{ReminderKind.plain(k)}: {self.queued[k]}" for k in order) or (
            "nothing new" if self.already else "nothing due")
        return f"{when}: queued {sum(self.queued.values())} ({kinds}); {self.already} already queued before"


@dataclass(frozen=True)
class _Due:
    invoice_id: int
    user_id: str
    language: str
    kind: str
    days_left: int

    @property
    def event_key(self) -> str:
        return f"{self.kind}:{self.invoice_id}"


def remind(session: Session, settings: Settings, links: Links, now: datetime) -> RemindReport:
    """Queue every reminder, overdue and new-invoice notice due at `now` (one transaction)."""
    report = RemindReport(at=now)
    if settings.quiet_hours is not None and settings.quiet_hours.contains(now):
        report.quiet = True
        return report
    today = today_bangkok(now)
    due = [*_reminders(session, settings, today), *_new_invoices(session, now, today)]
    fresh = _not_yet_queued(session, due)
    report.already = len(due) - len(fresh)
    queued = _queue(session, fresh, settings, links, today)
    report.queued.update(queued)
    for kind, count in queued.items():
        metrics.REMINDERS_QUEUED.labels(kind).inc(count)
    return report


def queue_new_invoice_notices(session: Session, invoice_ids: list[int], settings: Settings, links: Links,
                              now: datetime) -> int:
    """At import or API upsert: subscribers of each new invoice's license hear of it once; inside
    quiet hours the notice waits in the outbox until they end."""
    due = []
    for start in range(0, len(invoice_ids), _CHUNK):
        rows = session.execute(
            select(Invoice.id, LineUser.user_id, LineUser.language)
            .join(Subscription, Subscription.license_no == Invoice.license_no)
            .join(LineUser, LineUser.id == Subscription.line_user_id)
            .where(Invoice.id.in_(invoice_ids[start:start + _CHUNK]), Invoice.status == Status.UNPAID,
                   Subscription.withdrawn_at.is_(None), LineUser.followed.is_(True))
        )
        due += [_Due(inv_id, user_id, lang, ReminderKind.NEW_INVOICE, 0) for inv_id, user_id, lang in rows]
    release = settings.quiet_hours.release_at(now) if settings.quiet_hours else now
    return sum(_queue(session, due, settings, links, today_bangkok(now), not_before=release).values())


def _reminders(session: Session, settings: Settings, today: date) -> list[_Due]:
    """Unpaid invoices of active subscriptions whose due date is within the reminder days ahead
    or the overdue window behind, with the reminder each is due for today."""
    if not settings.reminder_days and OVERDUE_WINDOW_DAYS <= 0:
        return []
    low = today - timedelta(days=OVERDUE_WINDOW_DAYS)
    high = today + timedelta(days=max(settings.reminder_days, default=0))
    base = (Invoice.status == Status.UNPAID, Invoice.due_date >= low, Invoice.due_date <= high,
            Subscription.withdrawn_at.is_(None), LineUser.followed.is_(True))
    by_license = (select(Invoice.id, Invoice.due_date, LineUser.user_id, LineUser.language)
                  .join(Subscription, Subscription.license_no == Invoice.license_no)
                  .join(LineUser, LineUser.id == Subscription.line_user_id).where(*base))
    by_invoice = (select(Invoice.id, Invoice.due_date, LineUser.user_id, LineUser.language)
                  .join(Subscription, Subscription.invoice_id == Invoice.id)
                  .join(LineUser, LineUser.id == Subscription.line_user_id).where(*base))
    found: dict[tuple[int, str], _Due] = {}
    for query in (by_license, by_invoice):
        for inv_id, due_date, user_id, lang in session.execute(query):
            kind = reminder_due(due_date, today, settings.reminder_days)
            if kind is not None:
                found[(inv_id, user_id)] = _Due(inv_id, user_id, lang, kind[0], kind[1])
    return list(found.values())


def _new_invoices(session: Session, now: datetime, today: date) -> list[_Due]:
    """Invoices that arrived for a license after the user subscribed to it, recently, still
    payable: the catch-up for imports that could not queue their notices."""
    rows = session.execute(
        select(Invoice.id, LineUser.user_id, LineUser.language)
        .join(Subscription, and_(Subscription.license_no == Invoice.license_no,
                                 Invoice.created_at >= Subscription.created_at))
        .join(LineUser, LineUser.id == Subscription.line_user_id)
        .where(Invoice.status == Status.UNPAID, Invoice.due_date >= today,
               Invoice.created_at >= now - NEW_INVOICE_WINDOW,
               Subscription.withdrawn_at.is_(None), LineUser.followed.is_(True))
    )
    return [_Due(inv_id, user_id, lang, ReminderKind.NEW_INVOICE, 0) for inv_id, user_id, lang in rows]


def _not_yet_queued(session: Session, due: list[_Due]) -> list[_Due]:
    """Leave out what the outbox already holds, before rendering anything (the insert's ON
    CONFLICT still settles a race with another process)."""
    seen: set[tuple[str, str]] = set()
    keys = [(d.event_key, d.user_id) for d in due]
    for start in range(0, len(keys), _CHUNK):
        seen.update(session.execute(
            select(Notice.event_key, Notice.to_user).where(tuple_(Notice.event_key, Notice.to_user).in_(keys[start:start + _CHUNK]))
        ).tuples())
    return [d for d in due if (d.event_key, d.user_id) not in seen]


def _queue(session: Session, due: list[_Due], settings: Settings, links: Links, today: date,
           not_before: datetime | None = None) -> Counter[str]:
    if not due:
        return Counter()
    invoices: dict[int, Invoice] = {}
    ids = sorted({d.invoice_id for d in due})
    for start in range(0, len(ids), _CHUNK):
        invoices.update((inv.id, inv) for inv in session.scalars(select(Invoice).where(Invoice.id.in_(ids[start:start + _CHUNK]))))
    rendered: dict[tuple[Any, ...], str] = {}  # many subscribers of one license get the same message
    rows = []
    for d in due:
        key = (d.invoice_id, d.language, d.kind, d.days_left)
        body = rendered.get(key)
        if body is None:
            messages = proactive_messages(d.kind, d.days_left, invoices[d.invoice_id], Translator(d.language), links,
                                          settings.support_contact, today)
            body = rendered[key] = json.dumps(messages, ensure_ascii=False, separators=(",", ":"))
        rows.append({"retry_key": str(uuid.uuid4()), "channel": NoticeChannel.LINE.value, "event_key": d.event_key,
                     "to_user": d.user_id, "messages": body, "status": NoticeStatus.PENDING.value, "attempts": 0,
                     # Queued for delivery now, whatever moment `remind --at` was asked to run as.
                     "next_attempt_at": not_before or utcnow(), "created_at": utcnow()})
    kinds: Counter[str] = Counter()
    # Inserted one chunk at a time; which rows were new is known by their (event, user) keys.
    new = insert_ignore_rows(session, Notice.__table__, rows)
    if new:
        notify_workers(session, OUTBOX)
    if new == len(rows):
        kinds.update(d.kind for d in due)
    else:  # another process queued some of them meanwhile: count only ours
        kinds.update(_kinds_of_new(session, due, rows))
    return kinds


def _kinds_of_new(session: Session, due: list[_Due], rows: list[dict[str, Any]]) -> Counter[str]:
    ours = {r["retry_key"] for r in rows}
    keys = [(d.event_key, d.user_id) for d in due]
    mine: set[tuple[str, str]] = set()
    for start in range(0, len(keys), _CHUNK):
        mine.update((k, u) for k, u, rk in session.execute(
            select(Notice.event_key, Notice.to_user, Notice.retry_key)
            .where(tuple_(Notice.event_key, Notice.to_user).in_(keys[start:start + _CHUNK]))) if rk in ours)
    return Counter(d.kind for d in due if (d.event_key, d.user_id) in mine)
