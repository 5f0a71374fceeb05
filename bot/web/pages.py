"""Public pages: the QR image, the tracking page, the pay-in slip, the receipt, and the health check."""
from __future__ import annotations

import hashlib
import logging
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
)

from bot.core.dates import format_datetime_local, format_long_date, today_bangkok
from bot.core.i18n import N_, Translator, supported
from bot.core.masking import mask_name
from bot.core.thaiqr import bill_payment_payload
from bot.core.tokens import read_token
from bot.data.db import UNAVAILABLE
from bot.data.states import InvoiceStatus as Status
from bot.ledger import invoices, payments, receipts
from bot.render.messages import CHANNEL_NAMES, FEE_NAMES, STATUS_NAMES, baht
from bot.render.paycard import PayCard, payment_card_png
from bot.render.qrcache import Shown
from bot.render.qrimage import etag_for, qr_png
from bot.render.slip import SlipData, slip_pdf
from bot.runtime import health
from bot.services import services
from bot.web.errors import json_error

if TYPE_CHECKING:
    from bot.data.models import Invoice, Payment

bp = Blueprint("web", __name__)
log = logging.getLogger(__name__)


def _invoice_from_token(purpose: str, token: str) -> Invoice | None:
    tisi = services()
    public_id = read_token(tisi.settings.secret_key, purpose, token)
    if public_id is None:
        return None  # tampered or made up: no database lookup at all
    with tisi.db.sessions() as session:
        return invoices.by_public_id(session, public_id)


def _page_lang() -> str:
    # Thai first: English only when asked for (the link in the chat carries no language).
    return supported(request.args.get("lang") or "th")


@bp.get("/qr/<token>.png")
def qr_image(token: str):
    tisi = services()
    public_id = read_token(tisi.settings.secret_key, "qr", token)
    if public_id is None:
        abort(404)  # JSON: images are fetched by machines (LINE), a person never reads this
    try:
        with tisi.db.sessions() as session:
            inv = invoices.by_public_id(session, public_id)
    except UNAVAILABLE:
        shown = tisi.qr_cache.recall(public_id, today_bangkok())
        if shown is None:
            raise  # a 503 with Retry-After (bot.factory), one log line
        log.warning("qr image served from the cache: the database is unavailable")
        return _qr_response(shown)
    if inv is None:
        abort(404)
    if not inv.is_payable(today_bangkok()):
        # Paid, expired or cancelled: scanning it again could only produce a refused payment.
        return json_error(410, "not_payable", "paid, expired or cancelled", status=inv.effective_status())
    shown = Shown(payload=bill_payment_payload(tisi.settings.biller_id, inv.invoice_no, inv.ref2, inv.amount),
                  amount=str(inv.amount), invoice_no=inv.invoice_no, ref2=inv.ref2, due_date=inv.due_date.isoformat())
    tisi.qr_cache.remember(public_id, shown)
    return _qr_response(shown)


def _qr_response(shown: Shown) -> Response:
    download = bool(request.args.get("download"))
    # The card and the bare code are two representations: two ETags.
    etag = etag_for(shown.payload + (f"|card|{_page_lang()}|{shown.due_date}" if download else ""))
    headers = {"ETag": f'"{etag}"', "Cache-Control": "public, max-age=300"}
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    if download:
        # Saved to a phone: a payment card that says what it pays, not a bare code.
        card = PayCard(payload=shown.payload, amount=Decimal(shown.amount), invoice_no=shown.invoice_no,
                       ref2=shown.ref2 or "", due_date=date.fromisoformat(shown.due_date), lang=_page_lang())
        response = Response(payment_card_png(card), mimetype="image/png", headers=headers)
        response.headers["Content-Disposition"] = f'attachment; filename="tisi-qr-{shown.invoice_no}.png"'
        return response
    return Response(qr_png(shown.payload), mimetype="image/png", headers=headers)


@bp.get("/track/<token>")
def track(token: str):
    inv = _invoice_from_token("track", token)
    if inv is None:
        return bad_link()
    lang = _page_lang()
    t = Translator(lang)
    status = inv.effective_status()
    tisi = services()
    payment = _confirmed_payment(inv) if status == Status.PAID else None
    receipt_url = None
    if payment is not None:
        with tisi.db.sessions() as session:
            issued = receipts.for_payment(session, payment.id)
        if issued is not None:
            receipt_url = tisi.links.receipt_url(receipts.receipt_key(inv.public_id, payment.id))
    html = render_template(
        "html/track.html",
        t=t, lang=lang, inv=inv, status=status, status_name=t(STATUS_NAMES[status]),
        fee_name=t(FEE_NAMES[inv.fee_code]), amount=baht(inv.amount, t),
        due=format_long_date(inv.due_date, lang), payer=mask_name(inv.payer_name),
        payment=payment and {
            "amount": baht(payment.amount, t),
            "when": format_datetime_local(payment.transacted_at, lang),
            "bank_ref": payment.bank_ref,
            "channel": t(CHANNEL_NAMES.get(payment.channel, payment.channel)),
        },
        paid_when=format_datetime_local(inv.paid_at, lang) if status == Status.PAID and inv.paid_at else None,
        note=_status_note(inv, status, t),
        qr_url=tisi.links.qr_url(inv) if status == Status.UNPAID else None,
        slip_url=tisi.links.slip_url(inv) if status == Status.UNPAID else None,
        support=tisi.settings.support_contact,
        receipt_url=receipt_url,
        other_lang="en" if lang == "th" else "th",
    )
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})


@bp.get("/slip/<token>.pdf")
def slip(token: str):
    inv = _invoice_from_token("slip", token)
    if inv is None:
        return bad_link()
    if not inv.is_payable(today_bangkok()):
        # A paid, expired or cancelled slip taken to a branch would be refused there: say which,
        # and where its status is.
        return _slip_gone(inv)
    settings = services().settings
    pdf = slip_pdf(SlipData(
        biller_id=settings.biller_id, invoice_no=inv.invoice_no, ref2=inv.ref2, amount=inv.amount,
        due_date=inv.due_date, payer_name=inv.payer_name, tax_id=inv.tax_id, fee_name=FEE_NAMES[inv.fee_code],
        license_no=inv.license_no, support_contact=settings.support_contact, issued_at=inv.created_at,
    ))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="tisi-payin-{inv.invoice_no}.pdf"',
        "Cache-Control": "private, no-store",  # it stops being payable: never print a stale copy
    })


@bp.get("/receipt/<token>.pdf")
def receipt(token: str):
    """The signed receipt, byte for byte as stored (made now if the worker has not yet); a void
    receipt is served as it is now: marked ยกเลิก."""
    tisi = services()
    key = read_token(tisi.settings.secret_key, "receipt", token)
    if key is None:
        return bad_link()
    try:
        found = receipts.served_pdf(tisi.db, key, tisi.receipt_maker)
    except LookupError:
        t = Translator(_page_lang())
        return error_page(503, title=t("Receipt not ready"),
                          body=t("This receipt is being prepared. Please try again in a few minutes."))
    if found is None:
        return bad_link()
    issued, pdf = found
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{issued.number}.pdf"',
        "ETag": f'"{hashlib.sha256(pdf).hexdigest()}"',  # the whole SHA-256: the link of the audit chain
        # Voiding changes what this link serves: a copy is checked again before it is reused.
        "Cache-Control": "private, no-cache",
    })


ERROR_TEXT = {
    400: (N_("Request not understood"), N_("This address or form holds something that cannot be read. Please go "
                                           "back and try again.")),
    404: (N_("Page not found"), N_("There is no page at this address. To pay a TISI fee, add the TISI LINE "
                                   "Official Account and type your invoice number there.")),
    405: (N_("Page not found"), N_("There is no page at this address. To pay a TISI fee, add the TISI LINE "
                                   "Official Account and type your invoice number there.")),
    429: (N_("Too many requests"), N_("Please wait a minute and try again.")),
    503: (N_("Please try again shortly"), N_("The service is busy for a moment. Please try again in a minute.")),
}
# A link of ours that is not valid (tampered, made up, cut short): said apart from a wrong address.
BAD_LINK = (N_("Link not found"), N_("This link is not valid. Please use the link in the TISI LINE chat, or type "
                                     "your invoice number there."))
SLIP_GONE = {
    Status.PAID: N_("This invoice was paid on %(when)s, so its pay-in slip can no longer be used."),
    Status.EXPIRED: N_("This invoice expired on %(date)s, so its pay-in slip can no longer be used. Please "
                       "contact TISI for a new invoice."),
    Status.CANCELLED: N_("This invoice was cancelled, so its pay-in slip can no longer be used. There is nothing "
                         "to pay."),
}
# Paths machines call: their errors stay JSON. Every other address is a person's: an HTML page.
MACHINE_PATHS = ("/callback", "/bank/", "/api/", "/qr/", "/metrics", "/healthz", "/simulator/", "/fake-line")


def error_page(status: int, *, title: str | None = None, body: str | None = None,
               link: tuple[str, str] | None = None) -> Response:
    lang = _page_lang()
    t = Translator(lang)
    default_title, default_body = ERROR_TEXT.get(status, ERROR_TEXT[404])
    html = render_template("html/error.html", t=t, lang=lang, title=title or t(default_title),
                           body=body or t(default_body), link=link,
                           support=services().settings.support_contact,
                           other_lang="en" if lang == "th" else "th")
    return Response(html, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})


def bad_link() -> Response:
    t = Translator(_page_lang())
    return error_page(404, title=t(BAD_LINK[0]), body=t(BAD_LINK[1]))


def _slip_gone(inv: Invoice) -> Response:
    lang = _page_lang()
    t = Translator(lang)
    status = inv.effective_status()
    body = t(SLIP_GONE[status], when=format_datetime_local(inv.paid_at, lang) if inv.paid_at else "",
             date=format_long_date(inv.due_date, lang))
    track = services().links.track_url(inv) + ("?lang=en" if lang == "en" else "")
    return error_page(410, title=t("%(status)s: this slip cannot be used", status=t(STATUS_NAMES[status])),
                      body=body, link=(t("See the payment status"), track))


def wants_page() -> bool:
    """People open every address but the machines' ones: their errors (404, 429) are pages."""
    return not request.path.startswith(MACHINE_PATHS)


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for it on every site, whatever the page links."""
    return current_app.send_static_file("favicon.svg")


@bp.get("/")
def home():
    """What a person finds at the bot's address: what it is and how to use it (the demo sends
    them to its simulator)."""
    redirect_to = current_app.config.get("TISI_HOME_REDIRECT")
    if redirect_to:
        return Response(status=302, headers={"Location": redirect_to})
    lang = _page_lang()
    t = Translator(lang)
    html = render_template("html/home.html", t=t, lang=lang,
                           support=services().settings.support_contact,
                           other_lang="en" if lang == "th" else "th")
    return Response(html, mimetype="text/html")


def _confirmed_payment(inv: Invoice) -> Payment | None:
    with services().db.sessions() as session:
        return payments.latest_confirmed(session, inv)


def _status_note(inv: Invoice, status: str, t: Translator) -> str | None:
    if status == Status.EXPIRED:
        return t("This invoice expired on %(date)s. Please contact TISI for a new invoice.",
                 date=format_long_date(inv.due_date, t.lang))
    if status == Status.CANCELLED:
        return t("This invoice was cancelled. There is nothing to pay.")
    return None


@bp.get("/healthz")
def healthz():
    """200 whenever the database answers, with the queue figures for monitoring; 503 when it does not.

    A silent worker or an old item is reported by the figures (and by `tisi-pay health`), not by
    the status: a load balancer must not take web processes out because the workers are down.
    """
    tisi = services()
    try:
        state = health.check(tisi.db)
    except Exception:
        return jsonify({"status": "error", "db": "unavailable"}), 503
    tisi.spool.replay_soon(tisi.bank_db)  # the database is back: what the bank sent meanwhile goes in
    spool = {"bank_spool_bytes": tisi.spool.size if tisi.spool.pending else 0, "bank_spool_full": tisi.spool.full}
    return jsonify({"status": "ok", "db": "ok", **state.as_dict(), **spool})
