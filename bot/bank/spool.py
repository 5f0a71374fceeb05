"""The bank messages the database could not take: an append-only local file, replayed into
`bank_messages` (and so into the audit chain) when the database is back.

While the database cannot be reached the bank is answered 9999 (it retries), and that request
and our answer are still part of the record `audit verify` answers for: each is appended to
`BANK_SPOOL_DIR/messages.jsonl` as one JSON line and fsynced before the answer leaves. Only
authenticated requests get here (bot.bank.routes), so the spool grows only with the bank's own
traffic; it is bounded all the same (`full`: the bank is answered 9999 without spooling, and
health says so). Replaying takes the whole file by renaming it (so two processes never replay the
same lines), inserts every line with its spool id (a line replayed twice is stored once), and
removes the file only after that commit. A process that dies mid-replay leaves the renamed file,
which the next replay takes up. A file the database refuses for its content (not an outage) is
set aside as `*.refused` for an operator, never retried for ever.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.core.dates import utcnow
from bot.data.db import Database
from bot.data.models import BankMessage

log = logging.getLogger(__name__)

SPOOL_DIR = Path("instance") / "bank-spool"
SPOOL_FILE = "messages.jsonl"
_REPLAYING = ".replaying"
REFUSED = ".refused"
MAX_BYTES = 64 * 1024 * 1024


MAX_RECORD = 256 * 1024  # a 64 KB body with our answer, JSON-escaped: what one more message may take


def is_full(used: int, cap: int) -> bool:
    """Whether the next message might not fit: what health, /healthz and the console report."""
    return used + MAX_RECORD > cap


class SpoolFull(Exception):
    """The spool holds its cap: the message is answered 9999 and not kept (the bank retries)."""


def spool_bytes(directory: Path) -> int:
    """Bytes waiting in a spool directory (what `tisi-pay health` and /healthz report)."""
    try:
        return sum(p.stat().st_size for p in Path(directory).glob("*.jsonl*") if not p.name.endswith(REFUSED))
    except OSError:
        return 0


class Spool:
    def __init__(self, directory: Path = SPOOL_DIR, max_bytes: int = MAX_BYTES):
        self.directory = Path(directory).resolve()
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._replaying = threading.Lock()  # one background replay per process at a time
        self.pending = self._waiting()  # left by an outage before a restart
        self.refused_writes = 0  # messages answered 9999 unspooled since start, the spool being full

    @property
    def size(self) -> int:
        return spool_bytes(self.directory)

    @property
    def full(self) -> bool:
        return self.pending and is_full(self.size, self.max_bytes)

    def _waiting(self) -> bool:
        return any(not p.name.endswith(REFUSED) for p in self.directory.glob("*.jsonl*"))

    def append(self, *, command, bank_code, bank_ref, request_body: bytes, http_status: int, resp_code: str,
               response_body: bytes, signed: tuple[str | None, str | None] | None, ref1: str | None = None) -> str:
        """Keep one message durably (fsynced) before the bank gets our answer; its spool id."""
        timestamp, signature = signed or (None, None)
        record = {
            "spool_id": str(uuid.uuid4()), "received_at": utcnow().isoformat(), "command": command,
            "bank_code": bank_code, "bank_ref": bank_ref, "ref1": (ref1 or "")[:20] or None,
            "request_body": request_body[:65536].decode("utf-8", "replace"), "http_status": http_status,
            "resp_code": resp_code, "response_body": response_body.decode("utf-8", "replace"),
            "bank_timestamp": (timestamp or "")[:32] or None, "bank_signature": (signature or "")[:128] or None,
        }
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        with self._lock:
            if self.size + len(line) > self.max_bytes:
                self.refused_writes += 1
                raise SpoolFull(f"the bank spool holds {self.size} bytes, its cap is {self.max_bytes}")
            new_dir = not self.directory.exists()
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / SPOOL_FILE
            new_file = not path.exists()
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)  # one write of one line: O_APPEND keeps processes' lines whole
                os.fsync(fd)
            finally:
                os.close(fd)
            if new_file or new_dir:  # the file's name must survive a crash too
                _fsync_dir(self.directory)
            self.pending = True
        return record["spool_id"]

    def replay_soon(self, db: Database) -> None:
        """Replay in the background: the request that noticed the database is back never waits
        for it (nor for another process's replay)."""
        if not self.pending or not self._replaying.acquire(blocking=False):
            return

        def run() -> None:
            try:
                self.replay(db)
            except Exception as exc:  # still down: the next request tries again
                log.warning("bank spool not replayed yet: %s", type(exc).__name__)
            finally:
                self._replaying.release()

        threading.Thread(target=run, name="bank-spool-replay", daemon=True).start()

    def replay(self, db: Database) -> int:
        """Store every spooled message; how many were new. Raises if the database is still down
        (the spool is kept for the next try)."""
        if not self.pending:
            return 0
        with self._lock:
            stored = 0
            for path in self._take():
                try:
                    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
                    stored += self._store(db, records)
                except (OperationalError, InterfaceError, PoolTimeout):
                    raise  # an outage: kept for the next try
                except Exception as exc:  # the content itself: never retried for ever
                    aside = path.with_name(path.name.removesuffix(_REPLAYING) + REFUSED)
                    path.rename(aside)
                    log.error("bank spool: %s could not be stored (%s); set aside as %s for an operator",
                              path.name, type(exc).__name__, aside.name)
                    continue
                path.unlink()
                _fsync_dir(self.directory)
            self.pending = self._waiting()
        if stored:
            log.warning("bank spool: %d message(s) kept during a database outage are now stored", stored)
        return stored

    @staticmethod
    def _store(db: Database, records: list[dict]) -> int:
        stored = 0
        with db.transaction() as session:
            # ORM rows, as every bank message is written: the chain links them at commit.
            known = set(session.scalars(select(BankMessage.spool_id).where(
                BankMessage.spool_id.in_([r["spool_id"] for r in records]))))
            for r in records:
                if r["spool_id"] in known:  # replayed before, by a process that died after its commit
                    continue
                session.add(BankMessage(**{**r, "received_at": datetime.fromisoformat(r["received_at"]),
                                           "replayed": False}))
                known.add(r["spool_id"])
                stored += 1
        return stored

    def _take(self) -> list[Path]:
        """The spool file renamed for replay, and any a replay left behind."""
        current = self.directory / SPOOL_FILE
        if current.exists():
            current.rename(self.directory / f"{SPOOL_FILE}.{os.getpid()}.{uuid.uuid4().hex[:8]}{_REPLAYING}")
        return sorted(self.directory.glob(f"*{_REPLAYING}"))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
