"""Making receipt PDFs off the bank's path: `ReceiptQueue`, driven by the worker loop like the
inbox and the outbox, claims receipts whose PDF is still to make (`receipts.pending`) with a
lease, renders and signs them in its sender threads (no transaction open), and stores each once
(`bot.ledger.receipts.store`). A worker killed mid-render leaves a lease that runs out; a PDF made
twice (a lease that ran out, a request that made it first) is stored once: the first wins."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from bot.core.dates import utcnow
from bot.core.delivery import Outcome, backoff
from bot.core.errors import one_line
from bot.data.db import OUTAGE, Database, must_get
from bot.data.models import Receipt, table_of
from bot.data.states import ReceiptVariant
from bot.ledger.receipts import QUEUE, ReceiptMaker, make_pdf, receipt_data, store
from bot.runtime.queue import LocalQueue

log = logging.getLogger(__name__)
_R = table_of(Receipt)
LEASE_SECONDS = 60.0
MAX_ATTEMPTS = 10


@dataclass
class Job:
    id: int  # the receipt's payment id
    variant: ReceiptVariant
    attempts: int
    number: str = ""
    amount: Decimal = Decimal("0")
    pdf: bytes | None = None


class ReceiptQueue(LocalQueue):
    name = QUEUE
    senders = 2  # rendering is CPU: more threads than cores would only queue behind the GIL
    max_inflight = 4
    batch = 8

    def __init__(self, db: Database, maker: ReceiptMaker, *, lease: float = LEASE_SECONDS):
        self.db, self.maker, self.lease = db, maker, lease

    def claim(self, session: Session, limit: int) -> list[Job]:
        now = utcnow()
        due = (select(_R.c.payment_id)
               .where(_R.c.pending.is_not(None), or_(_R.c.lease_until.is_(None), _R.c.lease_until < now))
               .order_by(_R.c.payment_id).limit(min(limit, self.batch)))
        if self.db.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        rows = session.execute(update(_R).where(_R.c.payment_id.in_(due.scalar_subquery()))
                               .values(lease_until=now + timedelta(seconds=self.lease), attempts=_R.c.attempts + 1)
                               .returning(_R.c.payment_id, _R.c.pending, _R.c.attempts)).all()
        return sorted((Job(r.payment_id, ReceiptVariant(r.pending), r.attempts) for r in rows), key=lambda j: j.id)

    def send(self, job: Job) -> Outcome:
        try:
            with self.db.sessions() as session:
                receipt = must_get(session, Receipt, job.id)
                data = receipt_data(session, receipt, self.maker.seller_tax_id, self.maker.seller_address)
            job.number, job.amount = data.number, data.amount
            job.pdf = make_pdf(data, self.maker)
            return Outcome.ok()
        except OUTAGE as exc:  # the database went away: one line, tried again when it is back
            log.warning("receipt %s not made yet: the database is unavailable (%s)", job.id, one_line(exc))
            return Outcome.failed_here(one_line(exc))
        except Exception as exc:  # a bad key or a rendering bug: kept on the row, tried again later
            log.exception("receipt %s could not be made", job.id)
            return Outcome.failed_here(f"{type(exc).__name__}: {exc}")

    def record(self, session: Session, results: list[tuple[Job, Outcome]]) -> float | None:
        soonest = None
        now = utcnow()
        for job, outcome in results:
            if outcome.delivered and job.pdf is not None:
                receipt = session.get(Receipt, job.id)
                if receipt is not None and receipt.pending == job.variant:
                    store(session, job.id, job.variant, job.number, job.amount, job.pdf)
                continue
            values: dict[str, Any] = {"lease_until": None, "last_error": outcome.describe()}
            if job.attempts < MAX_ATTEMPTS:
                delay = backoff(job.attempts)
                values["lease_until"] = now + timedelta(seconds=delay)  # not before then
                soonest = delay if soonest is None else min(soonest, delay)
            else:
                values["pending"] = None  # served on request instead; the error stays on the row
                log.warning("receipt %s: giving up making its PDF in the worker: %s", job.id, values["last_error"])
            session.execute(update(_R).where(_R.c.payment_id == job.id, _R.c.attempts == job.attempts)
                            .values(**values))
        return soonest

    def next_due_in(self) -> float | None:
        with self.db.sessions() as session:
            at = session.scalar(select(func.min(func.coalesce(_R.c.lease_until, utcnow())))
                                .where(_R.c.pending.is_not(None)))
        return None if at is None else max(0.0, (at - utcnow()).total_seconds())

