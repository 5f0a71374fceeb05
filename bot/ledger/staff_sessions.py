"""Console sessions kept in the database: the browser holds only a random id (its SHA-256 is the
row's key), so a session ends for good when it is signed out, replaced at sign-in, or idle for
IDLE minutes, whatever copy of the cookie anyone kept."""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from bot.core.dates import utcnow
from bot.data.models import StaffSession

IDLE = timedelta(minutes=30)
LONGEST = timedelta(hours=12)  # a signed-in day, however busy: then sign in again
TOUCH_EVERY = timedelta(seconds=60)  # seen_at is written at most this often (not on every click)
FORGET_AFTER = timedelta(days=2)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def live(row: StaffSession | None, now: datetime) -> bool:
    return (row is not None and row.ended_at is None and now - row.seen_at < IDLE
            and now - row.created_at < LONGEST)


def load(session: Session, token: str, now: datetime | None = None) -> StaffSession | None:
    """The live session of that cookie value, or None (unknown, ended, idle too long)."""
    if not token or len(token) > 100:
        return None
    row = session.get(StaffSession, token_hash(token))
    return row if live(row, now or utcnow()) else None


def save(session: Session, token: str, data: dict[str, Any], account_id: int | None, *, created: bool,
         now: datetime | None = None) -> None:
    now = now or utcnow()
    body = json.dumps(data, ensure_ascii=False, sort_keys=True)
    if created:
        session.add(StaffSession(id_hash=token_hash(token), account_id=account_id, data=body, created_at=now,
                                 seen_at=now))
    else:
        session.execute(update(StaffSession).where(StaffSession.id_hash == token_hash(token))
                        .values(data=body, account_id=account_id, seen_at=now))


def touch_due(seen_at: datetime | None, now: datetime | None = None) -> bool:
    """Whether a session's seen_at is old enough to be written again."""
    return seen_at is not None and (now or utcnow()) - seen_at >= TOUCH_EVERY


def touch(session: Session, token: str, now: datetime | None = None) -> None:
    session.execute(update(StaffSession).where(StaffSession.id_hash == token_hash(token))
                    .values(seen_at=now or utcnow()))


def end(session: Session, token: str, now: datetime | None = None) -> None:
    session.execute(update(StaffSession).where(StaffSession.id_hash == token_hash(token),
                                               StaffSession.ended_at.is_(None)).values(ended_at=now or utcnow()))


def forget_old(session: Session, now: datetime | None = None) -> None:
    """Rows of sessions that cannot come back (ended or idle long ago): run at each sign-in."""
    cutoff = (now or utcnow()) - FORGET_AFTER
    session.execute(delete(StaffSession).where(or_(StaffSession.seen_at < cutoff, StaffSession.ended_at < cutoff)))
