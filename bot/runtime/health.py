"""Is the bot working? Heartbeats of workers and the depth and age of the queues, for
/healthz and `tisi-pay health`."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.core.dates import utcnow
from bot.data.db import Database
from bot.data.models import InboxEvent, Notice, Receipt, ReceiptDocument, WorkerHeartbeat, inbox_waiting, notice_pending

WORKER_SILENT_AFTER = 60.0  # seconds without a heartbeat: no worker is running
WAITED_TOO_LONG = 120.0  # seconds an item may wait in a queue


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


def beat(session: Session, name: str, kind: str, started_at: datetime) -> None:
    now = utcnow()
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(WorkerHeartbeat).values(name=name, kind=kind, started_at=started_at, seen_at=now)
    session.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={"seen_at": now}))


@dataclass(frozen=True)
class Health:
    worker_seen_s: float | None
    inbox_pending: int
    inbox_oldest_s: float | None
    outbox_pending: int
    outbox_oldest_s: float | None
    schema_behind: str | None = None
    receipts_pending: int = 0  # receipts whose PDF is still to make (the worker's receipt queue)
    receipts_oldest_s: float | None = None
    receipts_made_last_minute: int = 0  # PDFs stored in the last minute: makers at work, or not

    def problems(self) -> list[str]:
        """Why an operator should look, worst first; empty when all is well."""
        if self.schema_behind:  # nothing else can be read right until the schema is upgraded
            return [self.schema_behind]
        out = []
        if self.worker_seen_s is None:
            out.append("no worker has ever reported (start `tisi-pay worker`, or WORKER=inline web processes)")
        elif self.worker_seen_s > WORKER_SILENT_AFTER:
            out.append(f"no worker seen for {self.worker_seen_s:.0f} s")
        for name, age in (("inbox", self.inbox_oldest_s), ("outbox", self.outbox_oldest_s)):
            if age is not None and age > WAITED_TOO_LONG:
                out.append(f"oldest {name} item has waited {age:.0f} s")
        if self.receipts_oldest_s is not None and self.receipts_oldest_s > WAITED_TOO_LONG:
            if self.receipts_made_last_minute:  # the makers work, but fall behind: more workers help
                out.append(f"receipt backlog: {self.receipts_pending} PDFs waiting, the oldest {self.receipts_oldest_s:.0f} s, "
                           f"while {self.receipts_made_last_minute} were made in the last minute (start more workers)")
            else:
                out.append(f"oldest receipt has waited {self.receipts_oldest_s:.0f} s for its PDF and none was made in "
                           "the last minute: receipt makers stopped (RECEIPT_SIGNING_P12 readable? see "
                           "receipts.last_error)")
        return out

    def as_dict(self) -> dict:
        def r(v):
            return None if v is None else round(v, 1)

        return {"worker_seen_s": r(self.worker_seen_s), "inbox_pending": self.inbox_pending,
                "inbox_oldest_s": r(self.inbox_oldest_s), "outbox_pending": self.outbox_pending,
                "outbox_oldest_s": r(self.outbox_oldest_s), "receipts_pending": self.receipts_pending,
                "receipts_oldest_s": r(self.receipts_oldest_s),
                "receipts_made_last_minute": self.receipts_made_last_minute}


def check(db: Database) -> Health:
    """Raises when the database does not answer."""
    now = utcnow()

    def age(at: datetime | None) -> float | None:
        return None if at is None else max(0.0, (now - at).total_seconds())

    from bot.data.migrate import schema_behind

    behind = schema_behind(db.engine)
    if behind:
        return Health(None, 0, None, 0, None, behind)
    with db.sessions() as session:
        session.execute(text("SELECT 1"))
        seen = session.scalar(select(func.max(WorkerHeartbeat.seen_at)))
        # Photos waiting to be read are inbox items too: a stuck photo pool shows here.
        inbox = session.execute(select(func.count(), func.min(InboxEvent.received_at))
                                .where(inbox_waiting())).one()
        outbox = session.execute(select(func.count(), func.min(Notice.created_at))
                                 .where(notice_pending())).one()
        receipts = session.execute(select(func.count(), func.min(Receipt.issued_at))
                                   .where(Receipt.pending.is_not(None))).one()
        made = session.scalar(select(func.count()).select_from(ReceiptDocument)
                              .where(ReceiptDocument.created_at >= now - timedelta(minutes=1))) if receipts[0] else 0
    return Health(age(seen), inbox[0], age(inbox[1]), outbox[0], age(outbox[1]),  # min/max keep the column type
                  receipts_pending=receipts[0], receipts_oldest_s=age(receipts[1]), receipts_made_last_minute=made or 0)
