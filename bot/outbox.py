"""Paid notices through a transactional outbox.

A notice row is written in the same transaction as the payment (or reversal) it reports, so
either both exist or neither does. Delivery claims due rows with a lease (PostgreSQL:
FOR UPDATE SKIP LOCKED, so several workers never take the same row; SQLite: one writer), sends
each with its own X-Line-Retry-Key on every attempt, and records the outcome. A process killed
mid-delivery leaves leased rows; when the lease runs out they are sent again with the same key,
and LINE answers 409 for a key it already accepted: delivered once.
"""
from __future__ import annotations

import json
import logging
import random
import signal
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import false, or_, select, text, update
from sqlalchemy.orm import Session

from bot.core.dates import utcnow
from bot.core.i18n import Translator
from bot import upstream
from bot.db import Database, insert_ignore
from bot.line import LineGateway, PushOutcome
from bot.messages import receipt
from bot.models import Invoice, LineUser, Notice, Payment, Watch
from bot.upstream import UpstreamClient

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0
MAX_ATTEMPTS = 15
BACKOFF_BASE = 1.0
BACKOFF_CAP = 600.0
BATCH = 128
SENDERS = 16  # concurrent pushes per process
CHANNEL = "tisi_notices"  # PostgreSQL LISTEN/NOTIFY channel that wakes external workers


def enqueue_upstream(session: Session, inv: Invoice, payment: Payment, kind: str, previous: str) -> None:
    """The invoice's new status for the e-License / e-Surveillance systems, in the same transaction."""
    now = utcnow()
    insert_ignore(session, Notice, retry_key=str(uuid.uuid4()), channel="upstream",
                  event_key=f"upstream:{kind}:{payment.id}", to_user="upstream",
                  messages=upstream.status_change(inv, payment, previous=previous), status="pending", attempts=0,
                  next_attempt_at=now, created_at=now)
    _wake_workers(session)


def enqueue_payment_notices(session: Session, inv: Invoice, payment: Payment, kind: str) -> bool:
    """One notice per followed LINE user who asked about this invoice or its license."""
    watchers = select(Watch.line_user_id).where(
        or_(Watch.invoice_id == inv.id, (Watch.license_no == inv.license_no) if inv.license_no else false())
    )
    users = session.scalars(select(LineUser).where(LineUser.id.in_(watchers), LineUser.followed.is_(True))).all()
    now = utcnow()
    queued = False
    for user in users:
        message = receipt(inv, payment, Translator(user.language), reversed_=kind == "reversed")
        queued |= insert_ignore(
            session, Notice, retry_key=str(uuid.uuid4()), channel="line", event_key=f"{kind}:{payment.id}",
            to_user=user.user_id,
            messages=json.dumps([message], ensure_ascii=False), status="pending", attempts=0,
            next_attempt_at=now, created_at=now,
        ) is not None
    if queued:
        _wake_workers(session)
    return queued


def _wake_workers(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))  # delivered to LISTENing workers at commit


@dataclass(frozen=True)
class Claimed:
    id: int
    retry_key: str
    channel: str
    to_user: str
    messages: str
    attempts: int


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter; LINE's Retry-After wins when it asks for longer."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    delay = random.uniform(delay / 2, delay)
    return max(delay, retry_after) if retry_after is not None else delay


class Deliverer:
    """Claims due notices and pushes them through the LINE gateway."""

    def __init__(self, db: Database, line: LineGateway, *, upstream: UpstreamClient | None = None,
                 lease: float = LEASE_SECONDS, batch: int = BATCH, senders: int = SENDERS):
        self.db, self.line, self.upstream, self.lease, self.batch = db, line, upstream, lease, batch
        self._pool = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="push")

    def claim(self) -> list[Claimed]:
        now = utcnow()
        due = (
            select(Notice.id)
            .where(Notice.status == "pending", Notice.next_attempt_at <= now,
                   or_(Notice.lease_until.is_(None), Notice.lease_until < now))
            .order_by(Notice.id)
            .limit(self.batch)
        )
        if self.db.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        stmt = (
            update(Notice)
            .where(Notice.id.in_(due.scalar_subquery()))
            .values(lease_until=now + timedelta(seconds=self.lease), attempts=Notice.attempts + 1)
            .returning(Notice.id, Notice.retry_key, Notice.channel, Notice.to_user, Notice.messages, Notice.attempts)
            .execution_options(synchronize_session=False)
        )
        with self.db.transaction() as session:
            rows = session.execute(stmt).all()
        return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)

    def deliver_once(self) -> int:
        """Deliver one batch of due notices; the number claimed."""
        claimed = self.claim()
        if not claimed:
            return 0
        outcomes = list(self._pool.map(self._send, claimed))
        self._record(claimed, outcomes)
        return len(claimed)

    def _send(self, notice: Claimed) -> PushOutcome:
        if notice.channel == "upstream":
            if self.upstream is None:
                return PushOutcome(False, False, 0, "UPSTREAM_CALLBACK_URL is not set")
            return self.upstream.post(notice.messages, notice.retry_key)
        return self.line.push(notice.to_user, json.loads(notice.messages), notice.retry_key)

    def _record(self, claimed: list[Claimed], outcomes: list[PushOutcome]) -> None:
        now = utcnow()
        delivered = [n.id for n, o in zip(claimed, outcomes) if o.delivered]
        with self.db.transaction() as session:
            if delivered:  # the common case, in one statement
                session.execute(update(Notice).where(Notice.id.in_(delivered))
                                .values(status="sent", sent_at=now, last_error=None, lease_until=None))
            for notice, outcome in zip(claimed, outcomes):
                if outcome.delivered:
                    continue
                values: dict = {"lease_until": None}
                if outcome.retry and notice.attempts < MAX_ATTEMPTS:
                    delay = backoff(notice.attempts, outcome.retry_after)
                    values.update(next_attempt_at=now + timedelta(seconds=delay),
                                  last_error=f"{outcome.status} {outcome.detail}"[:1000])
                else:
                    values.update(status="failed", last_error=f"{outcome.status} {outcome.detail}"[:1000])
                    log.warning("notice %s failed for good: %s", notice.id, values["last_error"])
                session.execute(update(Notice).where(Notice.id == notice.id).values(**values))

    def next_due_in(self) -> float | None:
        """Seconds until the next pending notice is due (None when there is none)."""
        with self.db.sessions() as session:
            at = session.scalar(select(Notice.next_attempt_at).where(Notice.status == "pending")
                                .order_by(Notice.next_attempt_at).limit(1))
        if at is None:
            return None
        return max(0.0, (at - utcnow()).total_seconds())

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class Notifier:
    """WORKER=inline: a background thread of the web process delivers, woken after each commit."""

    def __init__(self, deliverer: Deliverer, idle_poll: float = 1.0):
        self.deliverer = deliverer
        self.idle_poll = idle_poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def wake(self) -> None:
        self.start()
        self._wake.set()

    def start(self) -> None:
        """Start the thread if it is not running (on first use: after gunicorn's fork)."""
        if self._thread is not None and self._thread.is_alive():
            return  # the common case, on every request: no lock
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="notifier", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                while self.deliverer.deliver_once():
                    pass
                wait = self.deliverer.next_due_in()
            except Exception:
                log.exception("notice delivery failed; will retry")
                wait = self.idle_poll
            timeout = self.idle_poll if wait is None else min(self.idle_poll, wait)
            self._wake.wait(timeout)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def upstream_client(settings) -> UpstreamClient | None:
    if settings.upstream_callback_url and settings.upstream_api_token:
        return UpstreamClient(settings.upstream_callback_url, settings.upstream_api_token)
    return None


def init_app(app, services) -> None:
    if services.settings.worker != "inline":
        return
    deliverer = Deliverer(services.db, services.line, upstream=upstream_client(services.settings))
    services.notifier = Notifier(deliverer)

    @app.before_request
    def _start_notifier() -> None:
        if services.notifier is not None:
            services.notifier.start()


def run_worker(settings, *, once: bool = False, lease: float = LEASE_SECONDS, idle_poll: float = 0.2) -> None:
    """`tisi-pay worker`: deliver until SIGTERM/SIGINT.

    Idle, it sleeps until the next poll, or on PostgreSQL until a NOTIFY says a payment just
    queued notices (so a push leaves within milliseconds of the payment's commit).
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    db = Database(settings.database_url)
    deliverer = Deliverer(db, LineGateway(settings.line_api_url, settings.line_channel_access_token),
                          upstream=upstream_client(settings), lease=lease)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    wait = _listener(db) or stop.wait
    log.info("worker started")
    try:
        while not stop.is_set():
            try:
                if deliverer.deliver_once():
                    continue
                if once:
                    return
            except Exception:
                log.exception("delivery round failed; retrying")
            wait(idle_poll)
    finally:
        deliverer.close()
        db.dispose()
        log.info("worker stopped")


def _listener(db: Database):
    """On PostgreSQL, a wait function that returns early when notices are queued."""
    if db.dialect != "postgresql":
        return None
    import psycopg

    try:
        conn = psycopg.connect(db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                               autocommit=True)
        conn.execute(f"LISTEN {CHANNEL}")
    except Exception:
        log.warning("LISTEN unavailable; polling only")
        return None

    def wait(timeout: float) -> None:
        for _ in conn.notifies(timeout=timeout, stop_after=1):
            pass

    return wait
