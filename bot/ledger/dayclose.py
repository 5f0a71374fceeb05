"""The day's close (ปิดยอดประจำวัน): what finance signs off for one Bangkok day — takings by fee and
channel, the receipts issued (first to last number, gaps), voids and reversals, double payments to
refund and the differences with the bank's statement. Closing a day is a staff action entry (a link
of the audit chain) that keeps the day's figures; a closed day whose figures differ later (a late
reversal, a statement imported after) is shown as changed since its close, with what changed.

Every query is bounded by the day and indexed (payments by transacted_at, reversals by their
partial index, receipts by issued_at and their unique number), so the page stays fast with
millions of rows (bench --only console)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from bot.core.receiptno import parse_receipt_number, receipt_number
from bot.data.models import Invoice, Payment, Receipt, StaffActionEntry, StatementFile
from bot.data.states import PaymentStatus, ReconcileOutcome, StaffAction
from bot.ledger import staff
from bot.ledger.console import Takings, day_bounds, takings
from bot.render.dayclose import SIGNATURE_REASON, render_day_close
from bot.render.pades import ReceiptSigner


@dataclass(frozen=True)
class ReceiptRun:
    """The receipts of one numbering (prefix and fiscal year) issued in the day."""

    first: str
    last: str
    count: int
    gaps: tuple[str, ...]  # numbers never issued between the previous one and the last (should be none)


@dataclass(frozen=True)
class MoneyLine:
    """A payment the close lists: reversed, refused as a double payment, or its receipt voided."""

    invoice_no: str
    bank_ref: str
    amount: Decimal
    paid_at: datetime
    at: datetime  # when it was reversed (the payment's time for a double payment)
    receipt_no: str | None = None  # the receipt voided by a reversal
    reason: str | None = None  # the void's reason


@dataclass(frozen=True)
class Difference:
    outcome: ReconcileOutcome
    ref1: str
    amount: Decimal | None
    line: str | None  # the statement's record number (none: confirmed online, missing from the file)


@dataclass(frozen=True)
class Closing:
    """A close of the day, as recorded: when, by whom and the figures it signed off."""

    at: datetime
    by: str
    figures: dict[str, Any]


@dataclass(frozen=True)
class Change:
    key: str  # a figure's key: payments, fee:<code>, channel:<code>, receipts:<prefix-year>, …
    before: Any
    after: Any


@dataclass
class DayClose:
    day: date
    takings: Takings
    receipts: list[ReceiptRun]
    reversals: list[MoneyLine]  # reversed during the day (a payment of any day), with the receipt voided
    doubles: list[MoneyLine]  # refused second payments of the day: to refund
    statement_id: int | None  # the bank's statement of the day, when imported
    differences: list[Difference]
    closings: list[Closing] = field(default_factory=list)  # newest first

    def figures(self) -> dict[str, Any]:
        """What a close signs off, as JSON values: compared with a later look at the same day."""
        out: dict[str, Any] = {"payments": [self.takings.count, str(self.takings.total)]}
        out.update({f"fee:{fee}": [count, str(total)] for fee, count, total in self.takings.by_fee})
        out.update({f"channel:{ch}": [count, str(total)] for ch, count, total in self.takings.by_channel})
        for run in self.receipts:
            out[f"receipts:{run.first.rsplit('-', 1)[0]}"] = [run.first, run.last, run.count, list(run.gaps)]
        out["reversals"] = sorted(f"{r.invoice_no} {r.bank_ref}" for r in self.reversals)
        out["doubles"] = sorted(f"{r.invoice_no} {r.bank_ref}" for r in self.doubles)
        out["differences"] = None if self.statement_id is None else len(self.differences)
        return out

    @property
    def last_closing(self) -> Closing | None:
        return self.closings[0] if self.closings else None

    def changes(self) -> list[Change]:
        """What differs from the last close of the day (nothing when it was never closed)."""
        if self.last_closing is None:
            return []
        return compare(self.last_closing.figures, self.figures())


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Each figure that differs, in the order a close lists them."""
    keys = list(after) + [k for k in before if k not in after]
    return [Change(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


class CloseRefused(ValueError):
    """Why a day cannot be closed now (a code the console says in words)."""


def day_close(session: Session, day: date) -> DayClose:
    start, end = day_bounds(day)
    return DayClose(day=day, takings=takings(session, day), receipts=_receipt_runs(session, start, end),
                    reversals=_reversals(session, start, end), doubles=_doubles(session, start, end),
                    **_statement(session, day), closings=_closings(session, day))


def close_day(session: Session, day: date, today: date, staff_name: str, *, address: str = "") -> DayClose:
    """Close the day: a staff action entry keeping its figures. A day still to come cannot be
    closed; a closed day again only when something changed since."""
    if day > today:
        raise CloseRefused("future")
    found = day_close(session, day)
    changed = [c.key for c in found.changes()]
    if found.last_closing is not None and not changed:
        raise CloseRefused("unchanged")
    figures = found.figures()
    entry = staff.record(session, staff_name, StaffAction.DAY_CLOSED, target=_target(day), address=address,
                         figures=figures, **({"changed": changed} if found.last_closing else {}))
    found.closings.insert(0, Closing(entry.at, staff_name, figures))
    return found


def _target(day: date) -> str:
    return f"day {day.isoformat()}"


def _closings(session: Session, day: date) -> list[Closing]:
    rows = session.scalars(select(StaffActionEntry).where(
        StaffActionEntry.action == StaffAction.DAY_CLOSED, StaffActionEntry.target == _target(day))
        .order_by(StaffActionEntry.id.desc()))
    return [Closing(row.at, row.account, json.loads(row.detail).get("figures", {})) for row in rows]


def _receipt_runs(session: Session, start: datetime, end: datetime) -> list[ReceiptRun]:
    """The receipts issued during the day, one run per fiscal year's numbering; gaps are numbers
    issued to no payment at all between the previous receipt of the numbering and the day's last.
    Counted in the database: a busy day is 5,500 receipts, and the common answer is "no gaps"."""
    runs = session.execute(
        select(func.min(Receipt.number), func.max(Receipt.number), func.count())
        .where(Receipt.issued_at >= start, Receipt.issued_at < end)
        .group_by(Receipt.fiscal_year).order_by(Receipt.fiscal_year)).all()
    return [_run(session, first, last, count) for first, last, count in runs]


def _run(session: Session, first: str, last: str, count: int) -> ReceiptRun:
    parsed, seq_last = parse_receipt_number(first), _seq(last)
    if parsed is None or seq_last is None:  # not a number we issue: shown as it is, not checked
        return ReceiptRun(first, last, count, ())
    prefix, year, _ = parsed
    previous = session.scalar(select(func.max(Receipt.number)).where(Receipt.number >= f"{prefix}-{year}-",
                                                                        Receipt.number < first))
    since = (_seq(previous) or 0) + 1
    lowest = receipt_number(prefix, year, since)
    in_range = select(Receipt.number).where(Receipt.number >= lowest, Receipt.number <= last)
    issued = session.scalar(select(func.count()).select_from(in_range.subquery())) or 0
    gaps: tuple[str, ...] = ()
    if issued < seq_last - since + 1:  # some are missing: which
        present = {_seq(n) for n in session.scalars(in_range)}
        gaps = tuple(receipt_number(prefix, year, s) for s in range(since, seq_last + 1) if s not in present)
    return ReceiptRun(first, last, count, gaps)


def _seq(number: str | None) -> int | None:
    parsed = parse_receipt_number(number or "")
    return parsed[2] if parsed else None


def _reversals(session: Session, start: datetime, end: datetime) -> list[MoneyLine]:
    rows = session.execute(
        select(Payment, Invoice.invoice_no, Receipt.number, Receipt.void_reason)
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .outerjoin(Receipt, Receipt.payment_id == Payment.id)
        .where(Payment.reversed_at.is_not(None), Payment.reversed_at >= start, Payment.reversed_at < end)
        .order_by(Payment.reversed_at)).all()
    return [MoneyLine(invoice_no, p.bank_ref, p.amount, p.transacted_at, p.reversed_at or p.transacted_at,
                      receipt_no=number, reason=reason) for p, invoice_no, number, reason in rows]


def _doubles(session: Session, start: datetime, end: datetime) -> list[MoneyLine]:
    rows = session.execute(
        select(Payment, Invoice.invoice_no).join(Invoice, Invoice.id == Payment.invoice_id)
        .where(and_(Payment.transacted_at >= start, Payment.transacted_at < end,
                    Payment.status == PaymentStatus.DOUBLE_PAYMENT))
        .order_by(Payment.transacted_at)).all()
    return [MoneyLine(invoice_no, p.bank_ref, p.amount, p.transacted_at, p.transacted_at) for p, invoice_no in rows]


def _statement(session: Session, day: date) -> dict[str, Any]:
    """The last statement of the day imported, and its records that did not balance."""
    found = session.scalars(select(StatementFile).where(StatementFile.effective_date == day)
                            .order_by(StatementFile.id.desc()).limit(1)).first()
    if found is None:
        return {"statement_id": None, "differences": []}
    lines = json.loads(found.report).get("lines", [])
    differences = [Difference(ReconcileOutcome(line["outcome"]), line.get("ref1", ""),
                              Decimal(line["amount"]) if line.get("amount") else None, line.get("line"))
                   for line in lines if not ReconcileOutcome(line["outcome"]).balanced]
    return {"statement_id": found.id, "differences": differences}


def close_pdf(close: DayClose, signer: ReceiptSigner | None, printed_at: datetime) -> bytes:
    """The close as a PDF, signed with the receipts' key when one is configured (unsigned otherwise:
    then the deployment issues no receipts either)."""
    pdf = render_day_close(close, printed_at, sample=signer is not None and signer.sample)
    return signer.sign(pdf, reason=SIGNATURE_REASON) if signer is not None else pdf
