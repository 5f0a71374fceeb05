"""What finance closes the day with: reconciliation reports, stuck queue items, the payment export."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from flask import (
    Response,
    abort,
    g,
    redirect,
    request,
    stream_with_context,
    url_for,
)

from bot.core.dates import (
    today_bangkok,
)
from bot.core.i18n import N_, Translator
from bot.core.statement import Problem, StatementError
from bot.data.states import (
    InboxStatus,
    ReconcileOutcome,
    StaffAction,
    StaffRole,
)
from bot.ledger import console as ledger
from bot.ledger import reconcile, staff
from bot.render.export import Era, ExportRow, csv_chunks, xlsx_bytes
from bot.render.messages import CHANNEL_NAMES, FEE_NAMES, OUTCOME_NAMES
from bot.services import services
from bot.web.console.base import (
    EXPORT_MAX_DAYS,
    _act,
    _address,
    _page,
    _t,
    bp,
    needs,
)
from bot.web.console.labels import WHAT_NAMES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# -- reconciliation ------------------------------------------------------------------------------


@bp.get("/reconciliation")
@needs(StaffRole.VIEWER)
def reconciliation():
    with services().db.sessions() as s:
        files = ledger.statements(s)
    summaries = [(f, json.loads(f.report).get("counts", {})) for f in files]
    return _page("reconciliation.html", files=summaries)


# Why a statement file was refused, for the officer who uploaded it (the exact reason follows).
PROBLEM_TEXT = {
    Problem.LAYOUT: N_("This is not a statement file in Krungthai's layout (256-byte header, detail and trailer "
                       "records). Check that you chose the day's statement file."),
    Problem.BANK: N_("This statement file is not Krungthai's (its bank code is not 006)."),
    Problem.FIELD: N_("A record of the file holds something its layout does not allow. Ask the bank for the file "
                      "again."),
    Problem.ENCODING: N_("The file's text is not in Thai TIS-620 as the bank writes it: it may have been opened and "
                         "saved by another program. Use the file as the bank sent it."),
    Problem.TOTALS: N_("The totals at the end of the file do not match its records: the file is incomplete or was "
                       "changed. Ask the bank for the file again."),
}
STATEMENT_MAX_BYTES = 1024 * 1024


@bp.post("/reconciliation")
@needs(StaffRole.FINANCE)
def reconciliation_upload():
    """The bank's statement file, uploaded: reconciled and shown, or refused in words (nothing kept)."""
    t = _t()
    upload = request.files.get("statement")
    data = upload.read(STATEMENT_MAX_BYTES + 1) if upload is not None else b""
    error = None
    if not data:
        error = t("Choose the bank's statement file to import.")
    elif len(data) > STATEMENT_MAX_BYTES:
        error = t("The file is larger than a day's statement can be (1 MB).")
    else:
        try:
            with services().db.transaction() as s:
                _, file_id = reconcile.import_statement(s, data, g.account.name, _address())
        except StatementError as exc:
            where = t("line %(line)s", line=exc.line) + ": " if exc.line else ""
            error = t("The file was refused; nothing of it was imported.") + " " + t(PROBLEM_TEXT[exc.problem]) + \
                f" ({where}{exc})"
    if error is not None:
        with services().db.sessions() as s:
            files = ledger.statements(s)
        response = _page("reconciliation.html", files=[(f, json.loads(f.report).get("counts", {})) for f in files],
                         error=error)
        response.status_code = 400
        return response
    return redirect(url_for("console.statement", file_id=file_id))


@bp.get("/reconciliation/<int:file_id>")
@needs(StaffRole.VIEWER)
def statement(file_id: int):
    t = _t()
    with services().db.sessions() as s:
        found = ledger.statement_file(s, file_id)
    if found is None:
        abort(404)
    report = json.loads(found.report)
    lines = sorted(report.get("lines", []), key=lambda line: ReconcileOutcome(line["outcome"]).balanced)
    in_file = [line for line in lines if line.get("line")]  # the statement's own records (not online-only ones)
    totals = {"count": len(in_file), "amount": sum((_decimal(line.get("amount")) for line in in_file), Decimal("0")),
              "discrepancies": sum(1 for line in lines if not ReconcileOutcome(line["outcome"]).balanced)}
    return _page("statement.html", file=found, report=report, lines=lines, totals=totals, amount=_decimal,
                 outcome_name=lambda o: t(OUTCOME_NAMES[ReconcileOutcome(o)]),
                 balanced=lambda o: ReconcileOutcome(o).balanced)


def _decimal(text: object) -> Decimal:
    """An amount of a stored report (text); 0 for none."""
    try:
        return Decimal(str(text)) if text not in (None, "") else Decimal("0")
    except InvalidOperation:
        return Decimal("0")


# -- queues -----------------------------------------------------------------------------------------
EVENT_STATUS_NAMES = {
    InboxStatus.REFUSED: N_("reply refused by LINE"), InboxStatus.EXPIRED: N_("reply token expired"),
    InboxStatus.UNCONFIRMED: N_("delivered, unconfirmed"), InboxStatus.PENDING: N_("waiting"),
    InboxStatus.HANDLED: N_("answer waiting to be sent"), InboxStatus.PHOTO: N_("photo waiting to be read"),
    InboxStatus.REPLIED: N_("replied"), InboxStatus.NO_REPLY: N_("no reply"),
}
QUEUE_ANSWERS = {
    "unknown": N_("That item no longer exists."),
    "already_sent": N_("That notice was delivered meanwhile: nothing to retry."),
    "not_pushable": N_("That answer cannot be sent again."),
    "maybe_delivered": N_("A reply may have reached the user already: a push could answer them twice."),
}


@bp.get("/queues")
@needs(StaffRole.VIEWER)
def queues():
    t = _t()
    with services().db.sessions() as s:
        found = ledger.stuck(s)
    return _page("queues.html", stuck=found, pushable=ledger.PUSHABLE, done=request.args.get("done"),
                 problem=t(QUEUE_ANSWERS[request.args["problem"]]) if request.args.get("problem") in QUEUE_ANSWERS
                 else None, event_status=lambda st: t(EVENT_STATUS_NAMES.get(st) or str(st)),
                 what_name=lambda w: t(WHAT_NAMES[w]) if w in WHAT_NAMES else w, mask=ledger.mask_line_id)


@bp.post("/queues/notice/<int:notice_id>/retry")
@needs(StaffRole.FINANCE)
def retry_notice(notice_id: int):
    return _act(lambda s: ledger.retry_notice(s, notice_id, g.account.name, address=_address()),
                ledger.QueueError, "console.queues", {"done": f"notice-{notice_id}"})


@bp.post("/queues/event/<int:event_id>/push")
@needs(StaffRole.FINANCE)
def push_answer(event_id: int):
    return _act(lambda s: ledger.push_answer(s, event_id, g.account.name, address=_address()),
                ledger.QueueError, "console.queues", {"done": f"event-{event_id}"})


# -- export ------------------------------------------------------------------------------------------
@bp.get("/export")
@needs(StaffRole.FINANCE)
def export():
    day = today_bangkok()
    return _page("export.html", first=(day.replace(day=1)).isoformat(), last=day.isoformat(), error=None)


EXPORT_COLUMNS = (
    N_("Paid at (Bangkok)"), N_("Date (BE)"), N_("Invoice no. (Ref.1)"), N_("Ref.2"), N_("License no."),
    N_("Tax ID"), N_("Payer"), N_("Fee"), N_("Amount (baht)"), N_("Channel"), N_("Bank code"), N_("Bank reference"),
    N_("Payment status"), N_("Receipt no."),
)


EXPORT_YEARS = (2000, 2200)  # Gregorian years a payment can have: outside them a day is a typing slip


def _export_days(first_text: str, last_text: str, t: Translator) -> tuple[date, date] | str:
    """The export's first and last day, or what is wrong with them (said exactly)."""
    try:
        first, last = date.fromisoformat(first_text.strip()), date.fromisoformat(last_text.strip())
    except ValueError:
        return t("Write both days as dates, e.g. %(example)s.", example=today_bangkok().isoformat())
    if not all(EXPORT_YEARS[0] <= d.year <= EXPORT_YEARS[1] for d in (first, last)):
        return t("Choose days between the years %(first)s and %(last)s.", first=EXPORT_YEARS[0],
                             last=EXPORT_YEARS[1])
    if first > last:
        return t("The first day is after the last day: swap them.")
    if (last - first).days >= EXPORT_MAX_DAYS:
        return t("Choose at most %(days)s days.", days=EXPORT_MAX_DAYS)
    return first, last


@bp.post("/export")
@needs(StaffRole.FINANCE)
def export_payments():
    t = _t()
    days = _export_days(request.form.get("first", ""), request.form.get("last", ""), t)
    file_format = request.form.get("format", "csv")
    era = Era.CE if request.form.get("era") == Era.CE else Era.BE
    if isinstance(days, str) or file_format not in ("csv", "xlsx"):
        response = _page("export.html", first=request.form.get("first", "")[:40], last=request.form.get("last", "")[:40],
                         era=era, error=days if isinstance(days, str) else t("Choose CSV or Excel (XLSX)."))
        response.status_code = 400
        return response
    first, last = days
    tisi = services()
    with tisi.db.transaction() as s:
        count = ledger.count_payments_between(s, first, last)
        staff.record(s, g.account.name, StaffAction.EXPORTED, target=f"payments {first}..{last}",
                     address=_address(), rows=count, format=file_format)
    header = [t(c) for c in EXPORT_COLUMNS]
    header[1] = t(N_("Date (BE)") if era is Era.BE else N_("Date (CE)"))

    def rows(s: Session) -> Iterator[ExportRow]:
        for payment, inv, receipt_no in ledger.payments_between(s, first, last):
            yield ExportRow(
                paid_at=payment.transacted_at, invoice_no=inv.invoice_no, ref2=inv.ref2, license_no=inv.license_no,
                tax_id=inv.tax_id, payer_name=inv.payer_name, fee=t(FEE_NAMES.get(inv.fee_code, inv.fee_code)),
                amount=payment.amount, channel=t(CHANNEL_NAMES.get(payment.channel, payment.channel)),
                bank_code=payment.bank_code, bank_ref=payment.bank_ref,
                status=t(WHAT_NAMES[payment.status]) if payment.status in WHAT_NAMES else payment.status,
                receipt_no=receipt_no)

    name = f"tisi-payments-{first.isoformat()}-{last.isoformat()}"
    if file_format == "xlsx":
        with tisi.db.sessions() as s:
            data = xlsx_bytes(header, rows(s), era, sheet_name=t("Payments"),
                              total_label=lambda n: t("Total of %(count)s payments", count=n))
        return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", headers={
            "Content-Disposition": f'attachment; filename="{name}.xlsx"', "Cache-Control": "no-store"})

    def generate() -> Iterator[str]:
        with tisi.db.sessions() as s:
            yield from csv_chunks(header, rows(s), era)

    return Response(stream_with_context(generate()), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}.csv"', "Cache-Control": "no-store"})


