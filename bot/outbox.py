"""Delivering queued notices (LINE pushes and upstream callbacks); queueing them is `bot.notices`.

A notice row is written in the same transaction as the change it reports. `NoticeQueue`, driven
by `bot.worker.Dispatcher`, claims due rows with a lease (PostgreSQL: FOR UPDATE SKIP LOCKED, so
several workers never take the same row; SQLite: one writer), sends each with its own
X-Line-Retry-Key on every attempt, and records the outcome, fenced by the claim's attempt
number. A process killed mid-delivery leaves leased rows; when the lease runs out they are sent
again with the same key, and LINE answers 409 for a key it already accepted: delivered once.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select, tuple_, update

from bot.core.dates import utcnow
from bot.db import Database
from bot.delivery import Outcome, backoff
from bot.line import LineGateway
from bot.models import Notice
from bot.states import NoticeChannel, NoticeStatus
from bot.upstream import UpstreamClient

log = logging.getLogger(__name__)

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


class NoticeQueue:
    name = "outbox"

    def __init__(self, db: Database, line: LineGateway, *, upstream: UpstreamClient | None = None,
                 lease: float = LEASE_SECONDS, batch: int = BATCH, senders: int = SENDERS):
        self.db, self.line, self.upstream = db, line, upstream
        self.lease, self.batch, self.senders = lease, batch, senders
        self.max_inflight = senders * 2

    def claim(self, limit: int) -> list[Claimed]:
        now = utcnow()
        due = (
            select(Notice.id)
            .where(Notice.status == NoticeStatus.PENDING, Notice.next_attempt_at <= now,
                   or_(Notice.lease_until.is_(None), Notice.lease_until < now))
            .order_by(Notice.id)
            .limit(min(limit, self.batch))
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

    def send(self, notice: Claimed) -> Outcome:
        if notice.channel == NoticeChannel.UPSTREAM:
            if self.upstream is None:
                return Outcome(False, False, 0, "UPSTREAM_CALLBACK_URL is not set")
            return self.upstream.post(notice.messages, notice.retry_key)
        return self.line.push(notice.to_user, json.loads(notice.messages), notice.retry_key)

    def record(self, results: list[tuple[Claimed, Outcome]]) -> None:
        now = utcnow()
        delivered = [(n.id, n.attempts) for n, o in results if o.delivered]
        with self.db.transaction() as session:
            if delivered:  # the common case, in one statement; fenced like the others below
                session.execute(update(Notice).where(tuple_(Notice.id, Notice.attempts).in_(delivered))
                                .values(status=NoticeStatus.SENT, sent_at=now, last_error=None, lease_until=None)
                                .execution_options(synchronize_session=False))
            for notice, outcome in results:
                values: dict = {"lease_until": None}
                if outcome.delivered:
                    continue
                if outcome.retry and notice.attempts < MAX_ATTEMPTS:
                    delay = backoff(notice.attempts, outcome.retry_after)
                    values.update(next_attempt_at=now + timedelta(seconds=delay), last_error=outcome.describe())
                else:
                    values.update(status=NoticeStatus.FAILED, last_error=outcome.describe())
                    log.warning("notice %s failed for good: %s", notice.id, values["last_error"])
                # Fenced: if our lease ran out and another worker claimed the row, this claim changes nothing.
                session.execute(update(Notice).where(Notice.id == notice.id, Notice.attempts == notice.attempts)
                                .values(**values).execution_options(synchronize_session=False))

    def next_due_in(self) -> float | None:
        """Seconds until the next pending notice is due (None when there is none)."""
        with self.db.sessions() as session:
            at = session.scalar(select(func.min(Notice.next_attempt_at)).where(Notice.status == NoticeStatus.PENDING))
        return None if at is None else max(0.0, (at - utcnow()).total_seconds())

    def maintain(self) -> None:
        pass  # sent notices are kept: they are the record of what each user was told

    def close(self) -> None:
        pass


def upstream_client(settings) -> UpstreamClient | None:
    if settings.upstream_callback_url and settings.upstream_api_token:
        return UpstreamClient(settings.upstream_callback_url, settings.upstream_api_token)
    return None
