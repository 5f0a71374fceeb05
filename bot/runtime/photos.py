"""Reading photos users send, on a pool of its own: `PhotoQueue`, driven by the worker loop like
the inbox's replies, claims stored photo events (status `photo`) with a lease, fetches each from
LINE's content host at once (LINE keeps content only for a while), reads its codes in a child
process of low priority (20 photos at once queue here and take only the CPU that text replies
leave), and records what was read
(`photo_reads`: never the image, only its SHA-256, the codes and the outcome). The event then
becomes an ordinary pending event, and its handler (handlers/photos.py) answers from the read."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from bot.core.dates import utcnow
from bot.core.delivery import Outcome, backoff
from bot.core.photocodes import PhotoOutcome, judge
from bot.data.db import Database, insert_ignore
from bot.data.models import InboxEvent, PhotoRead, inbox_waiting, table_of
from bot.data.states import InboxStatus
from bot.data.wakeup import notify_workers
from bot.line.gateway import LineGateway
from bot.runtime import reader_child
from bot.runtime.inbox import PHOTOS, ReplyQueue, json_object
from bot.runtime.queue import LocalQueue
from bot.vision.reader import MAX_BYTES, Refused

log = logging.getLogger(__name__)
_T = table_of(InboxEvent)
LEASE_SECONDS = 60.0
MAX_ATTEMPTS = 4  # the reader failing: a few tries, then the photo is refused as unreadable
# LINE's content host failing (5xx, no answer) is tried again while the answer can still be a reply:
# until this many seconds after the webhook; then the user is told we could not fetch it for now.
FETCH_FOR = 35.0
FETCH_BASE = 1.0  # seconds before the first try again


@dataclass
class PhotoJob:
    id: int
    attempts: int
    user_id: str | None
    message_id: str
    image_set: str | None
    received_at: datetime | None = None
    read: dict[str, Any] | None = None  # the photo_reads row to write

    def fetch_left(self, now: datetime | None = None) -> float:
        if self.received_at is None:
            return 0.0
        return FETCH_FOR - ((now or utcnow()) - self.received_at).total_seconds()


class PhotoQueue(LocalQueue):
    name = PHOTOS
    senders = 2  # reading is CPU: a bounded pool, apart from the reply senders
    max_inflight = 4
    batch = 4

    def __init__(self, db: Database, line: LineGateway, biller_id: str, *, lease: float = LEASE_SECONDS):
        self.db, self.line, self.biller_id, self.lease = db, line, biller_id, lease
        self.on_wake = None  # set by the dispatcher: wakes the reply queue when a read is recorded
        self._readers: ProcessPoolExecutor | None = None
        self._readers_lock = threading.Lock()

    def _read(self, data: bytes) -> list[str]:
        """Read in a child process of low priority: photos take CPU from text replies only
        when nothing else wants it (threads would compete as equals, and hold the GIL in Pillow)."""
        with self._readers_lock:
            if self._readers is None:
                self._readers = ProcessPoolExecutor(max_workers=1, mp_context=reader_child.context(),
                                                    initializer=reader_child.start, initargs=(os.getpid(),))
            readers = self._readers
        try:
            return readers.submit(reader_child.read_texts, data).result(timeout=READ_TIMEOUT)
        except (BrokenProcessPool, FuturesTimeout):
            with self._readers_lock:  # a reader that died or hung: a new one for the next photo
                if self._readers is readers:
                    self._readers = None
            readers.shutdown(wait=False, cancel_futures=True)
            raise

    def claim(self, session: Session, limit: int) -> list[PhotoJob]:
        now = utcnow()
        due = (select(_T.c.id).where(inbox_waiting(), _T.c.status == InboxStatus.PHOTO, _T.c.next_attempt_at <= now,
                                     or_(_T.c.lease_until.is_(None), _T.c.lease_until < now))
               .order_by(_T.c.id).limit(min(limit, self.batch)))
        if self.db.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        rows = session.execute(update(_T).where(_T.c.id.in_(due.scalar_subquery()))
                               .values(lease_until=now + timedelta(seconds=self.lease), attempts=_T.c.attempts + 1)
                               .returning(_T.c.id, _T.c.attempts, _T.c.user_id, _T.c.payload,
                                          _T.c.received_at)).all()
        jobs = []
        for row in sorted(rows, key=lambda r: r.id):
            message = json.loads(row.payload).get("message") or {}
            image_set = json_object(message, "imageSet")
            jobs.append(PhotoJob(row.id, row.attempts, row.user_id, str(message.get("id", ""))[:64],
                                 str(image_set["id"])[:64] if image_set.get("id") else None,
                                 received_at=_aware(row.received_at)))
        return jobs

    def send(self, job: PhotoJob) -> Outcome:
        """Fetch and read one photo (sender thread, no transaction open)."""
        if job.user_id:
            self.line.show_loading(job.user_id)  # typing dots while we read
        started = time.perf_counter()
        content = self.line.content(job.message_id, MAX_BYTES)
        read: dict[str, Any] = {"message_id": job.message_id, "user_id": job.user_id, "image_set": job.image_set,
                                "detail": ""}
        if content.status in (404, 410):
            read.update(outcome=PhotoOutcome.GONE, detail=f"LINE answered {content.status}")
        elif content.too_large:
            read.update(outcome=PhotoOutcome.REFUSED, detail="too_large")
        elif content.status != 200:
            # A 5xx or no answer is LINE's content host failing, not the photo gone: tried again
            # while a reply is still possible, then said as it is ("could not fetch it for now").
            if job.fetch_left() > FETCH_BASE:
                return Outcome.from_status(content.status, content.detail or "content not fetched")
            read.update(outcome=PhotoOutcome.NOT_FETCHED,
                        detail=f"LINE answered {content.status or 'nothing'} {content.detail}"[:200])
        else:
            read["sha256"] = hashlib.sha256(content.data).hexdigest()
            try:
                texts = self._read(content.data)
            except Refused as exc:
                read.update(outcome=PhotoOutcome.REFUSED, detail=exc.reason)
            except (BrokenProcessPool, FuturesTimeout) as exc:
                if job.attempts < MAX_ATTEMPTS:
                    return Outcome.failed_here(f"reader failed: {type(exc).__name__}")
                read.update(outcome=PhotoOutcome.REFUSED, detail="unreadable")
            else:
                verdict = judge(texts, self.biller_id)
                read.update(outcome=verdict.outcome, detail=json.dumps({"codes": len(texts)}))
                if verdict.bill is not None:
                    read.update(invoice_no=verdict.bill.ref1[:20], ref2=(verdict.bill.ref2 or "")[:20] or None,
                                amount=max(verdict.amounts) if len(set(verdict.amounts)) == 1 else None)
                    if len(set(verdict.amounts)) > 1:  # the QR and the barcode disagree: trust neither amount
                        read["detail"] = json.dumps({"codes": len(texts), "amounts_differ": True})
                if verdict.eslip is not None:
                    read.update(bank_code=verdict.eslip.bank_code[:8], trans_ref=verdict.eslip.trans_ref[:64])
            del content  # the image is never kept
        read["read_ms"] = int((time.perf_counter() - started) * 1000)
        job.read = read
        return Outcome.ok()

    def record(self, session: Session, results: list[tuple[PhotoJob, Outcome]]) -> float | None:
        now = utcnow()
        soonest = None
        answered = False
        for job, outcome in results:
            fence = (_T.c.id == job.id, _T.c.attempts == job.attempts, _T.c.status == InboxStatus.PHOTO)
            if job.read is not None:
                read = dict(job.read)
                if read.get("trans_ref") or read.get("sha256"):
                    read["presented_before"] = _presented_before(session, read)
                insert_ignore(session, PhotoRead, created_at=now, **read)
                session.execute(update(_T).where(*fence).values(status=InboxStatus.PENDING, next_attempt_at=now,
                                                                lease_until=None))
                answered = True
                continue
            delay = backoff(job.attempts, base=FETCH_BASE)
            if job.fetch_left(now) > FETCH_BASE:  # the last try comes before the answer must leave
                delay = min(delay, max(FETCH_BASE, job.fetch_left(now) - FETCH_BASE))
            soonest = delay if soonest is None else min(soonest, delay)
            session.execute(update(_T).where(*fence).values(lease_until=now + timedelta(seconds=delay),
                                                            last_error=outcome.describe()))
        if answered:
            notify_workers(session, ReplyQueue.name)
            if self.on_wake is not None:
                self.on_wake(ReplyQueue.name)
        return soonest

    def next_due_in(self) -> float | None:
        with self.db.sessions() as session:
            at = session.scalar(select(func.min(func.coalesce(_T.c.lease_until, _T.c.next_attempt_at)))
                                .where(_T.c.status == InboxStatus.PHOTO))
        return None if at is None else max(0.0, (at - utcnow()).total_seconds())

    def maintain(self, session: Session) -> None:
        """What was read is kept as long as the chat event is (KEEP_FINISHED of the inbox)."""
        from bot.runtime.inbox import KEEP_FINISHED

        session.execute(table_of(PhotoRead).delete().where(PhotoRead.created_at < utcnow() - KEEP_FINISHED))

    def close(self) -> None:
        with self._readers_lock:
            readers, self._readers = self._readers, None
        if readers is not None:
            readers.shutdown(wait=False, cancel_futures=True)


READ_TIMEOUT = 30.0  # a photo no reader finishes in this long is not read

ORPHAN_MARKS = ("bot.vision.reader", "multiprocessing.resource_tracker")


def reap_orphans() -> int:
    """Kill what a SIGKILLed predecessor left behind: photo readers, their fork server and resource
    tracker, adopted by PID 1, run by this Python. How many were killed."""
    import signal

    killed = 0
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            exe = os.readlink(entry / "exe")
        except (OSError, ValueError, IndexError):
            continue
        if ppid != 1 or not any(mark in cmdline for mark in ORPHAN_MARKS):
            continue
        if os.path.realpath(exe) != os.path.realpath(sys.executable):
            continue
        try:
            os.kill(int(entry.name), signal.SIGKILL)
            killed += 1
        except OSError:
            pass
    if killed:
        log.warning("killed %d process(es) a stopped worker left behind (photo readers)", killed)
    return killed


def _presented_before(session: Session, read: dict) -> bool:
    """The same e-slip reference, or the same image, sent earlier by another LINE user."""
    same = []
    if read.get("trans_ref"):
        same.append(PhotoRead.trans_ref == read["trans_ref"])
    if read.get("sha256"):
        same.append(PhotoRead.sha256 == read["sha256"])
    other = select(PhotoRead.id).where(or_(*same), PhotoRead.user_id != read.get("user_id")).limit(1)
    return session.scalar(other) is not None


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment
