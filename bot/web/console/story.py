"""Today's takings, finding an invoice, and one invoice's whole story."""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask import (
    abort,
    g,
    redirect,
    request,
    url_for,
)

from bot.core.dates import (
    format_datetime_local,
    format_long_date,
    format_short_date,
    today_bangkok,
)
from bot.core.i18n import N_, Translator
from bot.core.money import format_number
from bot.core.refs import is_ref
from bot.data.states import (
    StaffRole,
)
from bot.ledger import console as ledger
from bot.ledger import receipts, staff
from bot.ledger.invoices import find_invoice
from bot.render.messages import CHANNEL_NAMES, FEE_NAMES, STATUS_NAMES
from bot.runtime import health
from bot.services import services
from bot.web.console.base import (
    _page,
    _t,
    bp,
    needs,
)
from bot.web.console.labels import ACTOR_NAMES, NOTICE_EVENT_NAMES, WHAT_NAMES


# -- today ----------------------------------------------------------------------------------------
@bp.get("/")
@needs(StaffRole.VIEWER)
def today():
    t = _t()
    tisi = services()
    day = today_bangkok()
    with tisi.db.sessions() as s:
        takings = ledger.takings(s, day)
        series = ledger.daily(s, takings)
        chain = ledger.chain_state(s)
        attacks = staff.attacks(s) if StaffRole(g.account.role).allows(StaffRole.ADMIN) else []
    try:
        queues = health.check(tisi.db)
    except Exception:  # the figures are a convenience here; the page still shows the takings
        queues = None
    alerts = [t("Sign-in attack: the name %(name)s was tried %(failures)s times from %(addresses)s addresses in "
                "the last 15 minutes; each try is now slowed.", name=a.name, failures=a.failures,
                addresses=a.addresses) for a in attacks]
    if tisi.spool.full:
        alerts.append(t("The bank spool is full: while the database cannot be reached the bank is answered "
                        "9999 and its requests are not kept. Bring the database back, or free the spool's disk."))
    chart = {"labels": [format_short_date(d, t.lang) for d, _, _ in series],
             "counts": [c for _, c, _ in series], "baht": [str(b) for _, _, b in series],
             "label_count": t("Payments"), "label_baht": t("Baht")}
    return _page("today.html", chain_summary=_chain_summary(chain, t), takings=takings, series=series, chart=json.dumps(chart, ensure_ascii=False).replace("<", "\\u003c"),
                 channel_name=lambda c: t(CHANNEL_NAMES[c]) if c in CHANNEL_NAMES else c,
                 fee_name=lambda f: t(FEE_NAMES[f]) if f in FEE_NAMES else f,
                 long_day=format_long_date(day, t.lang), chain=chain, queues=queues,
                 problems=alerts + (queues.problems() if queues else [t("The queue figures could not be read.")]))


def _chain_summary(chain: ledger.ChainState, t: Translator) -> str:
    """What the last `audit verify` found, in the reader's language."""
    check = chain.last_check
    if check is None:
        return ""
    figures = ledger.check_figures(check)
    if figures is None:  # remembered by an earlier release, as the command's English line
        return check.summary
    if not check.intact:
        return t("Broken: %(problem)s", problem=figures.get("problem") or "")
    said = t("%(links)s links, %(signatures)s bank signatures and %(invoices)s invoices checked.",
             links=f"{figures.get('links', 0):,}", signatures=f"{figures.get('signatures', 0):,}",
             invoices=f"{figures.get('invoices', 0):,}")  # (Thai and English group digits alike)
    if figures.get("spooled"):
        said += " " + t("%(count)s bank messages were stored late, from the outage spool.", count=figures["spooled"])
    return said


# -- find and one invoice's story ---------------------------------------------------------------
@bp.get("/find")
@needs(StaffRole.VIEWER)
def find():
    t = _t()
    query = request.args.get("q", "")[:200]
    page = request.args.get("page", "1")
    page_no = int(page) if page.isdigit() and 0 < len(page) < 6 else 1
    found = None
    if query.strip():
        with services().db.sessions() as s:
            found = ledger.find(s, query, page=page_no)
        if found.by == "invoice" and len(found.invoices) == 1:
            return redirect(url_for("console.invoice", invoice_no=found.invoices[0].invoice_no))
    filters = []
    if found is not None and found.by == "filters":
        if found.day is not None:
            filters.append(t("paid on %(day)s", day=format_long_date(found.day, t.lang)))
        if found.status is not None:
            filters.append(t(STATUS_NAMES[found.status]))
        if found.channel is not None:
            filters.append(t(CHANNEL_NAMES.get(found.channel, found.channel)))
    return _page("find.html", query=query, found=found, filters=" · ".join(filters),
                 status_name=lambda inv: t(STATUS_NAMES[inv.effective_status()]),
                 by_name={"invoice": t("invoice number"), "license": t("license number"), "tax_id": t("tax ID"),
                          "name": t("payer name"), "filters": t("day, status or channel"), "": ""})


KIND_NAMES = {
    "audit": N_("Invoice"), "asked": N_("Chat"), "notice": N_("Notice"), "bank": N_("Bank message"),
    "payment": N_("Payment"), "reversal": N_("Reversal"), "receipt": N_("Receipt"), "photo": N_("Photo"),
}


@bp.get("/invoice/<invoice_no>")
@needs(StaffRole.VIEWER)
def invoice(invoice_no: str):
    t = _t()
    tisi = services()
    with tisi.db.sessions() as s:
        inv = find_invoice(s, invoice_no) if is_ref(invoice_no) else None
        if inv is None:
            abort(404)
        happenings = ledger.story(s, inv, tisi.settings.reminder_days)
        issued = ledger.receipts_of(s, inv)
    status = inv.effective_status()
    links = [(t("Tracking page"), tisi.links.track_url(inv))]
    if status == "unpaid":
        links.append((t("Pay-in slip"), tisi.links.slip_url(inv)))
    links += [(t("Receipt %(number)s", number=r.number) + (f" ({t('void')})" if r.voided_at else ""),
               tisi.links.receipt_url(receipts.receipt_key(inv.public_id, r.payment_id))) for r in issued]
    return _page("invoice.html", inv=inv, status=status, status_name=t(STATUS_NAMES[status]),
                 fee_name=t(FEE_NAMES.get(inv.fee_code, inv.fee_code)), happenings=happenings, links=links,
                 kind_name=lambda k: t(KIND_NAMES.get(k) or str(k)), what_name=lambda w: t(WHAT_NAMES[w]) if w in WHAT_NAMES else w,
                 due=format_long_date(inv.due_date, t.lang), detail_text=lambda d: _detail_text(d, t))


DETAIL_NAMES = {
    "status": N_("status"), "actor": N_("by"), "amount": N_("amount"), "bank_ref": N_("bank reference"),
    "bankRef": N_("bank reference"), "bankCode": N_("bank code"), "channel": N_("channel"),
    "transacted_at": N_("paid at"), "transDateTime": N_("bank's time"), "command": N_("command"),
    "user": N_("LINE user"), "event": N_("notice"), "to": N_("to"), "attempts": N_("attempts"),
    "sent_at": N_("delivered at"), "last_error": N_("LINE's answer"), "resp_code": N_("our answer"),
    "http_status": N_("HTTP"), "replayed": N_("repeated request"), "spooled": N_("kept through an outage"),
    "number": N_("receipt no."), "reason": N_("reason"), "variant": N_("document"), "sha256": "SHA-256",
    "receipt": N_("receipt no."),
}


_AMOUNT_KEYS = frozenset({"amount"})
_TIME_KEYS = frozenset({"transacted_at", "transDateTime", "sent_at"})


def _detail_text(detail: dict[str, object], t: Translator) -> str:
    """A happening's details on one line, as staff read them: names and codes by their labels in
    the reader's language, times in Bangkok (Buddhist era in Thai), amounts with separators."""
    parts = []
    for key, value in detail.items():
        if value is None or value == "" or value is False or key in ("payment_id", "message_id"):
            continue
        parts.append(f"{t(DETAIL_NAMES[key]) if key in DETAIL_NAMES else key}: {_detail_value(key, value, t)}")
    return " · ".join(parts)


def _detail_value(key: str, value: object, t: Translator) -> str:
    if value is True:
        return t("yes")
    if isinstance(value, datetime) or key in _TIME_KEYS:
        moment = value if isinstance(value, datetime) else _stored_time(str(value))
        return format_datetime_local(moment, t.lang) if moment is not None else str(value)
    steps = str(value).split(" → ")  # a change: "unpaid → paid", "1000.00 → 1200.00"
    if key in _AMOUNT_KEYS:
        return " → ".join(_amount(step, t.lang) for step in steps)
    labels = {"status": STATUS_NAMES, "variant": WHAT_NAMES, "channel": CHANNEL_NAMES, "actor": ACTOR_NAMES,
              "event": NOTICE_EVENT_NAMES}.get(key)
    if labels is None:
        return str(value)
    return " → ".join(t(labels[step]) if step in labels else _reminder_name(step, t) for step in steps)


def _stored_time(text: str) -> datetime | None:
    """A time kept as text in an audit entry or a bank message (ISO 8601 with its offset)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _amount(text: str, lang: str) -> str:
    try:
        return format_number(Decimal(text), lang)
    except (InvalidOperation, ValueError):
        return text


def _reminder_name(event: str, t: Translator) -> str:
    """"remind7" is the reminder 7 days before the due date; any other code is shown as it is."""
    days = event.removeprefix("remind")
    if event.startswith("remind") and days.isdigit():
        return t("reminder %(days)s days before", days=days)
    return event


