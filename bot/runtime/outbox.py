"""Delivering queued notices (LINE pushes and upstream callbacks); queueing them is `bot.ledger.notices`.

A notice row is written in the same transaction as the change it reports. `NoticeQueue`, driven
by `bot.runtime.worker.Dispatcher`, claims due rows with a lease (PostgreSQL: FOR UPDATE SKIP LOCKED, so
several workers never take the same row; SQLite: one writer), sends each with its own
X-Line-Retry-Key on every attempt, and records the outcome, fenced by the claim's attempt
number. A process killed mid-delivery leaves leased rows; when the lease runs out they are sent
again with the same key, and LINE answers 409 for a key it already accepted: delivered once.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from bot import metrics
from bot.core.dates import utcnow
from bot.core.delivery import Outcome, backoff
from bot.data.db import Database
from bot.data.models import Notice, notice_pending, table_of
from bot.data.states import NoticeChannel, NoticeStatus
from bot.ledger.notices import OUTBOX
from bot.line.gateway import LineGateway
from bot.runtime.upstream import UpstreamClient

log = logging.getLogger(__name__)
_N = table_of(Notice)  # Core statements: the ORM's bulk-update machinery cost more than the SQL
_SENT = (update(_N).where(_N.c.id == bindparam("b_id"), _N.c.attempts == bindparam("b_attempts"))
         .values(status=NoticeStatus.SENT, sent_at=bindparam("b_at"), last_error=None, lease_until=None))

LEASE_SECONDS = 60.0  # longer than a push's timeouts (3 + 10 s) plus a queue wait
MAX_ATTEMPTS = 15
BATCH = 128
SENDERS = 16  # concurrent pushes per process


@dataclass(frozen=True)
class Claimed:
    id: int
    retry_key: str
    channel: str
    to_user: str
    messages: str
    attempts: int
    event_key: str = ""
    created_at: datetime | None = None


class NoticeQueue:
    name = OUTBOX

    def __init__(self, db: Database, line: LineGateway, *, upstream: UpstreamClient | None = None,
                 lease: float = LEASE_SECONDS, batch: int = BATCH, senders: int = SENDERS):
        self.db, self.line, self.upstream = db, line, upstream
        self.lease, self.batch, self.senders = lease, batch, senders
        self.max_inflight = senders * 2

    def claim(self, session: Session, limit: int) -> list[Claimed]:
        now = utcnow()
        due = (
            select(_N.c.id)
            .where(notice_pending(), _N.c.next_attempt_at <= now,
                   or_(_N.c.lease_until.is_(None), _N.c.lease_until < now))
            .order_by(_N.c.id)
            .limit(min(limit, self.batch))
        )
        if self.db.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        stmt = (
            update(_N)
            .where(_N.c.id.in_(due.scalar_subquery()))
            .values(lease_until=now + timedelta(seconds=self.lease), attempts=_N.c.attempts + 1)
            .returning(_N.c.id, _N.c.retry_key, _N.c.channel, _N.c.to_user, _N.c.messages, _N.c.attempts,
                       _N.c.event_key, _N.c.created_at)
            
        )
        rows = session.execute(stmt).all()
        return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)

    def send(self, notice: Claimed) -> Outcome:
        if notice.channel == NoticeChannel.UPSTREAM:
            if self.upstream is None:
                return Outcome.not_sent("UPSTREAM_CALLBACK_URL is not set")
            return self.upstream.post(notice.messages, notice.retry_key)
        return self.line.push(notice.to_user, json.loads(notice.messages), notice.retry_key)

    def record(self, session: Session, results: list[tuple[Claimed, Outcome]]) -> float | None:
        """Fenced by the claim's attempt number: if our lease ran out and another worker claimed the
        row, this claim changes nothing. Returns the soonest retry, in seconds."""
        now = utcnow()
        soonest = None
        delivered = [{"b_id": n.id, "b_attempts": n.attempts, "b_at": now} for n, o in results if o.delivered]
        if delivered:  # the common case, one cached statement for all
            session.execute(_SENT, delivered)
            for notice, outcome in results:
                if outcome.delivered:
                    metrics.NOTICES_SENT.labels(metrics.notice_kind(notice.event_key)).inc()
                    if notice.channel == NoticeChannel.LINE and notice.created_at is not None:
                        metrics.PUSH_LATENCY.observe(max(0.0, (now - notice.created_at).total_seconds()))
        for notice, outcome in results:
            if outcome.delivered:
                continue
            values: dict = {"lease_until": None}
            if outcome.retry and notice.attempts < MAX_ATTEMPTS:
                delay = backoff(notice.attempts, outcome.retry_after)
                values.update(next_attempt_at=now + timedelta(seconds=delay), last_error=outcome.describe())
                soonest = delay if soonest is None else min(soonest, delay)
            else:
                values.update(status=NoticeStatus.FAILED, last_error=outcome.describe())
                log.warning("notice %s failed for good: %s", notice.id, values["last_error"])
            session.execute(update(_N).where(_N.c.id == notice.id, _N.c.attempts == notice.attempts).values(**values))
        return soonest

    def next_due_in(self) -> float | None:
        """Seconds until the next pending notice is due (None when there is none)."""
        with self.db.sessions() as session:
            at = session.scalar(select(func.min(_N.c.next_attempt_at)).where(notice_pending()))
        return None if at is None else max(0.0, (at - utcnow()).total_seconds())

    def handle_claimed(self, session: Session, ids: list[int]) -> list[Claimed]:
        return []  # notices are never stored leased

    def release(self, session: Session, ids: list[int]) -> None:
        pass

    def maintain(self, session: Session) -> None:
        pass  # sent notices are kept: they are the record of what each user was told

    def close(self) -> None:
        pass


def upstream_client(settings) -> UpstreamClient | None:
    if settings.upstream_callback_url and settings.upstream_api_token:
        return UpstreamClient(settings.upstream_callback_url, settings.upstream_api_token)
    return None
