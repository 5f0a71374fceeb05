"""Public pages: the QR image, the tracking page, the pay-in slip, and the health check."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
)
from sqlalchemy import select

from bot.core.dates import format_datetime_local, format_long_date, today_bangkok
from bot.core.i18n import N_, Translator, supported
from bot.core.masking import mask_name
from bot.core.thaiqr import bill_payment_payload
from bot.core.tokens import read_token
from bot.data.models import Invoice, Payment, Status
from bot.data.states import PaymentStatus
from bot.render.messages import CHANNEL_NAMES, FEE_NAMES, STATUS_NAMES, baht
from bot.render.qrimage import etag_for, qr_png
from bot.render.slip import SlipData, slip_pdf
from bot.runtime import health
from bot.web.errors import json_error

bp = Blueprint("web", __name__)


def _invoice_from_token(purpose: str, token: str) -> Invoice | None:
    tisi = current_app.extensions["tisi"]
    public_id = read_token(tisi.settings.secret_key, purpose, token)
    if public_id is None:
        return None  # tampered or made up: no database lookup at all
    with tisi.db.sessions() as session:
        return session.scalar(select(Invoice).where(Invoice.public_id == public_id))


def _page_lang() -> str:
    # Thai first: English only when asked for (the link in the chat carries no language).
    return supported(request.args.get("lang") or "th")


@bp.get("/qr/<token>.png")
def qr_image(token: str):
    inv = _invoice_from_token("qr", token)
    if inv is None:
        abort(404)  # JSON: images are fetched by machines (LINE), a person never reads this
    if not inv.is_payable(today_bangkok()):
        # Paid, expired or cancelled: scanning it again could only produce a refused payment.
        return json_error(410, "not_payable", "paid, expired or cancelled", status=inv.effective_status())
    payload = bill_payment_payload(current_app.extensions["tisi"].settings.biller_id, inv.invoice_no, inv.ref2, inv.amount)
    etag = etag_for(payload)
    headers = {"ETag": f'"{etag}"', "Cache-Control": "public, max-age=300"}
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    response = Response(qr_png(payload), mimetype="image/png", headers=headers)
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="tisi-qr-{inv.invoice_no}.png"'
    return response


@bp.get("/track/<token>")
def track(token: str):
    inv = _invoice_from_token("track", token)
    if inv is None:
        return error_page(404)
    lang = _page_lang()
    t = Translator(lang)
    status = inv.effective_status()
    tisi = current_app.extensions["tisi"]
    payment = _confirmed_payment(inv) if status == Status.PAID else None
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
        other_lang="en" if lang == "th" else "th",
    )
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})


@bp.get("/slip/<token>.pdf")
def slip(token: str):
    inv = _invoice_from_token("slip", token)
    if inv is None:
        return error_page(404)
    if not inv.is_payable(today_bangkok()):
        return error_page(410)  # a paid, expired or cancelled slip taken to a branch would be refused there
    settings = current_app.extensions["tisi"].settings
    pdf = slip_pdf(SlipData(
        biller_id=settings.biller_id, invoice_no=inv.invoice_no, ref2=inv.ref2, amount=inv.amount,
        due_date=inv.due_date, payer_name=inv.payer_name, tax_id=inv.tax_id, fee_name=FEE_NAMES[inv.fee_code],
        license_no=inv.license_no, support_contact=settings.support_contact,
    ))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="tisi-payin-{inv.invoice_no}.pdf"',
        "Cache-Control": "private, no-store",  # it stops being payable: never print a stale copy
    })


ERROR_TEXT = {
    404: (N_("Link not found"), N_("This link is not valid. Please use the link in the TISI LINE chat, or type your invoice number there.")),
    410: (N_("This invoice cannot be paid"), N_("This invoice has been paid, has expired or was cancelled, so its pay-in slip can no longer be used. Type the invoice number in the TISI LINE chat to see its status.")),
    429: (N_("Too many requests"), N_("Please wait a minute and try again.")),
}


def error_page(status: int) -> Response:
    lang = _page_lang()
    t = Translator(lang)
    title, body = ERROR_TEXT.get(status, ERROR_TEXT[404])
    html = render_template("html/error.html", t=t, lang=lang, title=t(title), body=t(body),
                           support=current_app.extensions["tisi"].settings.support_contact,
                           other_lang="en" if lang == "th" else "th")
    return Response(html, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})


def wants_page() -> bool:
    """Paths people open in a browser: their errors (404, 429) are pages, the rest JSON."""
    return request.path.startswith(("/track/", "/slip/"))


def _confirmed_payment(inv: Invoice) -> Payment | None:
    with current_app.extensions["tisi"].db.sessions() as session:
        return session.scalar(select(Payment).where(
            Payment.invoice_id == inv.id, Payment.status == PaymentStatus.CONFIRMED,
        ).order_by(Payment.transacted_at.desc()).limit(1))


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
    try:
        state = health.check(current_app.extensions["tisi"].db)
    except Exception:
        return jsonify({"status": "error", "db": "unavailable"}), 503
    return jsonify({"status": "ok", "db": "ok", **state.as_dict()})
