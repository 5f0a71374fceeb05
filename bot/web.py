"""Public pages: the QR image, the tracking page, and the health check."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from sqlalchemy import select

from bot import health

from bot.core.dates import format_long_date, today_bangkok
from bot.core.i18n import Translator, supported
from bot.core.masking import mask_name
from bot.core.thaiqr import bill_payment_payload
from bot.core.tokens import read_token
from bot.messages import FEE_NAMES, STATUS_NAMES, baht
from bot.models import Invoice, Status
from bot.qrimage import etag_for, qr_png

bp = Blueprint("web", __name__)


def _invoice_from_token(purpose: str, token: str) -> Invoice:
    tisi = current_app.extensions["tisi"]
    public_id = read_token(tisi.settings.secret_key, purpose, token)
    if public_id is None:
        abort(404)  # tampered or made up: no database lookup at all
    with tisi.db.sessions() as session:
        inv = session.scalar(select(Invoice).where(Invoice.public_id == public_id))
    if inv is None:
        abort(404)
    return inv


@bp.get("/qr/<token>.png")
def qr_image(token: str):
    inv = _invoice_from_token("qr", token)
    if not inv.is_payable(today_bangkok()):
        # Paid, expired or cancelled: scanning it again could only produce a refused payment.
        return jsonify({"error": "not_payable", "status": inv.effective_status()}), 410
    payload = bill_payment_payload(current_app.extensions["tisi"].settings.biller_id, inv.invoice_no, inv.ref2, inv.amount)
    etag = etag_for(payload)
    headers = {"ETag": f'"{etag}"', "Cache-Control": "public, max-age=300"}
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    return Response(qr_png(payload), mimetype="image/png", headers=headers)


@bp.get("/track/<token>")
def track(token: str):
    inv = _invoice_from_token("track", token)
    lang = supported(request.args.get("lang") or request.accept_languages.best_match(["th", "en"]) or "th")
    t = Translator(lang)
    status = inv.effective_status()
    tisi = current_app.extensions["tisi"]
    html = render_template(
        "html/track.html",
        t=t, lang=lang, inv=inv, status=status, status_name=t(STATUS_NAMES[status]),
        fee_name=t(FEE_NAMES[inv.fee_code]), amount=baht(inv.amount, t),
        due=format_long_date(inv.due_date, lang), payer=mask_name(inv.payer_name),
        qr_url=tisi.links.qr_url(inv) if status == Status.UNPAID else None,
        other_lang="en" if lang == "th" else "th",
    )
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})


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
