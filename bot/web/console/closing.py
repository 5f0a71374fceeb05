"""The day's close (ปิดยอดประจำวัน): the page of a Bangkok day's figures, closing it (finance; a
staff action entry keeping the figures) and its signed PDF to print and file."""
from __future__ import annotations

from datetime import date

from flask import Response, g, redirect, request, url_for

from bot.core.dates import format_long_date, parse_day, today_bangkok, utcnow
from bot.core.i18n import N_
from bot.data.states import StaffRole
from bot.ledger import dayclose
from bot.render.dayclose import changes_text
from bot.render.messages import CHANNEL_NAMES, FEE_NAMES, OUTCOME_NAMES
from bot.services import services
from bot.web.console.base import _address, _page, _t, bp, needs

REFUSALS = {
    "future": N_("A day still to come cannot be closed."),
    "unchanged": N_("This day is closed already and nothing has changed since."),
}


def _day(text: str | None) -> date | None:
    """The day asked for (2026-12-07, 7/12/2569, 7 ธ.ค. 2569, …); today when none is."""
    return today_bangkok() if not (text or "").strip() else parse_day(text or "")


@bp.get("/close")
@needs(StaffRole.VIEWER)
def day_close():
    t = _t()
    day = _day(request.args.get("day"))
    if day is None:
        return _close_page(today_bangkok(), error=t("Write the day as a date, e.g. %(example)s.",
                                                    example=format_long_date(today_bangkok(), t.lang)), status=400)
    problem = request.args.get("problem")
    return _close_page(day, done=request.args.get("done") == "1",
                       error=t(REFUSALS[problem]) if problem in REFUSALS else None)


def _close_page(day: date, *, done: bool = False, error: str | None = None, status: int = 200) -> Response:
    t = _t()
    with services().db.sessions() as s:
        found = dayclose.day_close(s, day)
    response = _page("close.html", close=found, day_iso=day.isoformat(), long_day=format_long_date(day, t.lang),
                     changes=changes_text(found.changes(), t), done=done, error=error,
                     can_close=day <= today_bangkok(),
                     fee_name=lambda f: t(FEE_NAMES[f]) if f in FEE_NAMES else f,
                     channel_name=lambda c: t(CHANNEL_NAMES[c]) if c in CHANNEL_NAMES else c,
                     outcome_name=lambda o: t(OUTCOME_NAMES[o]))
    response.status_code = status
    return response


@bp.post("/close")
@needs(StaffRole.FINANCE)
def close_the_day():
    t = _t()
    day = parse_day(request.form.get("day", ""))
    if day is None:
        return _close_page(today_bangkok(), error=t("Write the day as a date, e.g. %(example)s.",
                                                    example=format_long_date(today_bangkok(), t.lang)), status=400)
    try:
        with services().db.transaction() as s:
            dayclose.close_day(s, day, today_bangkok(), g.account.name, address=_address())
    except dayclose.CloseRefused as exc:
        return redirect(url_for("console.day_close", day=day.isoformat(), problem=str(exc)))
    return redirect(url_for("console.day_close", day=day.isoformat(), done=1))


@bp.get("/close.pdf")
@needs(StaffRole.VIEWER)
def day_close_pdf():
    day = _day(request.args.get("day"))
    if day is None:
        return day_close()  # the page says what is wrong with the day (400)
    tisi = services()
    with tisi.db.sessions() as s:
        found = dayclose.day_close(s, day)
    signer = tisi.receipt_maker.signer if tisi.receipt_maker is not None else None
    pdf = dayclose.close_pdf(found, signer, utcnow())
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="tisi-day-close-{day.isoformat()}.pdf"',
        "Cache-Control": "no-store"})
