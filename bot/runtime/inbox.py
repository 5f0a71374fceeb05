"""The durable webhook inbox: events are stored before LINE gets its 200, then handled and
replied to by workers.

Storing (`store_events`, on the request path) is one INSERT ... ON CONFLICT DO NOTHING of every
event of the body, keyed by webhookEventId, so a redelivery is recognised and nothing is kept
twice. `ReplyQueue` is the worker side, driven by `bot.runtime.worker.Dispatcher`:

- claim: due rows are leased (attempts + 1; on PostgreSQL FOR UPDATE SKIP LOCKED, so several
  workers never take the same row); the claim's attempt number fences every later write, so a
  worker whose lease ran out can no longer change the row;
- handle: each pending event runs its handler inside a savepoint of one transaction, and its
  effects commit together with the rendered reply (status `handled`). A worker killed before
  that commit leaves nothing; after it, the next worker sends the stored reply, never handling
  the event twice;
- send: concurrently, on sender threads, while the reply token is valid;
- record: replied, or LINE's answer when it refused, or expired; a reply that got no answer is
  retried while the token is still good, never after.

At most one reply, recorded truthfully: a reply token works once, so an attempt whose outcome
we cannot know (no answer after sending, or a claim that ended without recording — a worker
killed between sending and recording) may already have been shown. Such a reply is tried once
more at most; if LINE then refuses the token as used ("Invalid reply token"), or again does not
answer, it is recorded `unconfirmed` (delivered-unconfirmed, its own metric), never `refused`,
and never sent a third time.
"""
from __future__ import annotations

import heapq
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from linebot.v3.webhook import UnknownEvent
from linebot.v3.webhooks import Event
from sqlalchemy import Boolean, and_, bindparam, case, delete, func, select, update
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from bot import metrics
from bot.core.dates import utcnow
from bot.core.delivery import Outcome, backoff
from bot.core.errors import one_line
from bot.core.i18n import N_, Translator
from bot.data.db import Database, insert_ignore_each, is_transient
from bot.data.models import InboxEvent, LineUser, inbox_waiting, table_of
from bot.data.states import InboxStatus
from bot.data.wakeup import notify_sql, notify_workers
from bot.ledger import invoices as svc
from bot.ledger.batch import Batch
from bot.line.gateway import LineGateway
from bot.render.messages import Links, text
from bot.runtime.queue import RetryStep

log = logging.getLogger(__name__)

REPLY_TOKEN_TTL = 55.0  # LINE: use a reply token within one minute of the webhook; keep a margin
LATE_AFTER = 1.0  # seconds after the webhook: a reply not sent by then shows LINE's loading animation
GRACE = 0.5  # ... and not sent this long after a worker took the event
LEASE_SECONDS = 40.0  # longer than a reply's timeouts (3 + 25 s) plus a queue wait
CLAIMED_LEASE = 10.0  # events stored already leased to the web process that received them
BATCH = 64  # events claimed and handled in one step (one transaction)
# SQLite: a step holds the one writer lock while its handlers run, and the webhook waits for it
# (86 % of a web process's time under load): 16 a step took /callback's p99 from 531 to 317 ms
# at the same replies/s (4: 288 ms, but a third fewer replies/s).
SQLITE_BATCH = 16
RETRY_BASE = 0.5
KEEP_FINISHED = timedelta(days=7)  # LINE redelivers for a shorter time than this
_T = table_of(InboxEvent)  # Core statements: the ORM's bulk-update machinery cost more than the SQL
_HANDLED = (update(_T).where(_T.c.id == bindparam("b_id"))
            .values(status=bindparam("b_status"), reply=bindparam("b_reply"), handled_at=bindparam("b_handled_at"),
                    handler_error=bindparam("b_handler_error"), lease_until=bindparam("b_lease_until")))
_REPLIED = (update(_T).where(_T.c.id == bindparam("b_id"), _T.c.attempts == bindparam("b_attempts"))
            .values(status=InboxStatus.REPLIED, finished_at=bindparam("b_at"), last_error=None, lease_until=None))
# The claim's turn, held until the claim's step commits.
_TURN_KEY = 7401  # PostgreSQL advisory lock key of the claim's turn (no other lock uses it)
_WAIT_TURN = sql(f"SELECT true FROM (SELECT pg_advisory_xact_lock({_TURN_KEY})) AS turn")  # true once it is ours
_TRY_TURN = sql(f"SELECT pg_try_advisory_xact_lock({_TURN_KEY})")
_SORRY = N_("Sorry, something went wrong on our side. Please try again in a moment.")


def json_object(obj: dict[str, Any], key: str) -> dict[str, Any]:
    """A JSON object inside LINE's event, or an empty one if it is missing or not an object."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


# -- the request side ----------------------------------------------------------------------------
def event_id(event: dict) -> str:
    """LINE's webhookEventId (a 26-character ULID today); ValueError for one we could not keep."""
    given = event.get("webhookEventId")
    if not isinstance(given, str) or not 0 < len(given) <= 64:
        raise ValueError("webhookEventId must be 1-64 characters")
    return given


def store_events(db: Database, events: list[dict], *, claim: bool = False, notify: bool = True,
                 outcomes: list | None = None) -> list[int]:
    """Keep every event of one webhook body in one transaction; the ids of the new ones.

    With `claim`, the new events are stored already leased to this process (attempt 1), which
    handles them as soon as LINE has its answer (`ReplyQueue.handle_claimed`); if this process
    dies first, the lease runs out and any worker takes them. Without it, the workers of every
    process are woken (PostgreSQL NOTIFY), unless `notify` is false.
    """
    if not events:
        return []
    now = utcnow()
    lease_until = now + timedelta(seconds=CLAIMED_LEASE) if claim else None
    rows = []
    photos = False
    for event in events:
        source = json_object(event, "source")
        token = event.get("replyToken")
        photo = is_photo(event)  # read first, on the photo pool; answered after that
        photos |= photo
        rows.append({
            "webhook_event_id": event_id(event),
            "event_type": str(event.get("type", ""))[:32],
            "user_id": source.get("userId") if source.get("type") == "user" else None,
            "reply_token": token if isinstance(token, str) and len(token) <= 255 else None,
            "payload": json.dumps(event, ensure_ascii=False, separators=(",", ":")),
            "received_at": now, "status": InboxStatus.PHOTO if photo else InboxStatus.PENDING,
            "attempts": 1 if claim and not photo else 0, "next_attempt_at": now,
            "lease_until": None if photo else lease_until,
        })
    if db.dialect == "postgresql":
        each = _store_and_wake(db, rows, wake=notify and not claim)
    else:
        with db.engine.begin() as conn:  # Core, not the ORM: LINE is waiting for our answer
            each = insert_ignore_each(conn, _T, rows)
            stored_any = any(key is not None for key in each)
            if stored_any and notify and not claim:
                notify_workers(conn, ReplyQueue.name)
            if stored_any and photos:
                notify_workers(conn, PHOTOS)
    if outcomes is not None:
        outcomes.extend(key is not None for key in each)
    return [key for key in each if key is not None]


def _store_and_wake(db: Database, rows: list[dict], *, wake: bool) -> list[int | None]:
    """PostgreSQL: the rows kept and the workers woken in one statement, one round trip (an
    autocommit statement is its own transaction; BEGIN, an INSERT per event, NOTIFY and COMMIT
    were four or more, most of a web process's time). Each row's new id, or None: a redelivery."""
    params = {"wake": wake}
    for i, row in enumerate(rows):
        params.update({f"{column}_{i}": value for column, value in row.items()})
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        stored = {key: id_ for key, id_, _woken in conn.execute(_store_statement(tuple(rows[0]), len(rows)), params)}
    each: list[int | None] = []
    for row in rows:  # an id sent twice in one body is new once
        each.append(stored.pop(row["webhook_event_id"], None))
    return each


@lru_cache(maxsize=32)
def _store_statement(columns: tuple[str, ...], count: int):
    """Text, each parameter typed, cached per body size (SQLAlchemy compiles its ON CONFLICT
    inserts anew each time: see bot.data.db.insert_ignore_each). A new photo wakes the photo
    readers; a new event the reply workers, when `wake`."""
    values = ", ".join("(" + ", ".join(f":{c}_{i}" for c in columns) + ")" for i in range(count))
    statement = (f"WITH new AS (INSERT INTO {_T.name} ({', '.join(columns)}) VALUES {values} ON CONFLICT DO NOTHING "
                 "RETURNING id, webhook_event_id, status) "
                 f"SELECT webhook_event_id, id, CASE WHEN status = '{InboxStatus.PHOTO}' THEN {notify_sql(PHOTOS)} "
                 f"WHEN :wake THEN {notify_sql(ReplyQueue.name)} END FROM new")
    types = [bindparam(f"{c}_{i}", type_=_T.c[c].type) for i in range(count) for c in columns]
    return sql(statement).bindparams(*types, bindparam("wake", type_=Boolean()))


PHOTOS = "photos"  # the queue that reads photos (bot.runtime.photos.PhotoQueue.name)
_PHOTO_FILES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".pdf")


def is_photo(event: dict) -> bool:
    """An image message, or a file message whose name says image or PDF, that LINE holds."""
    message = json_object(event, "message")
    if event.get("type") != "message":
        return False
    provider = json_object(message, "contentProvider")
    if message.get("type") == "image":
        return provider.get("type", "line") == "line"
    name = message.get("fileName")
    return message.get("type") == "file" and isinstance(name, str) and name.lower().endswith(_PHOTO_FILES)


# -- the worker side -----------------------------------------------------------------------------
@dataclass
class ReplyJob:
    id: int
    attempts: int  # the claim's attempt number: fences every write of this claim
    reply_token: str | None
    user_id: str | None
    received_at: datetime
    messages: list | None = None  # filled by the handler, or read back from a stored reply
    skip: InboxStatus | None = None  # set by send() when no call was made
    unknown_sends: int = 0  # earlier attempts whose outcome we cannot know

    def token_left(self, now: datetime | None = None) -> float:
        return REPLY_TOKEN_TTL - ((now or utcnow()) - self.received_at).total_seconds()


class ReplyQueue:
    """Stored webhook events → handlers → replies. See the module docstring."""

    name = "inbox"

    def __init__(self, db: Database, line: LineGateway, links: Links, *, senders: int = 32, batch: int | None = None,
                 lease: float = LEASE_SECONDS, reminder_days: tuple[int, ...] = (7, 1), office_hours=None,
                 support_contact: str = "", wait_turn: bool = False):
        self.db, self.line, self.links = db, line, links
        self.reminder_days = reminder_days
        self.office_hours, self.support_contact = office_hours, support_contact
        self.senders, self.lease = senders, lease
        self.batch = batch or (SQLITE_BATCH if db.dialect == "sqlite" else BATCH)
        self.wait_turn = wait_turn  # a `tisi-pay worker`: see claim()
        self.max_inflight = senders * 2
        self._loading = _LoadingTimer(line)
        self._careful = False  # the next batch runs each handler in a savepoint

    # claim + handle (dispatcher thread, in the dispatcher's transaction) -------------------------
    def claim(self, session: Session, limit: int) -> list[ReplyJob]:
        """Lease due events and handle the pending ones, in the caller's transaction: the claim, the
        handlers' effects and the rendered replies commit together (or not at all)."""
        now = utcnow()
        if self.db.dialect == "postgresql" and not session.scalar(_WAIT_TURN if self.wait_turn else _TRY_TURN):
            # One claim at a time across workers: a claim takes everything that came in during the
            # other's, not half of what one NOTIFY announced, and a batch's statements are shared
            # by many events (bot.ledger.batch). A `tisi-pay worker` waits for its turn (that is
            # what makes its batches large); a web process's worker never waits (the events it
            # stored itself are handled in the same step) and claims nothing when it is not its turn.
            return []
        due = (select(_T.c.id)
               .where(inbox_waiting(), _T.c.status.in_(InboxStatus.open()), _T.c.next_attempt_at <= now,
                      (_T.c.lease_until.is_(None)) | (_T.c.lease_until < now))
               .order_by(_T.c.id).limit(min(limit, self.batch)))
        if self.db.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        stmt = (update(_T).where(_T.c.id.in_(due.scalar_subquery()))
                .values(lease_until=now + timedelta(seconds=self.lease), attempts=_T.c.attempts + 1,
                        # A handled row still leased by an earlier claim: that claim ended without
                        # recording (its worker died), perhaps after LINE accepted its reply.
                        unknown_sends=_T.c.unknown_sends + case(
                            (and_(_T.c.status == InboxStatus.HANDLED, _T.c.lease_until.is_not(None)), 1), else_=0))
                .returning(_T.c.id, _T.c.attempts, _T.c.status, _T.c.payload, _T.c.reply_token, _T.c.user_id,
                           _T.c.received_at, _T.c.reply, _T.c.unknown_sends))
        # Handled user by user (in order within each): workers that take events of the same new
        # users then create them, and their watches, in one order, and rarely wait on each other.
        rows = sorted(session.execute(stmt).all(), key=lambda r: (r.user_id or "", r.id))
        jobs, handled = [], []
        careful, self._careful = self._careful, False
        events = {row.id: json.loads(row.payload) for row in rows if row.status == InboxStatus.PENDING}
        batch = self._batch(session, events)
        for row in rows:
            job = ReplyJob(row.id, row.attempts, row.reply_token, row.user_id, row.received_at,
                           json.loads(row.reply) if row.reply else None, unknown_sends=row.unknown_sends)
            jobs.append(job)
            if row.status == InboxStatus.PENDING:
                handled.append(self._handle(session, job, events[row.id], careful, batch))
                self._loading.schedule(job, now)
        self._end(session, batch, handled)
        return jobs

    def handle_claimed(self, session: Session, ids: list[int]) -> list[ReplyJob]:
        """Handle events this process stored already leased (`store_events(claim=True)`); the jobs to send.
        Fenced like a claim: an event another worker took meanwhile (attempt > 1) is left alone."""
        rows = session.execute(
            select(_T.c.id, _T.c.attempts, _T.c.payload, _T.c.reply_token, _T.c.user_id, _T.c.received_at)
            .where(_T.c.id.in_(ids), _T.c.attempts == 1, _T.c.status == InboxStatus.PENDING)
            .order_by(func.coalesce(_T.c.user_id, ""), _T.c.id)  # as in claim()
        ).all()
        careful, self._careful = self._careful, False
        now = utcnow()
        jobs, handled = [], []
        events = {row.id: json.loads(row.payload) for row in rows}
        batch = self._batch(session, events)
        for row in rows:
            job = ReplyJob(row.id, row.attempts, row.reply_token, row.user_id, row.received_at)
            handled.append(self._handle(session, job, events[row.id], careful, batch))
            self._loading.schedule(job, now)
            jobs.append(job)
        self._end(session, batch, handled)
        return jobs

    @staticmethod
    def _batch(session: Session, events: dict[int, dict]) -> Batch | None:
        """What the handlers of these events will ask the database, asked once (bot.ledger.batch)."""
        if not events:
            return None
        return Batch.load(session, {user for e in events.values() if (user := _user_id(e))},
                          [text for e in events.values() if (text := _text(e))])

    @staticmethod
    def _end(session: Session, batch: Batch | None, handled: list[dict]) -> None:
        if batch is not None:
            batch.end(session)  # the handlers' watches, before the replies are stored as handled
        if handled:
            session.execute(_HANDLED, handled)

    def release(self, session: Session, ids: list[int]) -> None:
        """Give events we stored leased back to every worker (when we cannot handle them ourselves)."""
        session.execute(update(_T).where(_T.c.id.in_(ids), _T.c.attempts == 1, _T.c.status == InboxStatus.PENDING)
                        .values(lease_until=None))

    def _handle(self, session: Session, job: ReplyJob, raw: dict, careful: bool, batch: Batch | None) -> dict:
        """Run the event's handler. Handlers rarely raise, so they run straight in the batch's
        transaction; when one does, the whole step is rolled back and run again carefully, each
        handler in a savepoint, so that a failing one's effects are undone and its user gets an
        apology in their language while the others' effects commit. (A savepoint per event cost
        two statements each.)"""
        error = None
        if not careful:
            try:
                job.messages = self._run_handler(session, raw, batch)
            except Exception as exc:
                if is_transient(exc):  # the database chose us to give way: the same step again
                    raise RetryStep(f"event {job.id}: {one_line(exc)}; running the step again") from None
                self._careful = True
                raise RetryStep("a handler raised; handling the batch again with savepoints") from None
        else:
            watches = len(batch.watches) if batch is not None else 0
            with session.begin_nested() as savepoint:
                try:
                    job.messages = self._run_handler(session, raw, batch)
                except Exception as exc:
                    savepoint.rollback()
                    if batch is not None:  # its watches are undone with the rest of its effects
                        del batch.watches[watches:]
                    if is_transient(exc):  # never an apology for the database's own retry
                        self._careful = True
                        raise RetryStep(f"event {job.id}: {one_line(exc)}; running the step again") from None
                    error = f"{type(exc).__name__}: {exc}"[:1000]
                    log.exception("event %s: handler failed", job.id)
        if error is not None:
            job.messages = [text(Translator(self._language(session, job.user_id))(_SORRY))]
        now = utcnow()
        # The row's new state, written for the whole batch in one executemany by the caller.
        return {"b_id": job.id, "b_status": InboxStatus.HANDLED, "b_handled_at": now,
                "b_reply": json.dumps(job.messages or [], ensure_ascii=False), "b_handler_error": error,
                "b_lease_until": now + timedelta(seconds=self.lease)}  # time to send it

    def _run_handler(self, session: Session, raw: dict, batch: Batch | None) -> list[dict]:
        from handlers import ChatContext, registry

        event = parse_event(raw)
        handler = registry.find(event) if event is not None else None
        if handler is None:
            log.info("event type %s: nothing to do", raw.get("type"))
            return []
        user_id = _user_id(raw)
        user = svc.get_or_create_user(session, user_id, batch) if user_id else None
        return handler(event, ChatContext(session=session, user=user, links=self.links,
                                          reminder_days=self.reminder_days, office_hours=self.office_hours,
                                          support_contact=self.support_contact, batch=batch))

    @staticmethod
    def _language(session: Session, user_id: str | None) -> str | None:
        if not user_id:
            return None
        return session.scalar(select(LineUser.language).where(LineUser.user_id == user_id))

    # send (sender threads, no database) --------------------------------------------------------
    def send(self, job: ReplyJob) -> Outcome:
        if not job.messages or not job.reply_token:
            job.skip = InboxStatus.NO_REPLY
            return Outcome.not_sent("nothing to reply")
        if job.unknown_sends >= 2:  # tried once more already, and that too ended unknown
            job.skip = InboxStatus.UNCONFIRMED
            return Outcome.not_sent("two attempts without a known outcome: not sent again")
        if job.token_left() <= 0:
            # After an attempt whose outcome is unknown, "expired" would be a guess: it may be shown.
            job.skip = InboxStatus.UNCONFIRMED if job.unknown_sends >= 1 else InboxStatus.EXPIRED
            return Outcome.not_sent("reply token expired before sending")
        outcome = self.line.reply(job.reply_token, job.messages)
        self._loading.done(job)
        if outcome.delivered:
            metrics.REPLY_LATENCY.observe((utcnow() - job.received_at).total_seconds())
        return outcome

    # record (dispatcher thread, in the dispatcher's transaction) --------------------------------
    def record(self, session: Session, results: list[tuple[ReplyJob, Outcome]]) -> float | None:
        """Each write is fenced by the claim's attempt number: if our lease ran out and another worker
        claimed the event, this claim changes nothing. Returns the soonest retry, in seconds."""
        now = utcnow()
        soonest = None
        replied = [{"b_id": job.id, "b_attempts": job.attempts, "b_at": now} for job, outcome in results
                   if outcome.delivered]
        if replied:  # the common case, one cached statement for all
            session.execute(_REPLIED, replied)
        for job, outcome in results:
            if outcome.delivered:
                continue
            values: dict = {"lease_until": None}
            unconfirmed = self._unconfirmed(job, outcome)
            if job.skip is not None:
                values.update(status=job.skip, finished_at=now, last_error=outcome.detail)
            elif unconfirmed:
                values.update(status=InboxStatus.UNCONFIRMED, finished_at=now, last_error=unconfirmed,
                              unknown_sends=job.unknown_sends + int(outcome.unknown))
            elif outcome.retry and job.token_left(now) > RETRY_BASE:
                delay = min(backoff(job.attempts, outcome.retry_after, base=RETRY_BASE), job.token_left(now) / 2)
                values.update(status=InboxStatus.HANDLED, next_attempt_at=now + timedelta(seconds=delay),
                              last_error=outcome.describe(), unknown_sends=job.unknown_sends + int(outcome.unknown))
                soonest = delay if soonest is None else min(soonest, delay)
            else:
                status = InboxStatus.EXPIRED if outcome.retry else InboxStatus.REFUSED
                values.update(status=status, finished_at=now, last_error=outcome.describe())
                log.warning("event %s: reply not delivered (%s): %s", job.id, status, outcome.describe())
            if values.get("status") == InboxStatus.UNCONFIRMED:
                metrics.REPLIES_UNCONFIRMED.inc()
                log.warning("event %s: reply delivered-unconfirmed: %s", job.id, values["last_error"])
            session.execute(update(_T).where(_T.c.id == job.id, _T.c.attempts == job.attempts).values(**values))
        return soonest

    @staticmethod
    def _unconfirmed(job: ReplyJob, outcome: Outcome) -> str | None:
        """Why this reply is recorded delivered-unconfirmed, or None: an earlier attempt's outcome
        is unknown and this one says the token was used or is unknown too; or this attempt's
        outcome is unknown and no time is left to try once more."""
        used = outcome.status == 400 and "Invalid reply token" in outcome.detail
        if job.unknown_sends >= 1 and used:
            return f"an earlier attempt got no answer; LINE now refuses the token as used ({outcome.describe()})"
        if job.unknown_sends >= 1 and outcome.unknown:
            return f"no answer to the one more try either ({outcome.describe()})"
        if job.unknown_sends >= 1:  # the one more try failed: not tried again, whatever LINE said (a 500 spell)
            return f"an earlier attempt may have reached LINE; the one more try got {outcome.describe()}"
        if outcome.unknown and job.token_left() <= RETRY_BASE:
            return f"no answer, and the reply token ran out before one more try ({outcome.describe()})"
        return None

    def next_due_in(self) -> float | None:
        with self.db.sessions() as session:
            at = session.scalar(select(func.min(_T.c.next_attempt_at))
                                .where(inbox_waiting(), _T.c.status.in_(InboxStatus.open())))
        return None if at is None else max(0.0, (at - utcnow()).total_seconds())

    def maintain(self, session: Session) -> None:
        """Forget finished events LINE can no longer redeliver."""
        session.execute(delete(_T).where(_T.c.status.not_in(InboxStatus.open()),
                                         _T.c.finished_at < utcnow() - KEEP_FINISHED))

    def close(self) -> None:
        self._loading.stop()


def _user_id(raw: dict) -> str | None:
    source = json_object(raw, "source")
    return source.get("userId") if isinstance(source.get("userId"), str) else None


def _text(raw: dict) -> str | None:
    message = json_object(raw, "message")
    return message.get("text") if message.get("type") == "text" and isinstance(message.get("text"), str) else None


def parse_event(raw: dict):
    """The SDK's event model, or its UnknownEvent for a type this SDK does not know (as WebhookParser does)."""
    try:
        return Event.from_dict(raw)
    except ValueError:
        pass
    try:
        return UnknownEvent.new_from_json_dict(raw)
    except ValueError:
        return None  # not even the envelope of an event: nothing to handle


class _LoadingTimer:
    """Shows LINE's loading animation for a reply not sent within LATE_AFTER of its webhook.

    One thread keeps the deadlines; the calls go to a few threads of their own, so a slow
    loading call never delays a reply.
    """

    def __init__(self, line: LineGateway, threads: int = 4):
        self.line = line
        self._heap: list[tuple[float, int, str]] = []
        self._waiting: set[int] = set()  # scheduled, reply not sent yet
        self._cond = threading.Condition()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="loading")
        self._thread: threading.Thread | None = None
        self._stopped = False

    def schedule(self, job: ReplyJob, now: datetime) -> None:
        if not job.user_id or not job.reply_token:
            return
        # Not before GRACE after we took it: an event taken late (a backlog) is replied to at once,
        # and an animation called beside its reply would only be one more call to LINE.
        wait = max(LATE_AFTER - (now - job.received_at).total_seconds(), GRACE)
        at = time.monotonic() + wait
        with self._cond:
            earliest = not self._heap or at < self._heap[0][0]
            heapq.heappush(self._heap, (at, job.id, job.user_id))
            self._waiting.add(job.id)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="loading-timer", daemon=True)
                self._thread.start()
            if earliest:  # otherwise the timer wakes for an earlier deadline anyway
                self._cond.notify()

    def done(self, job: ReplyJob) -> None:
        with self._cond:
            self._waiting.discard(job.id)

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                if not self._heap:
                    self._cond.wait()
                    continue
                at, job_id, user_id = self._heap[0]
                delay = at - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
                if job_id in self._waiting:
                    self._waiting.discard(job_id)
                    self._pool.submit(self._show, job_id, user_id)

    def _show(self, job_id: int, user_id: str) -> None:
        outcome = self.line.show_loading(user_id)
        if not outcome.delivered:
            log.info("event %s: loading animation not shown: %s", job_id, outcome.describe())

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._pool.shutdown(wait=False)
