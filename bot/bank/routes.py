"""POST /bank/ktb/billpayment: authentication first, then validation, then the command."""
from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, request

from bot.bank import protocol as p
from bot.bank import service
from bot.notices import OUTBOX

log = logging.getLogger(__name__)
bp = Blueprint("bank", __name__)
MAX_BODY = 64 * 1024


@bp.post("/bank/ktb/billpayment")
def billpayment():
    tisi = current_app.extensions["tisi"]
    raw = request.get_data(cache=False)[: MAX_BODY + 1]
    cmd = None
    try:
        if len(raw) > MAX_BODY:
            raise p.Refused(p.BAD_REQUEST, "body too large")
        p.authenticate(tisi.settings.bank_webhook_secret, request.headers.get("X-Bank-Timestamp"),
                       request.headers.get("X-Bank-Signature"), raw, now=time.time())
        cmd = p.parse_command(raw, tisi.settings.biller_id)
        upstream = bool(tisi.settings.upstream_callback_url and tisi.settings.upstream_api_token)
        status, body, queued = service.handle(tisi.bank_db, cmd, raw, upstream=upstream)
    except p.Refused as refused:
        log.info("bank request refused: %s %s", refused.code, refused.detail)
        status, body = p.answer(refused.code, service.new_tranx_id(), refused.detail)
        service.log_refusal(tisi.bank_db, raw, status, body, cmd)
        return _json(status, body)
    except Exception:
        log.exception("bank request failed: %s %s", getattr(cmd, "command", "?"), getattr(cmd, "bank_ref", "?"))
        status, body = p.answer(p.INTERNAL, service.new_tranx_id())  # rolled back: the bank retries
        service.log_refusal(tisi.bank_db, raw, status, body, cmd)
        return _json(status, body)
    log.info("bank %s %s/%s -> %s", cmd.command, cmd.bank_code, cmd.bank_ref, body[:20])
    if queued and tisi.worker is not None:
        tisi.worker.wake(OUTBOX)  # a thread event: never a LINE call on the bank's path
    return _json(status, body)


def _json(status: int, body: bytes) -> Response:
    return Response(body, status=status, mimetype="application/json")
