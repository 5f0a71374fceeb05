"""What the staff console reads and changes: today's takings and the days before, finding an
invoice and its whole story, stuck queue items and their retries, payments for export. Every
query here is bounded (a day, 30 days, one invoice, a page of rows) and indexed, so the pages
answer quickly with millions of invoices and audit entries (bench --only console)."""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from time import monotonic as time_now
from typing import Any, Iterator

from sqlalchemy import ColumnElement, Date, and_, cast, exists, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from bot.core.dates import BANGKOK, parse_day, today_bangkok, utcnow
from bot.core.textparse import find_invoices, find_licenses, normalize
from bot.data.models import (
    AuditEntry,
    BankMessage,
    ChainCheck,
    ChainLink,
    InboxEvent,
    Invoice,
    LineUser,
    Notice,
    Payment,
    PhotoRead,
    Receipt,
    ReceiptDocument,
    StatementFile,
    Watch,
)
from bot.data.states import InboxStatus, InvoiceStatus, NoticeChannel, NoticeStatus, PaymentStatus, StaffAction
from bot.data.wakeup import notify_workers
from bot.ledger import staff
from bot.ledger.audit import Verdict
from bot.ledger.notices import OUTBOX, enqueue

CHART_DAYS = 30
FOUND_AT_MOST = 50
STUCK_AFTER = timedelta(seconds=120)  # as `tisi-pay health`: waiting longer than this is stuck
SHOWN_AT_MOST = 100
MIN_NAME_SEARCH = 2  # characters of a payer name


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A Bangkok day as UTC instants [start, end)."""
    start = datetime.combine(day, time(0), tzinfo=BANGKOK)
    return start, start + timedelta(days=1)


def bangkok_date(session: Session, column: ColumnElement[datetime] | InstrumentedAttribute[datetime]) -> ColumnElement[Any]:
    """The Bangkok date of a stored UTC time, in SQL (Bangkok has no daylight saving)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("Asia/Bangkok", column), Date)
    return func.date(column, "+7 hours")


# -- today -----------------------------------------------------------------------------------------
@dataclass
class Takings:
    day: date
    count: int = 0
    total: Decimal = Decimal("0.00")
    by_channel: list[tuple[str, int, Decimal]] = field(default_factory=list)
    by_fee: list[tuple[str, int, Decimal]] = field(default_factory=list)
    reversed_count: int = 0
    reversed_total: Decimal = Decimal("0.00")
    double_count: int = 0  # refused second payments, to refund


def takings(session: Session, day: date) -> Takings:
    """Payments the bank made that day (Bangkok), still confirmed; reversals and double payments apart."""
    start, end = day_bounds(day)
    result = Takings(day)
    rows = session.execute(
        select(Payment.status, Payment.channel, Invoice.fee_code, func.count(), func.sum(Payment.amount))
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(Payment.transacted_at >= start, Payment.transacted_at < end)
        .group_by(Payment.status, Payment.channel, Invoice.fee_code)).all()
    channels: dict[str, list[Any]] = defaultdict(lambda: [0, Decimal("0.00")])  # [count, total]
    fees: dict[str, list[Any]] = defaultdict(lambda: [0, Decimal("0.00")])
    for status, channel, fee, count, total in rows:
        total = total or Decimal("0.00")
        if status == PaymentStatus.CONFIRMED:
            result.count += count
            result.total += total
            channels[channel][0] += count
            channels[channel][1] += total
            fees[fee][0] += count
            fees[fee][1] += total
        elif status == PaymentStatus.REVERSED:
            result.reversed_count += count
            result.reversed_total += total
        else:
            result.double_count += count
    result.by_channel = sorted(((k, c, t) for k, (c, t) in channels.items()), key=lambda r: -r[2])
    result.by_fee = sorted(((k, c, t) for k, (c, t) in fees.items()), key=lambda r: -r[2])
    return result


PAST_DAYS_KEPT = 300.0  # seconds the closed days of the chart are reused (only a late reversal changes them)
_past_days: dict[tuple[str, date, date], tuple[float, dict[date, tuple[int, Decimal]]]] = {}


def daily(session: Session, today: Takings, days: int = CHART_DAYS) -> list[tuple[date, int, Decimal]]:
    """Confirmed payments per Bangkok day for the `days` days up to today, every day listed: today's
    from `today`'s takings, the closed days before it from the database, reused for a few minutes
    (30 days of a busy office are ~170,000 payments to add up)."""
    last_day = today.day
    first = last_day - timedelta(days=days - 1)
    key = (str(session.get_bind().engine.url), first, last_day)
    kept = _past_days.get(key)
    if kept is None or kept[0] < time_now():
        start, _ = day_bounds(first)
        end, _ = day_bounds(last_day)
        day_of = bangkok_date(session, Payment.transacted_at)
        rows = session.execute(
            select(day_of, func.count(), func.sum(Payment.amount))
            .where(Payment.transacted_at >= start, Payment.transacted_at < end,
                   Payment.status == PaymentStatus.CONFIRMED)
            .group_by(day_of)).all()
        found = {(d if isinstance(d, date) else date.fromisoformat(d)): (c, t or Decimal("0.00")) for d, c, t in rows}
        _past_days.clear()  # one entry: the last days asked for
        _past_days[key] = kept = (time_now() + PAST_DAYS_KEPT, found)
    found = {**kept[1], last_day: (today.count, today.total)}
    return [(first + timedelta(days=i), *found.get(first + timedelta(days=i), (0, Decimal("0.00"))))
            for i in range(days)]


def forget_past_days() -> None:
    _past_days.clear()


@dataclass(frozen=True)
class ChainState:
    head_seq: int
    head_hash: str | None
    last_check: ChainCheck | None


def chain_state(session: Session) -> ChainState:
    head = session.execute(select(ChainLink.seq, ChainLink.hash).order_by(ChainLink.seq.desc()).limit(1)).first()
    check = session.scalar(select(ChainCheck).order_by(ChainCheck.id.desc()).limit(1))
    return ChainState(head.seq if head else 0, head.hash if head else None, check)


def remember_check(session: Session, verdict: Verdict) -> None:
    """What `tisi-pay audit verify` found, with the chain's head as it checked it. Kept as figures
    (and the first problem), so the console says it in the reader's language."""
    head = session.execute(select(ChainLink.seq, ChainLink.hash).order_by(ChainLink.seq.desc()).limit(1)).first()
    summary = json.dumps({"links": verdict.links, "signatures": verdict.signatures, "invoices": verdict.invoices,
                          "spooled": verdict.spooled, "problem": verdict.problems[0][:1500] if verdict.problems else None},
                         ensure_ascii=False)
    session.add(ChainCheck(at=utcnow(), intact=verdict.intact, summary=summary, last_seq=head.seq if head else 0,
                           last_hash=head.hash if head else "0" * 64))


def check_figures(check: ChainCheck) -> dict[str, Any] | None:
    """The figures of a check remembered as such; None for one remembered as a line of text."""
    try:
        figures = json.loads(check.summary)
    except ValueError:
        return None
    return figures if isinstance(figures, dict) else None


# -- find --------------------------------------------------------------------------------------------
# Words of a search that filter by status or payment channel (Thai and English; the longest first,
# so "ค้างชำระ" is not read as "ชำระแล้ว"'s shorter cousin).
SEARCH_STATUS_WORDS = {
    "ยังไม่ชำระ": InvoiceStatus.UNPAID, "ค้างชำระ": InvoiceStatus.UNPAID, "unpaid": InvoiceStatus.UNPAID,
    "ชำระแล้ว": InvoiceStatus.PAID, "paid": InvoiceStatus.PAID,
    "หมดอายุ": InvoiceStatus.EXPIRED, "เกินกำหนด": InvoiceStatus.EXPIRED, "expired": InvoiceStatus.EXPIRED,
    "ยกเลิก": InvoiceStatus.CANCELLED, "cancelled": InvoiceStatus.CANCELLED, "canceled": InvoiceStatus.CANCELLED,
}
SEARCH_CHANNEL_WORDS = {
    "คิวอาร์": "QR", "qr": "QR", "โมบาย": "MOBILE", "mobile": "MOBILE", "ตู้": "ATM", "atm": "ATM",
    "สาขา": "BRANCH", "branch": "BRANCH", "เคาน์เตอร์": "COUNTER", "counter": "COUNTER",
}


@dataclass(frozen=True)
class Found:
    by: str  # invoice, license, tax_id, filters (a day, a status, a channel), name; "" for a query too short
    invoices: list[Invoice]
    page: int = 1
    more: bool = False  # another page follows
    day: date | None = None  # the filters read from the query
    status: InvoiceStatus | None = None
    channel: str | None = None


def _filter_words(text: str) -> tuple[InvoiceStatus | None, str | None, str]:
    """The status and channel a query names, and what is left of it without them."""
    rest = text.lower()
    found: list[Any] = [None, None]
    tables: tuple[dict[str, Any], dict[str, Any]] = (SEARCH_STATUS_WORDS, SEARCH_CHANNEL_WORDS)
    for i, words in enumerate(tables):
        for word in sorted(words, key=len, reverse=True):
            pattern = re.escape(word) if not word.isascii() else rf"(?<![a-z]){re.escape(word)}(?![a-z])"
            if re.search(pattern, rest):
                found[i] = found[i] or words[word]
                rest = re.sub(pattern, " ", rest)
    return found[0], found[1], rest


def find(session: Session, query: str, page: int = 1) -> Found:
    """By invoice number (Thai digits, dashes and words around it are fine), license number, tax
    ID; by a day of payment ("7 ธ.ค. 2569", "7/12/2569", "2026-12-07"), a status and a channel,
    in any combination, a page of FOUND_AT_MOST at a time; or by part of the payer's name."""
    text = normalize(query or "")[:200]
    if not text:
        return Found("", [])
    licenses, rest = find_licenses(text)
    invoices, _ = find_invoices(rest)
    ordered = (Invoice.id.desc(),)  # newest first, by the primary key: no sort of many matches
    if invoices:
        return Found("invoice", list(session.scalars(select(Invoice).where(Invoice.invoice_no.in_(invoices)))))
    if licenses:
        return Found("license", list(session.scalars(select(Invoice).where(Invoice.license_no.in_(licenses))
                                                     .order_by(*ordered).limit(FOUND_AT_MOST))))
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) == 13 and len(text.replace(" ", "").replace("-", "")) == 13:
        return Found("tax_id", list(session.scalars(select(Invoice).where(Invoice.tax_id == digits)
                                                    .order_by(*ordered).limit(FOUND_AT_MOST))))
    # A day, or nothing but status and channel words ("ชำระแล้ว qr"): filters. A name that holds
    # such a word ("… สาขา 2") is still a name.
    day = parse_day(text)
    status, channel, rest = _filter_words(text)
    if day is not None or ((status or channel) and not rest.strip(" ,.")):
        return _filtered(session, day, status, channel, page=max(1, page))
    if len(text) < MIN_NAME_SEARCH:
        return Found("", [])
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    name = Invoice.payer_name.ilike(pattern, escape="\\")
    return Found("name", list(session.scalars(select(Invoice).where(name).order_by(*ordered).limit(FOUND_AT_MOST))))


def _filtered(session: Session, day: date | None, status: InvoiceStatus | None, channel: str | None, *,
              page: int) -> Found:
    """Invoices paid on that Bangkok day and/or through that channel (newest payment first), or
    with that status (newest invoice first), one page."""
    query = select(Invoice)
    if day is not None or channel is not None:
        # Walked newest payment first down the index of payment times, each invoice once (at its
        # latest such payment), so a page stops after ~50 invoices instead of reading the day's
        # 5,500 (at a million invoices: p99 300 ms grouped, a few ms walked).
        def matching(p: type[Payment] | Any) -> list[Any]:
            conditions = [p.status.in_((PaymentStatus.CONFIRMED, PaymentStatus.REVERSED))]
            if day is not None:
                start, end = day_bounds(day)
                conditions += [p.transacted_at >= start, p.transacted_at < end]
            if channel is not None:
                conditions.append(p.channel == channel)
            return conditions

        later = aliased(Payment)
        query = (query.join(Payment, Payment.invoice_id == Invoice.id).where(*matching(Payment))
                 .where(~exists().where(later.invoice_id == Payment.invoice_id, *matching(later),
                                        or_(later.transacted_at > Payment.transacted_at,
                                            and_(later.transacted_at == Payment.transacted_at, later.id > Payment.id))))
                 .order_by(Payment.transacted_at.desc(), Payment.id.desc()))
    else:
        query = query.order_by(Invoice.id.desc())
    if status is not None:
        today = today_bangkok()
        query = query.where(*{
            InvoiceStatus.UNPAID: (Invoice.status == InvoiceStatus.UNPAID, Invoice.due_date >= today),
            InvoiceStatus.EXPIRED: (Invoice.status == InvoiceStatus.UNPAID, Invoice.due_date < today),
        }.get(status, (Invoice.status == status,)))
    rows = list(session.scalars(query.offset((page - 1) * FOUND_AT_MOST).limit(FOUND_AT_MOST + 1)))
    return Found("filters", rows[:FOUND_AT_MOST], page=page, more=len(rows) > FOUND_AT_MOST, day=day,
                 status=status, channel=channel)


# -- one invoice's story -------------------------------------------------------------------------
@dataclass(frozen=True)
class Happening:
    at: datetime
    kind: str  # audit, asked, notice, bank, payment, reversal, receipt, photo
    what: str  # the action, status or outcome (a state's value, shown translated)
    detail: dict[str, Any]


def mask_line_id(user_id: str) -> str:
    """Enough of a LINE user id to tell two apart on one page, not enough to message them."""
    return user_id[:5] + "…" + user_id[-4:] if len(user_id) > 12 else "…"


def story(session: Session, inv: Invoice, reminder_days: tuple[int, ...] = (7, 1)) -> list[Happening]:
    """Everything that happened to an invoice, oldest first."""
    out: list[Happening] = []
    for e in session.scalars(select(AuditEntry).where(AuditEntry.invoice_id == inv.id).order_by(AuditEntry.id)):
        detail = json.loads(e.detail or "{}")
        if "from" in detail and "to" in detail:  # an amount changed: from and to are amounts
            detail = {"amount": f"{detail.pop('from')} → {detail.pop('to')}", **detail}
        status = f"{e.from_status} → {e.to_status}" if e.from_status and e.from_status != e.to_status else e.to_status
        out.append(Happening(e.at, "audit", e.action, {"status": status, "actor": e.actor, **detail}))
    watchers = (select(LineUser.user_id, Watch.created_at).join(Watch, Watch.line_user_id == LineUser.id)
                .where(or_(Watch.invoice_id == inv.id, Watch.license_no == inv.license_no) if inv.license_no
                       else Watch.invoice_id == inv.id).order_by(Watch.created_at).limit(SHOWN_AT_MOST))
    for user_id, at in session.execute(watchers):
        out.append(Happening(at, "asked", "asked", {"user": mask_line_id(user_id)}))
    payments = list(session.scalars(select(Payment).where(Payment.invoice_id == inv.id).order_by(Payment.id)))
    for p in payments:
        out.append(Happening(p.created_at, "payment", p.status if p.status != PaymentStatus.REVERSED else "confirmed",
                             {"amount": p.amount, "bank_ref": p.bank_ref, "channel": p.channel,
                              "transacted_at": p.transacted_at, "payment_id": p.id}))
        if p.reversed_at is not None:
            out.append(Happening(p.reversed_at, "reversal", "reversed", {"amount": p.amount, "bank_ref": p.bank_ref}))
    for m in session.scalars(select(BankMessage).where(BankMessage.ref1 == inv.invoice_no).order_by(BankMessage.id)
                             .limit(SHOWN_AT_MOST)):
        out.append(Happening(m.received_at, "bank", m.command or "?", {
            "bank_ref": m.bank_ref, "resp_code": m.resp_code, "http_status": m.http_status,
            "replayed": m.replayed, "spooled": m.spool_id is not None, "message_id": m.id}))
    keys = [f"{kind}:{inv.id}" for kind in ("new", "overdue", *(f"remind{d}" for d in reminder_days))]
    keys += [f"{kind}:{p.id}" for p in payments for kind in ("paid", "reversed", "upstream:paid", "upstream:reversed")]
    for n in session.scalars(select(Notice).where(Notice.event_key.in_(keys)).order_by(Notice.id)):
        out.append(Happening(n.created_at, "notice", n.status, {
            "event": n.event_key.rsplit(":", 1)[0], "to": n.to_user if n.channel == NoticeChannel.UPSTREAM
            else mask_line_id(n.to_user), "attempts": n.attempts, "sent_at": n.sent_at, "last_error": n.last_error}))
    ids = [p.id for p in payments]
    if ids:
        for r in session.scalars(select(Receipt).where(Receipt.payment_id.in_(ids))):
            out.append(Happening(r.issued_at, "receipt", "issued", {"number": r.number, "payment_id": r.payment_id}))
            if r.voided_at is not None:
                out.append(Happening(r.voided_at, "receipt", "void", {"number": r.number, "reason": r.void_reason}))
        for d in session.execute(select(ReceiptDocument.created_at, ReceiptDocument.variant, ReceiptDocument.number,
                                        ReceiptDocument.sha256).where(ReceiptDocument.payment_id.in_(ids))):
            out.append(Happening(d.created_at, "receipt", "document", {"number": d.number, "variant": d.variant,
                                                                       "sha256": d.sha256}))
    for photo in session.scalars(select(PhotoRead).where(PhotoRead.invoice_no == inv.invoice_no).limit(SHOWN_AT_MOST)):
        out.append(Happening(photo.created_at, "photo", photo.outcome, {"user": mask_line_id(photo.user_id or "")}))
    out.sort(key=lambda h: h.at)
    return out


def receipts_of(session: Session, inv: Invoice) -> list[Receipt]:
    return list(session.scalars(select(Receipt).join(Payment, Payment.id == Receipt.payment_id)
                                .where(Payment.invoice_id == inv.id).order_by(Receipt.issued_at)))


# -- queues -------------------------------------------------------------------------------------------
_EVENT_TROUBLE = (InboxStatus.REFUSED, InboxStatus.EXPIRED, InboxStatus.UNCONFIRMED)
# An answer whose reply LINE refused or that expired can be pushed instead (once); an unconfirmed
# one was most likely shown: never sent again.
PUSHABLE = (InboxStatus.REFUSED, InboxStatus.EXPIRED)


@dataclass(frozen=True)
class Stuck:
    events: list[InboxEvent]
    notices: list[Notice]
    receipts: list[Receipt]
    pushed: set[int]  # events whose answer was pushed already


def stuck(session: Session, now: datetime | None = None) -> Stuck:
    now = now or utcnow()
    old = now - STUCK_AFTER
    events = list(session.scalars(select(InboxEvent).where(or_(
        InboxEvent.status.in_(_EVENT_TROUBLE), InboxEvent.handler_error.is_not(None),
        InboxEvent.status.in_(InboxStatus.waiting()) & (InboxEvent.received_at < old)))
        .order_by(InboxEvent.id.desc()).limit(SHOWN_AT_MOST)))
    notices = list(session.scalars(select(Notice).where(or_(
        Notice.status == NoticeStatus.FAILED, (Notice.status == NoticeStatus.PENDING) & (Notice.created_at < old)))
        .order_by(Notice.id.desc()).limit(SHOWN_AT_MOST)))
    receipts = list(session.scalars(select(Receipt).where(Receipt.pending.is_not(None), Receipt.issued_at < old)
                                    .order_by(Receipt.issued_at).limit(SHOWN_AT_MOST)))
    keys = [f"answer:{e.id}" for e in events]
    pushed = {int(k.split(":")[1]) for k in session.scalars(select(Notice.event_key).where(Notice.event_key.in_(keys)))}
    return Stuck(events, notices, receipts, pushed)


class QueueError(ValueError):
    """A retry that cannot be done (said as a key: unknown, not_failed, not_pushable, …)."""


def retry_notice(session: Session, notice_id: int, staff_name: str, *, address: str = "") -> None:
    """Try a failed (or long-waiting) notice again now, with a fresh count of attempts. Its retry
    key is kept: if LINE did take an earlier attempt, it answers 409 and nothing is shown twice."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise QueueError("unknown")
    if notice.status == NoticeStatus.SENT:
        raise QueueError("already_sent")
    previous = notice.status
    session.execute(update(Notice).where(Notice.id == notice.id, Notice.status != NoticeStatus.SENT)
                    .values(status=NoticeStatus.PENDING, attempts=0, next_attempt_at=utcnow(), lease_until=None))
    notify_workers(session, OUTBOX)
    staff.record(session, staff_name, StaffAction.NOTICE_RETRIED, target=f"notice {notice.id}", address=address,
                 event=notice.event_key, previous=previous, last_error=(notice.last_error or "")[:300])


def push_answer(session: Session, event_id: int, staff_name: str, *, address: str = "") -> bool:
    """Push the stored answer of an event whose reply LINE refused or let expire; False if it was
    pushed before (once per event, however often this is pressed)."""
    event = session.get(InboxEvent, event_id)
    if event is None:
        raise QueueError("unknown")
    if event.unknown_sends:  # a reply may have reached the user: a push could answer them twice
        raise QueueError("maybe_delivered")
    if event.status not in PUSHABLE or not event.reply or not event.user_id or event.reply == "[]":
        raise QueueError("not_pushable")
    new = enqueue(session, channel=NoticeChannel.LINE, event_key=f"answer:{event.id}", to=event.user_id,
                  body=event.reply)
    if new:
        notify_workers(session, OUTBOX)
        staff.record(session, staff_name, StaffAction.ANSWER_PUSHED, target=f"event {event.id}", address=address,
                     status=event.status, last_error=(event.last_error or "")[:300])
    return new


# -- export ------------------------------------------------------------------------------------------
def payments_between(session: Session, first: date, last: date) -> Iterator[tuple[Payment, Invoice, str | None]]:
    """Every payment the bank made from `first` to `last` (Bangkok days), with its invoice and
    receipt number, oldest first, read in batches."""
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    query = (select(Payment, Invoice, Receipt.number)
             .join(Invoice, Invoice.id == Payment.invoice_id)
             .outerjoin(Receipt, Receipt.payment_id == Payment.id)
             .where(Payment.transacted_at >= start, Payment.transacted_at < end)
             .order_by(Payment.transacted_at, Payment.id))
    yield from session.execute(query.execution_options(yield_per=1000)).tuples()


def count_payments_between(session: Session, first: date, last: date) -> int:
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    return session.scalar(select(func.count()).select_from(Payment)
                          .where(Payment.transacted_at >= start, Payment.transacted_at < end)) or 0


def statements(session: Session, limit: int = 100) -> list[StatementFile]:
    return list(session.scalars(select(StatementFile).order_by(StatementFile.effective_date.desc(),
                                                               StatementFile.id.desc()).limit(limit)))


def statement_file(session: Session, file_id: int) -> StatementFile | None:
    return session.get(StatementFile, file_id)
