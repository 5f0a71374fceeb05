"""POST /callback: LINE's webhook. Signature first, then every event stored, then 200.

Nothing here waits on LINE: events are handled and replied to by workers (`bot.inbox`), so the
answer takes one database transaction whatever LINE's API does. If the events cannot be stored
the answer is 503 and LINE redelivers them; 200 is never sent for an event that was not kept.
"""
from __future__ import annotations

import json
import logging

from flask import Blueprint, current_app, jsonify, request
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from sqlalchemy.exc import DBAPIError, TimeoutError as PoolTimeout

from bot.inbox import event_id, store_events

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)


def _error(status: int, code: str, message: str):
    return jsonify({"error": code, "message": message}), status


@bp.post("/callback")
def callback():
    signature = request.headers.get("X-Line-Signature")
    if not signature:
        return _error(400, "missing_signature", "X-Line-Signature header is required")
    body = request.get_data(as_text=True)  # the exact raw text LINE signed
    tisi = current_app.extensions["tisi"]
    parser: WebhookParser = tisi.webhook_parser
    try:
        parser.parse(body, signature)  # the signature, and events of the shapes the SDK knows
        events = json.loads(body)["events"]
        for event in events:
            event_id(event)  # the key that recognises a redelivery
    except InvalidSignatureError:
        return _error(400, "invalid_signature", "signature does not match the body")
    except Exception:  # not JSON, no "events", events of the wrong shape
        return _error(400, "invalid_webhook", "body is not a LINE webhook")
    try:
        new = store_events(tisi.db, events)
    except (DBAPIError, PoolTimeout) as exc:
        log.warning("webhook: %d event(s) not stored, answering 503 so LINE redelivers (%s)", len(events),
                    type(getattr(exc, "orig", None) or exc).__name__)
        return _error(503, "unavailable", "events could not be stored; please redeliver")
    if new and tisi.worker is not None:
        tisi.worker.wake()
    log.info("webhook: %d event(s), %d new", len(events), new)
    return _OK


_OK = ({"status": "ok"}, 200)
