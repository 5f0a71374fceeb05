"""The worker loop: claims work from the queues (webhook events to reply to, notices to push),
sends it on sender threads, records the outcomes — in the web process (`WORKER=inline`, a
thread) or in `tisi-pay worker` processes (`WORKER=external`).

One dispatcher thread does all database work; each queue has its own sender threads, and only
as many items are claimed as its senders can take, so a slow or hanging LINE call holds one
sender for at most its timeout and never the others, nor the recording of what finished.
Outcomes that could not be recorded (database down) are kept and recorded when it is back.
No error ends the loop: a database outage is logged once when it starts and once when it ends,
and the loop retries with backoff.
"""
from __future__ import annotations

import functools
import logging
import random
import signal
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from bot.core.dates import utcnow
from bot.core.delivery import Outcome
from bot.core.errors import one_line
from bot.data.db import Database, is_transient
from bot.data.states import WorkerKind
from bot.runtime import health
from bot.runtime.inbox import ReplyQueue
from bot.runtime.outbox import NoticeQueue, upstream_client
from bot.runtime.queue import RetryStep, WorkQueue

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 5.0
CHECKPOINT_EVERY = 1.0  # SQLite: see Database.checkpoint
# Outcomes are recorded in batches: a reply or push has already left, so recording it a little
# later costs nobody anything, and one transaction per outcome was most of a worker's database work.
RECORD_DELAY = 0.05
RECORD_BATCH = 64
MAINTAIN_EVERY = 3600.0
# A worker's pool does not ping before each checkout (a round trip per step): a connection lost
# to a database restart fails its step, which is run again on a fresh connection (see run()).
POOL = {"pool_pre_ping": False}
MAX_OUTAGE_BACKOFF = 5.0


class Dispatcher:
    def __init__(self, db: Database, queues: list[WorkQueue[Any]], *, kind: WorkerKind, idle_poll: float = 1.0,
                 name: str | None = None):
        self.db, self.queues, self.kind, self.idle_poll = db, queues, kind, idle_poll
        self.name = name or health.worker_name()
        self.event = threading.Event()  # set by wake-ups and finished sends
        # When to look at each queue next (monotonic): now after a wake-up or a full batch; else
        # when its next item falls due. Looking costs a query, so an idle queue is not polled.
        self._look = {q.name: 0.0 for q in queues}
        self._oldest_finished: float | None = None  # when the oldest unrecorded outcome came in
        self._last_checkpoint = 0.0
        self._adopted: dict[str, deque[int]] = {q.name: deque() for q in queues}
        self._due_checked = {q.name: 0.0 for q in queues}
        self._pools = {q.name: ThreadPoolExecutor(max_workers=q.senders, thread_name_prefix=f"send-{q.name}")
                       for q in queues}
        self._inflight = {q.name: 0 for q in queues}
        self._finished: deque[tuple[WorkQueue[Any], Any, Outcome]] = deque()
        self._unrecorded: dict[str, list[tuple[object, Outcome]]] = {q.name: [] for q in queues}
        self._lock = threading.Lock()
        self._started_at = utcnow()
        self._last_beat = 0.0
        self._last_maintain = time.monotonic()
        for queue in queues:  # a queue whose work feeds another's (photos read, then answered)
            if hasattr(queue, "on_wake"):
                queue.on_wake = self.wake

    def wake(self, queue: str | None = None) -> None:
        """Work was queued (in `queue`, or anywhere): look at it now."""
        for name in self._look if queue is None else (queue,):
            if name in self._look:
                self._look[name] = 0.0
        self.event.set()

    # one pass ------------------------------------------------------------------------------
    def step(self) -> bool:
        """One transaction: record what finished, handle what was adopted, claim what the senders
        can take, beat. Claimed work goes to the senders only once committed. True if work moved.
        A step with nothing but a few young outcomes to record is put off (RECORD_DELAY)."""
        now = time.monotonic()
        if not self._worth_a_transaction(now):
            return False
        while self._finished:
            queue, job, outcome = self._finished.popleft()
            self._unrecorded[queue.name].append((job, outcome))
        self._oldest_finished = None
        recorded = {name: len(results) for name, results in self._unrecorded.items() if results}
        adopted = {q.name: self._take_adopted(q.name) for q in self.queues}
        try:
            with self.db.transaction() as session:
                claimed = [(queue, self._step_queue(session, queue, now, recorded.get(queue.name, 0),
                                                    adopted[queue.name]))
                           for queue in self.queues]
                if now - self._last_beat >= HEARTBEAT_EVERY:
                    health.beat(session, self.name, self.kind, self._started_at)
                if now - self._last_maintain >= MAINTAIN_EVERY:
                    for queue in self.queues:
                        queue.maintain(session)
        except BaseException:
            for name, ids in adopted.items():  # not handled: keep them for the next step
                self._adopted[name].extendleft(reversed(ids))
            raise
        # Committed: what was recorded is done, what was claimed is ours to send.
        if now - self._last_beat >= HEARTBEAT_EVERY:
            self._last_beat = now
        if now - self._last_maintain >= MAINTAIN_EVERY:
            self._last_maintain = now
        for name, count in recorded.items():
            self._unrecorded[name] = self._unrecorded[name][count:]
            with self._lock:
                self._inflight[name] -= count
        for queue, jobs in claimed:
            for job in jobs:
                self._submit(queue, job)
        if now - self._last_checkpoint >= CHECKPOINT_EVERY:  # after the sends have left
            self._last_checkpoint = now
            self.db.checkpoint()
        return bool(recorded) or any(jobs for _, jobs in claimed)

    def _worth_a_transaction(self, now: float) -> bool:
        if any(self._adopted[q.name] for q in self.queues) or now - self._last_beat >= HEARTBEAT_EVERY:
            return True
        with self._lock:
            if any(self._look[q.name] <= now and self._inflight[q.name] < q.max_inflight for q in self.queues):
                return True
        waiting = len(self._finished) + sum(len(v) for v in self._unrecorded.values())
        return waiting >= RECORD_BATCH or (waiting > 0 and self._oldest_finished is not None
                                           and now - self._oldest_finished >= RECORD_DELAY) or (
            waiting > 0 and self._oldest_finished is None)

    def _step_queue(self, session: Session, queue: WorkQueue[Any], now: float, recorded: int, adopted: list[int]) -> list:
        if recorded:
            retry_in = queue.record(session, self._unrecorded[queue.name])
            if retry_in is not None:  # look again when the soonest retry falls due
                self._look[queue.name] = min(self._look[queue.name], now + retry_in)
        with self._lock:
            free = queue.max_inflight - (self._inflight[queue.name] - recorded)
        jobs = []
        if adopted:
            if free >= len(adopted):
                jobs = queue.handle_claimed(session, adopted)
                free -= len(jobs)
            else:  # every sender is busy (LINE is slow): back to the queue, not into memory
                queue.release(session, adopted)
                self._look[queue.name] = min(self._look[queue.name], now + self.idle_poll)
        if free > 0 and self._look[queue.name] <= now:
            limit = min(free, queue.batch)
            more = queue.claim(session, limit)
            # A full batch: more may be waiting. Otherwise wait for a wake-up or the next due item.
            self._look[queue.name] = 0.0 if len(more) == limit else now + self.idle_poll
            jobs = jobs + more
        return jobs

    def has_room(self, name: str, count: int) -> bool:
        """Could `count` more items of this queue be sent at once (counting those adopted already)?"""
        queue = next(q for q in self.queues if q.name == name)
        with self._lock:
            return self._inflight[name] + len(self._adopted[name]) + count <= queue.max_inflight

    def adopt(self, queue: str, ids: list[int]) -> None:
        """Take items stored already leased to this process (thread-safe); handled in the next step."""
        self._adopted[queue].extend(ids)
        self.event.set()

    def _take_adopted(self, name: str) -> list[int]:
        ids = []
        adopted = self._adopted[name]
        while adopted:
            ids.append(adopted.popleft())
        return ids

    def _submit(self, queue: WorkQueue[Any], job: Any) -> None:
        with self._lock:
            self._inflight[queue.name] += 1
        future = self._pools[queue.name].submit(queue.send, job)
        future.add_done_callback(functools.partial(self._done, queue, job))

    def _done(self, queue: WorkQueue[Any], job: Any, future: Future[Outcome]) -> None:
        try:
            outcome = future.result()
        except Exception as exc:  # a bug in send(): treated like no answer, so it is retried
            log.exception("%s: sending failed", queue.name)
            outcome = Outcome.no_answer(exc)
        if self._oldest_finished is None:
            self._oldest_finished = time.monotonic()
        self._finished.append((queue, job, outcome))
        self.event.set()

    def _idle_wait(self) -> float:
        """How long until something is due. A queue whose senders are all busy is left out: a
        finished send wakes us."""
        now = time.monotonic()
        with self._lock:
            open_queues = [q for q in self.queues if self._inflight[q.name] < q.max_inflight]
        wait = self.idle_poll
        for queue in open_queues:
            if now - self._due_checked[queue.name] >= self.idle_poll:
                # Retries scheduled by other processes; our own are known from record().
                self._due_checked[queue.name] = now
                due_in = queue.next_due_in()
                if due_in is not None:
                    self._look[queue.name] = min(self._look[queue.name], now + due_in)
            wait = min(wait, max(0.0, self._look[queue.name] - now))
        if self._oldest_finished is not None:  # outcomes waiting to be recorded
            wait = min(wait, max(0.0, self._oldest_finished + RECORD_DELAY - now))
        return wait

    # the loop --------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        outage_since: float | None = None
        delay = 0.1
        while not stop.is_set():
            try:
                moved = self.step()
                wait = 0.0 if moved else self._idle_wait()
                if outage_since is not None:
                    log.warning("database is back after %.1f s; worker %s resumed", time.monotonic() - outage_since,
                                self.name)
                    outage_since, delay = None, 0.1
            except RetryStep as again:
                log.info("worker %s: %s", self.name, again)
                continue
            except (DBAPIError, PoolTimeout) as exc:
                if is_transient(exc):  # a deadlock or serialization failure outside a handler: not an outage
                    log.info("worker %s: %s; running the step again", self.name, one_line(exc))
                    stop.wait(random.uniform(0.005, 0.05))  # out of step with whoever we met
                    continue
                if outage_since is None:
                    outage_since = time.monotonic()
                    log.warning("database unavailable (%s); worker %s retries with backoff", one_line(exc), self.name)
                stop.wait(delay)
                delay = min(MAX_OUTAGE_BACKOFF, delay * 2)
                continue
            except Exception:
                log.exception("worker %s: unexpected error; retrying", self.name)
                stop.wait(delay)
                delay = min(MAX_OUTAGE_BACKOFF, delay * 2)
                continue
            if wait > 0:
                self.event.wait(wait)
            self.event.clear()

    def close(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=True)
        try:
            self._record_only()
        except Exception:
            log.warning("worker %s: %d outcome(s) not recorded at shutdown; their leases will expire", self.name,
                        sum(len(v) for v in self._unrecorded.values()) + len(self._finished))
        for queue in self.queues:
            queue.close()


    def _record_only(self) -> None:
        while self._finished:
            queue, job, outcome = self._finished.popleft()
            self._unrecorded[queue.name].append((job, outcome))
        with self.db.transaction() as session:
            for queue in self.queues:
                if self._unrecorded[queue.name]:
                    queue.record(session, self._unrecorded[queue.name])
        for name in self._unrecorded:
            self._unrecorded[name] = []


# -- assembling ----------------------------------------------------------------------------------
def build_queues(settings, db: Database, line, links, *, maker=None, external: bool = False) -> list[WorkQueue[Any]]:
    from bot.runtime.photos import PhotoQueue

    queues: list[WorkQueue[Any]] = [ReplyQueue(db, line, links, reminder_days=settings.reminder_days,
                                               office_hours=settings.office_hours,
                                               support_contact=settings.support_contact, wait_turn=external),
                               NoticeQueue(db, line, upstream=upstream_client(settings)),
                               PhotoQueue(db, line, settings.biller_id)]
    if maker is not None:  # receipts are issued (RECEIPT_SIGNING_P12): their PDFs are made here
        from bot.runtime.receipts import ReceiptQueue

        queues.append(ReceiptQueue(db, maker))
    return queues


def listener_for(db: Database, wake):
    """On PostgreSQL, a LISTEN thread that wakes the dispatcher when work is queued anywhere."""
    if db.dialect != "postgresql":
        return None
    from bot.data.wakeup import Listener

    dsn = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return Listener(dsn, wake).start()


class InlineWorker:
    """WORKER=inline: the dispatcher as a daemon thread of the web process, started on first use
    (after gunicorn forks, never before)."""

    def __init__(self, make_dispatcher):
        self._make = make_dispatcher
        self.dispatcher: Dispatcher | None = None
        self._thread: threading.Thread | None = None
        self._listener = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def _started(self) -> Dispatcher:
        self.start()
        assert self.dispatcher is not None  # start() made it
        return self.dispatcher

    def wake(self, queue: str | None = None) -> None:
        self._started().wake(queue)

    def adopt(self, queue: str, ids: list[int]) -> None:
        """Items this process stored already leased (see `bot.runtime.inbox.store_events`): the dispatcher
        handles them at once, without claiming them from the database."""
        self._started().adopt(queue, ids)

    def has_room(self, queue: str, count: int) -> bool:
        return self._started().has_room(queue, count)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return  # the common case, on every request: no lock
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                if self.dispatcher is None:
                    self.dispatcher = self._make()
                    self._listener = listener_for(self.dispatcher.db, self.dispatcher.wake)
                self._thread = threading.Thread(target=self.dispatcher.run, args=(self._stop,), name="dispatcher",
                                                daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.dispatcher is not None:
            self.dispatcher.event.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._listener is not None:
            self._listener.stop()
        if self.dispatcher is not None:
            self.dispatcher.close()
            self.dispatcher.db.dispose()


def run_worker(settings, *, lease: float | None = None, idle_poll: float = 1.0) -> None:
    """`tisi-pay worker`: handle webhook events and deliver notices until SIGTERM/SIGINT."""
    from bot.line.gateway import LineGateway
    from bot.render.links import make_links

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot.runtime.photos import reap_orphans

    reap_orphans()  # what a SIGKILLed predecessor's photo readers left under PID 1
    db = Database(settings.database_url, **POOL)
    line = LineGateway(settings.line_api_url, settings.line_channel_access_token,
                       data_api_url=settings.line_data_api_url)
    from bot.ledger.receipts import from_settings

    links = make_links(settings)
    queues = build_queues(settings, db, line, links, maker=from_settings(settings, links)[1], external=True)
    if lease is not None:
        for queue in queues:
            queue.lease = lease
    dispatcher = Dispatcher(db, queues, kind=WorkerKind.EXTERNAL, idle_poll=idle_poll)
    stop = threading.Event()

    def _stop(*_):
        stop.set()
        dispatcher.event.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)
    listener = listener_for(db, dispatcher.wake)
    log.info("worker %s started", dispatcher.name)
    try:
        dispatcher.run(stop)
    finally:
        if listener is not None:
            listener.stop()
        dispatcher.close()
        db.dispose()
        log.info("worker %s stopped", dispatcher.name)
