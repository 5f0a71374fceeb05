"""The bank's endpoints: POST /bank/ktb/billpayment (our signed JSON) and POST
/bank/ktb/directlink (Krungthai's SOAP). Authentication first, then validation, then the command."""
from __future__ import annotations

import hmac
import json
import logging

from flask import Blueprint, Response, abort, request

from bot import metrics
from bot.bank import directlink as dl
from bot.bank import gate, service
from bot.bank import protocol as p
from bot.core.clientip import allowed, client_address
from bot.ledger.notices import OUTBOX
from bot.ledger.receipts import QUEUE as RECEIPTS
from bot.services import services

log = logging.getLogger(__name__)
bp = Blueprint("bank", __name__)


@bp.post("/bank/ktb/billpayment")
def billpayment():
    """Authenticated already (bot.bank.gate): the request is the bank's, and whatever becomes of
    it is part of the record."""
    tisi = services()
    raw = request.environ.get(gate.RAW)
    if raw is None:  # the gate is not in front of this app: nothing may pass unauthenticated
        abort(500)
    # (both present: the gate refused the request otherwise)
    signed = (request.headers.get("X-Bank-Timestamp", ""), request.headers.get("X-Bank-Signature", ""))
    # From here on the request is the bank's: whatever becomes of it is part of the record.
    cmd = None
    try:
        cmd = p.parse_command(raw, tisi.settings.biller_id)
        upstream = bool(tisi.settings.upstream_callback_url and tisi.settings.upstream_api_token)
        answered = service.handle(tisi.bank_db, cmd, raw, upstream=upstream, signed=signed, book=tisi.receipt_book)
    except p.Refused as refused:
        log.info("bank request refused: %s %s", refused.code, refused.detail)
        status, body = p.answer(refused.code, service.new_tranx_id(), refused.detail)
        service.log_refusal(tisi.bank_db, raw, status, body, cmd, signed=signed, spool=tisi.spool)
        return _json(status, body, cmd)
    except Exception as exc:
        _failed(exc, cmd)
        status, body = p.answer(p.INTERNAL, service.new_tranx_id())  # rolled back: the bank retries
        service.log_refusal(tisi.bank_db, raw, status, body, cmd, signed=signed, spool=tisi.spool)
        return _json(status, body, cmd)
    log.info("bank %s %s/%s -> %s", cmd.command, cmd.bank_code, cmd.bank_ref, answered.body[:20])
    tisi.spool.replay_soon(tisi.bank_db)  # the database answered: what an outage kept goes in, off this path
    _wake(tisi, answered)
    return _json(answered.status, answered.body, cmd)


def _wake(tisi, answered: service.Answered) -> None:
    """This process's workers (WORKER=inline) start on what the payment queued: thread events, never
    a LINE call on the bank's path. (Other processes' workers hear of notices by NOTIFY, and look
    for receipts every second: bot.ledger.receipts.issue.)"""
    if tisi.worker is None:
        return
    if answered.notices_queued:
        tisi.worker.wake(OUTBOX)
    if answered.receipt_queued:
        tisi.worker.wake(RECEIPTS)


def _failed(exc: BaseException, cmd) -> None:
    """An outage is said once per request by the spool's line, without a traceback; anything else
    is a bug, with one."""
    if not service.database_down(exc):
        log.exception("bank request failed: %s %s", getattr(cmd, "command", "?"), getattr(cmd, "bank_ref", "?"))


def _json(status: int, body: bytes, cmd=None) -> Response:
    _count("json", cmd, json.loads(body)["respCode"])
    return Response(body, status=status, mimetype="application/json")


def _count(endpoint: str, cmd, resp_code: str) -> None:
    metrics.BANK_COMMANDS.labels(endpoint, getattr(cmd, "command", None) or "unknown", resp_code).inc()


# -- Krungthai Direct Link (SOAP 1.1), docs/integrators.md --------------------------------------------
directlink_bp = Blueprint("directlink", __name__)


@directlink_bp.post("/bank/ktb/directlink")
def directlink():
    """The same bank core as /bank/ktb/billpayment, in Krungthai's own message shape.

    Krungthai does not sign its calls: the caller's address (KTB_ALLOWED_IPS, X-Forwarded-For
    believed only from TRUSTED_PROXIES) and the user, password and company code in the body are
    what authenticate it. A refused caller changes nothing and is logged once, with its address.
    """
    tisi = services()
    settings = tisi.settings
    caller = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), settings.trusted_proxies)
    if not allowed(caller, settings.ktb_allowed_ips):
        log.warning("directlink: refused a caller outside KTB_ALLOWED_IPS: %s", caller or request.remote_addr)
        return _soap(401, dl.render_fault("Client", "caller not allowed"))
    if (request.content_length or 0) > dl.MAX_BODY:  # refused before a byte of it is read
        return _soap(413, dl.render_fault("Client", "request larger than 64 KB"))
    raw = request.stream.read(dl.MAX_BODY + 1)
    try:
        req = dl.parse_request(raw)
    except dl.Fault as fault:
        log.info("directlink: %s from %s: %s", fault.http_status, caller, fault.message)
        return _soap(fault.http_status, dl.render_fault("Client", fault.message))
    # Both compared every time, in constant time: the answer's timing tells nothing.
    # (Unset credentials refuse everyone: an empty user must not match an empty setting.)
    user_ok = hmac.compare_digest(req.user.encode(), (settings.ktb_directlink_user or "").encode()) \
        and bool(settings.ktb_directlink_user)
    password_ok = hmac.compare_digest(req.password.encode(), (settings.ktb_directlink_password or "").encode()) \
        and bool(settings.ktb_directlink_password)
    if not (user_ok and password_ok and req.comcode == settings.ktb_company_code):
        what = "company code" if user_ok and password_ok else "user or password"
        log.warning("directlink: refused %s from %s: wrong %s", req.bankref[:64], caller, what)
        return _soap(401, dl.render_fault("Client", "authentication failed"))
    cmd = None
    try:
        cmd = dl.to_command(req, settings.biller_id)
        upstream = bool(settings.upstream_callback_url and settings.upstream_api_token)

        def render(status: int, core: bytes) -> tuple[int, bytes]:
            answer = json.loads(core)
            _count("directlink", cmd, answer["respCode"])
            return 200, dl.render_answer(answer, req.bankref)

        answered = service.handle(tisi.bank_db, cmd, raw, upstream=upstream, render=render, book=tisi.receipt_book)
    except dl.Fault as fault:
        body = dl.render_fault("Client", fault.message, p.BAD_REQUEST)
        service.log_refusal(tisi.bank_db, raw, fault.http_status, body, None, resp_code=p.BAD_REQUEST,
                            spool=tisi.spool)
        _count("directlink", None, p.BAD_REQUEST)
        return _soap(fault.http_status, body)
    except Exception as exc:
        _failed(exc, cmd)
        body = dl.render_fault("Server", "internal error; please retry", p.INTERNAL)  # rolled back
        service.log_refusal(tisi.bank_db, raw, 500, body, cmd, resp_code=p.INTERNAL, spool=tisi.spool)
        _count("directlink", cmd, p.INTERNAL)
        return _soap(500, body)
    log.info("directlink %s %s/%s", cmd.command, cmd.bank_code, cmd.bank_ref)
    tisi.spool.replay_soon(tisi.bank_db)
    _wake(tisi, answered)
    return _soap(answered.status, answered.body)


def _soap(status: int, body: bytes) -> Response:
    return Response(body, status=status, content_type="text/xml; charset=utf-8")
