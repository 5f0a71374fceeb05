"""Engine and sessions. SQLite: WAL, one writer at a time (BEGIN IMMEDIATE); PostgreSQL: psycopg 3."""
from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, TypeVar

from sqlalchemy import bindparam, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from bot.core.errors import one_line

# Every session comes from here, so importing this installs the audit chain's commit hooks
# (links appended at every commit): no write can skip it.
from bot.data import chain as _chain  # noqa: F401

# What PostgreSQL says when it chose this transaction to give way to another: the same work run
# again will succeed. deadlock_detected, serialization_failure, lock_not_available.
# What web handlers catch, without importing SQLAlchemy (they reach data only through the ledger):
# any database error, and the ones that mean "could not store it now" (the caller answers 503).
DatabaseError = SQLAlchemyError
UNAVAILABLE = (DBAPIError, PoolTimeout)
# The database could not be reached or used at all: never an error in what was sent (a DataError,
# an IntegrityError), so never a reason to spool or to tell anyone "try later".
OUTAGE = (OperationalError, InterfaceError, PoolTimeout)

TRANSIENT_SQLSTATES = frozenset({"40P01", "40001", "55P03"})


def is_transient(exc: BaseException) -> bool:
    """A database error that running the same transaction again resolves (not an outage)."""
    orig = getattr(exc, "orig", None) or exc
    return getattr(orig, "sqlstate", None) in TRANSIENT_SQLSTATES


def normalize_url(url: str) -> str:
    """Accept plain postgresql:// URLs and point them at psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, **kwargs) -> Engine:
    url = normalize_url(url)
    # Waiting long for a pooled connection helps nobody: the webhook answers 503 (LINE redelivers)
    # and workers retry. The bank's pool sets its own.
    kwargs.setdefault("pool_timeout", 1.0)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True,
                               **kwargs)
        lock_path = None if parsed.database in (None, "", ":memory:") else parsed.database + ".writer-lock"
        _sqlite_one_writer(engine, lock_path)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    ping_idle = kwargs.pop("pool_pre_ping", True)  # False: the caller retries a step that lost its connection
    # A database that does not answer is reported in seconds, not after the OS's TCP timeout.
    kwargs.setdefault("connect_args", {"connect_timeout": 3})
    # Tracebacks must not carry parameters: LINE user ids, tax ids and payer names were seen in logs.
    engine = create_engine(url, hide_parameters=True, **kwargs)
    if ping_idle:
        _ping_when_idle(engine)
    return engine


PING_AFTER_IDLE = 1.0  # seconds


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use when it sat in the pool a while (a database restart
    meanwhile would have closed it), not before every use: under load the check was a round
    trip per request, a sixth of a web process's busy time. A connection lost less than a second
    ago fails its request (503; LINE redelivers), and SQLAlchemy then replaces every connection
    the pool held from before the loss."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn, record, _proxy):
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            if engine.dialect.is_disconnect(exc, dbapi_conn, None):
                raise DisconnectionError(one_line(exc)) from exc  # the pool connects anew
            raise


AUTOCHECKPOINT_PAGES = 20000  # about 80 MB: a safety net when no worker runs


def _sqlite_one_writer(engine: Engine, lock_path: str | None) -> None:
    """Every transaction takes the write lock up front.

    pysqlite's deferred transactions read first and fail with "database is locked" when two
    processes then both try to write; BEGIN IMMEDIATE makes the second one wait its turn.
    SQLite's own wait is a sleep-and-retry loop (1, 2, 5, 10 ms ...), which wasted most of the
    time of two web processes; an OS file lock taken just before BEGIN queues writers instead,
    and the kernel wakes the next one the moment the lock is released.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # Checkpoints copy the WAL into the database and fsync: done by the one that commits when
        # the WAL passes this many pages. Workers checkpoint every second (Database.checkpoint),
        # outside the write lock, so a web request rarely pays for one (it was the p99 of SQLite).
        cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if lock_path is not None:
            fd = conn.info.get("writer_lock_fd")
            if fd is None:
                fd = conn.info["writer_lock_fd"] = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    if lock_path is not None:

        @event.listens_for(engine, "checkin")
        def _on_checkin(_dbapi_conn, record):
            # Back in the pool: its transaction is committed or rolled back.
            fd = record.info.get("writer_lock_fd")
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)

        @event.listens_for(engine, "close")
        def _on_close(_dbapi_conn, record):
            fd = record.info.pop("writer_lock_fd", None)
            if fd is not None:
                os.close(fd)


class Database:
    """One engine and session factory per app (and per worker process)."""

    def __init__(self, url: str, **engine_kwargs):
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together, or not at all."""
        with self.sessions() as session, session.begin():
            yield session

    def checkpoint(self) -> None:
        """SQLite: copy the WAL into the database without blocking anyone (PASSIVE), on a raw
        connection so that no write lock is taken for it. PostgreSQL: nothing to do."""
        if self.dialect != "sqlite":
            return
        with self.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None  # a connection just checked out
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def dispose(self) -> None:
        self.engine.dispose()


_Row = TypeVar("_Row")


def must_get(session: Session, model: type[_Row], key: Any) -> _Row:
    """The row whose key a foreign key or a claim holds: there is one (LookupError if not)."""
    row = session.get(model, key)
    if row is None:
        raise LookupError(f"{model.__name__} {key!r} is gone")
    return row


def insert_ignore(session: Session, model, **values):
    """INSERT ... ON CONFLICT DO NOTHING; the new row's primary key, or None if it existed.

    Enforced by the database's unique constraint, so it holds across processes and machines.
    """
    row = session.execute(_insert_ignore_stmt(model.__table__, tuple(values)), values).first()
    return None if row is None else row[0]


def insert_ignore_each(conn, table, rows: list[dict]) -> list:
    """Each row's new key, or None where it existed, in the rows' order. One execution per row:
    RETURNING does not combine with executemany for textual SQL."""
    stmt = _insert_ignore_stmt(table, tuple(rows[0])) if rows else None
    keys = (conn.execute(stmt, row).first() for row in rows)
    return [None if key is None else key[0] for key in keys]


@lru_cache(maxsize=128)
def _insert_ignore_stmt(table, columns: tuple[str, ...]):
    """Written as text, with each column's type on its parameter, because SQLAlchemy cannot cache
    the compiled form of its dialect-specific ON CONFLICT inserts: compiling them anew was a tenth
    of a worker's time. The same SQL runs on PostgreSQL and SQLite (3.35+). RETURNING, because
    psycopg 3 reports no reliable rowcount here."""
    pk = [c.name for c in table.primary_key.columns]
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)}) "
           f"ON CONFLICT DO NOTHING RETURNING {', '.join(pk)}")
    return text(sql).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns)).columns(
        *(table.c[c] for c in pk))


def insert_ignore_rows(session: Session, table, rows: list[dict]) -> int:
    """Many rows of the same columns, INSERT … ON CONFLICT DO NOTHING; how many were new.

    One statement compiled once and sent in batches of many rows ("insertmanyvalues": a round
    trip per thousand rows, not per row), for bulk work such as reminders."""
    if not rows:
        return 0
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)
    return len(session.execute(stmt, rows).all())
