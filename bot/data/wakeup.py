"""Waking workers the moment there is work.

In one process, a threading.Event. Across processes on PostgreSQL, `NOTIFY tisi_work` in the
transaction that queued the work (delivered at commit) and a listener thread per worker process
that turns each notification into a local wake-up. The listener reconnects after a database
restart; while it is down, workers still poll.
"""
from __future__ import annotations

import logging
import os
import selectors
import threading

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
CHANNEL = "tisi_work"
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', :queue)")


def notify_sql(queue: str) -> str:
    """The NOTIFY of `notify_workers` as an SQL expression, for a statement that does it itself."""
    assert queue.isidentifier()  # written into SQL
    return f"pg_notify('{CHANNEL}', '{queue}')"


def notify_workers(conn: Session | Connection, queue: str) -> None:
    """Wake the workers of every process when this transaction commits (PostgreSQL only; SQLite
    workers of other processes poll). The payload names the queue."""
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    if bind.dialect.name == "postgresql":
        conn.execute(_NOTIFY, {"queue": queue})


class Listener:
    """A daemon thread that LISTENs and calls `wake(queue)` on every notification; reconnects with backoff."""

    def __init__(self, dsn: str, wake, *, poll: float = 0.25, max_backoff: float = 5.0):
        self.dsn, self.wake, self.poll, self.max_backoff = dsn, wake, poll, max_backoff
        self._stop = threading.Event()
        # stop() writes here so the thread, waiting on its connection, returns at once (a
        # timeout alone kept every shutdown waiting for it).
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="listen", daemon=True)
        self.connected = threading.Event()

    def start(self) -> "Listener":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        os.write(self._stop_w, b"x")
        self._thread.join(timeout=self.poll + 1)
        if not self._thread.is_alive():
            os.close(self._stop_r)
            os.close(self._stop_w)

    def _run(self) -> None:
        import psycopg

        delay = 0.1
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True, connect_timeout=3) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    self.wake(None)  # anything queued while we were not listening
                    delay = 0.1
                    with selectors.DefaultSelector() as ready:
                        ready.register(conn.fileno(), selectors.EVENT_READ)
                        ready.register(self._stop_r, selectors.EVENT_READ)
                        while not self._stop.is_set():
                            ready.select(self.poll)  # a notification, stop(), or a look anyway
                            if self._stop.is_set():
                                break
                            for notice in conn.notifies(timeout=0):  # what arrived, without waiting
                                self.wake(notice.payload or None)
            except Exception as exc:  # the database went away: the worker loop reports the outage
                self.connected.clear()
                log.debug("LISTEN connection lost (%s); reconnecting", type(exc).__name__)
                self._stop.wait(delay)
                delay = min(self.max_backoff, delay * 2)
