"""The bank messages the database could not take: an append-only local file, replayed into
`bank_messages` (and so into the audit chain) when the database is back.

While the database is down the bank is answered 9999 (it retries), and that request and our
answer are still part of the record `audit verify` answers for: each is appended to
`instance/bank-spool/messages.jsonl` as one JSON line and fsynced before the answer leaves.
Replaying takes the whole file by renaming it (so two processes never replay the same lines),
inserts every line with its spool id (a line replayed twice is stored once), and removes the
file only after that commit. A process that dies mid-replay leaves the renamed file, which the
next replay takes up.
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

from bot.core.dates import utcnow
from bot.data.db import Database
from bot.data.models import BankMessage

log = logging.getLogger(__name__)

SPOOL_DIR = Path("instance") / "bank-spool"
SPOOL_FILE = "messages.jsonl"
_REPLAYING = ".replaying"


class Spool:
    def __init__(self, directory: Path = SPOOL_DIR):
        self.directory = directory.resolve()
        self._lock = threading.Lock()
        self.pending = any(self.directory.glob("*.jsonl*"))  # left by an outage before a restart

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

    def replay(self, db: Database) -> int:
        """Store every spooled message; how many were new. Raises if the database is still down
        (the spool is kept for the next try)."""
        if not self.pending:
            return 0
        with self._lock:
            stored = 0
            for path in self._take():
                records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
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
                path.unlink()
                _fsync_dir(self.directory)
            self.pending = any(self.directory.glob("*.jsonl*"))
        if stored:
            log.warning("bank spool: %d message(s) kept during a database outage are now stored", stored)
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
