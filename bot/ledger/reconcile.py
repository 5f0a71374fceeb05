"""`tisi-pay reconcile FILE`: match the bank's daily statement with the payments we confirmed.

Reporting only: a line in the file that we never heard of online is reported for staff, not
posted, because posting money from a file whose layout is not yet confirmed with Krungthai is
a decision for the Institute's finance staff, not for this program.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import metrics
from bot.core.dates import BANGKOK, format_datetime_local, format_long_date, to_bangkok
from bot.core.i18n import Translator
from bot.core.money import format_number
from bot.core.statement import Statement, content_digest, parse_statement
from bot.data.db import must_get
from bot.data.models import Invoice, Payment, StatementFile
from bot.data.states import PaymentStatus, ReconcileOutcome, StaffAction
from bot.ledger import staff
from bot.render.messages import OUTCOME_NAMES

OUTCOMES = tuple(ReconcileOutcome)


@dataclass
class Report:
    effective_date: str
    lines: list[dict[str, Any]] = field(default_factory=list)
    already_imported: str | None = None
    service_code: str = ""

    def add(self, outcome: ReconcileOutcome, **details: object) -> None:
        self.lines.append({"outcome": outcome.value, **{k: str(v) for k, v in details.items()}})

    @property
    def counts(self) -> dict[str, int]:
        return {o.value: sum(1 for line in self.lines if line["outcome"] == o) for o in OUTCOMES}

    @property
    def balanced(self) -> bool:
        return all(ReconcileOutcome(line["outcome"]).balanced for line in self.lines)

    def as_dict(self) -> dict[str, Any]:
        return {"effective_date": self.effective_date, "service_code": self.service_code, "balanced": self.balanced,
                "counts": self.counts, "lines": self.lines}


def reconcile_file(session: Session, data: bytes) -> Report:
    """Parse, match and remember one statement file (StatementError if it cannot be trusted)."""
    statement = parse_statement(data)
    digest = content_digest(data)  # the same records, however framed, are the same file
    seen = session.scalar(select(StatementFile).where(StatementFile.sha256 == digest))
    if seen is not None:
        stored = json.loads(seen.report)
        return Report(stored["effective_date"], stored["lines"], already_imported=seen.imported_at.isoformat(),
                      service_code=stored.get("service_code", ""))
    report = match(session, statement)
    for outcome, count in report.counts.items():
        if count:
            metrics.RECONCILIATION_OUTCOMES.labels(outcome).inc(count)
    session.add(StatementFile(sha256=digest, effective_date=statement.effective_date,
                              company_account=statement.company_account, balanced=report.balanced,
                              report=json.dumps(report.as_dict(), ensure_ascii=False)))
    return report


def match(session: Session, statement: Statement) -> Report:
    report = Report(statement.effective_date.isoformat(), service_code=statement.service_code)
    refs = {d.ref1 for d in statement.details}
    invoices = {inv.invoice_no: inv for inv in session.scalars(select(Invoice).where(Invoice.invoice_no.in_(refs)))}
    payments: dict[int, list[Payment]] = {}
    for pay in session.scalars(select(Payment).where(Payment.invoice_id.in_([i.id for i in invoices.values()]))):
        payments.setdefault(pay.invoice_id, []).append(pay)
    used: set[tuple[str, int]] = set()  # a reversed payment is in the file twice: as C and as D
    for d in statement.details:
        inv = invoices.get(d.ref1)
        where = {"line": d.line, "ref1": d.ref1, "ref2": d.ref2, "amount": d.amount}
        if inv is None or inv.ref2 != d.ref2:
            report.add(ReconcileOutcome.UNKNOWN_INVOICE if d.kind == "C" else ReconcileOutcome.REVERSAL_NOT_ONLINE,
                       **where)
            continue
        wanted = (PaymentStatus.CONFIRMED, PaymentStatus.REVERSED) if d.kind == "C" else (PaymentStatus.REVERSED,)
        candidates = [p for p in payments.get(inv.id, []) if p.status in wanted and (d.kind, p.id) not in used]
        # Same amount; the same day first (near the bank's cut-off the dates can differ by one).
        exact = sorted((p for p in candidates if p.amount == d.amount),
                       key=lambda p: to_bangkok(p.transacted_at).date() != d.paid_on)
        if exact:
            used.add((d.kind, exact[0].id))
            report.add(ReconcileOutcome.MATCHED if d.kind == "C" else ReconcileOutcome.MATCHED_REVERSAL,
                       bank_ref=exact[0].bank_ref, **where)
        elif candidates and d.kind == "C":
            used.add(("C", candidates[0].id))  # reported here, not again as missing from the file
            report.add(ReconcileOutcome.AMOUNT_MISMATCH, online_amount=candidates[0].amount, bank_ref=candidates[0].bank_ref, **where)
        else:
            report.add(ReconcileOutcome.IN_FILE_NOT_ONLINE if d.kind == "C" else ReconcileOutcome.REVERSAL_NOT_ONLINE,
                       **where)
    start = datetime.combine(statement.effective_date, time(0), tzinfo=BANGKOK)
    online = session.scalars(select(Payment).where(
        Payment.status.in_((PaymentStatus.CONFIRMED, PaymentStatus.REVERSED)), Payment.transacted_at >= start,
        Payment.transacted_at < start + timedelta(days=1)))
    for pay in online:
        if ("C", pay.id) not in used:
            inv = must_get(session, Invoice, pay.invoice_id)
            report.add(ReconcileOutcome.ONLINE_NOT_IN_FILE, ref1=inv.invoice_no, ref2=inv.ref2, amount=pay.amount,
                       bank_ref=pay.bank_ref, status=pay.status)
    return report


def render(report: Report, lang: str = "en") -> str:
    """The report as `tisi-pay reconcile` prints it: in English (as it always has, for scripts),
    or for a Thai reader (`--lang th`)."""
    if lang == "th":
        return _render_for(report, Translator("th"))
    service = f" (service code {report.service_code})" if report.service_code else ""
    lines = [f"statement of {report.effective_date}{service}: " + ("BALANCED" if report.balanced else "NOT BALANCED")]
    if report.already_imported:
        lines.append(f"(this file was already reconciled at {report.already_imported}; nothing changed)")
    lines.append("  ".join(f"{k}: {v}" for k, v in report.counts.items()))
    for line in report.lines:
        if not ReconcileOutcome(line["outcome"]).balanced:
            lines.append("  " + "  ".join(f"{k}={v}" for k, v in line.items()))
    return "\n".join(lines)


def _render_for(report: Report, t: Translator) -> str:
    day = format_long_date(date.fromisoformat(report.effective_date), t.lang)
    lines = [t("Statement of %(day)s", day=day)
             + (" " + t("(service code %(code)s)", code=report.service_code) if report.service_code else "") + ": "
             + (t("balanced") if report.balanced else t("discrepancies"))]
    if report.already_imported:
        when = format_datetime_local(datetime.fromisoformat(report.already_imported), t.lang)
        lines.append(t("This file was already reconciled on %(when)s; nothing changed.", when=when))
    lines.append("  ".join(f"{t(OUTCOME_NAMES[k])}: {v}" for k, v in report.counts.items()))
    for line in report.lines:
        if not ReconcileOutcome(line["outcome"]).balanced:
            amount = format_number(Decimal(line["amount"]), t.lang) if line.get("amount") else ""
            lines.append("  " + "  ".join(part for part in (
                t(OUTCOME_NAMES[line["outcome"]]), t("line %(line)s", line=line["line"]) if line.get("line") else "",
                f"Ref.1 {line.get('ref1', '')}", f"Ref.2 {line.get('ref2', '')}",
                t("%(amount)s baht", amount=amount) if amount else "", line.get("bank_ref", "")) if part))
    return "\n".join(lines)


def latest_outcome(session: Session) -> tuple[bool, dict[str, int]] | None:
    """The most recently reconciled statement: balanced, and its lines by outcome (for /metrics)."""
    row = session.execute(select(StatementFile.balanced, StatementFile.report)
                          .order_by(StatementFile.id.desc()).limit(1)).first()
    if row is None:
        return None
    return bool(row.balanced), dict(json.loads(row.report).get("counts", {}))


def import_statement(session: Session, data: bytes, staff_name: str, address: str = "") -> tuple[Report, int]:
    """A statement file uploaded in the console: reconciled as `tisi-pay reconcile` does, the
    import recorded as the member of staff's action; the report and the stored file's id
    (StatementError if the file is refused: nothing is stored)."""
    report = reconcile_file(session, data)
    session.flush()
    stored = session.scalars(select(StatementFile).where(StatementFile.sha256 == content_digest(data))).one()
    staff.record(session, staff_name, StaffAction.STATEMENT_IMPORTED, target=f"statement {stored.effective_date}",
                 address=address, again=report.already_imported is not None)
    return report, stored.id
