"""POST /callback: LINE's webhook. Signature first, then each event once, then the reply."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError

from bot import invoices as svc
from bot.core.dates import utcnow
from bot.core.i18n import Translator
from bot.db import insert_ignore
from bot.models import ProcessedEvent
from handlers import ChatContext, registry

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)


def _bad_request(code: str, message: str):
    return jsonify({"error": code, "message": message}), 400


@bp.post("/callback")
def callback():
    signature = request.headers.get("X-Line-Signature")
    if not signature:
        return _bad_request("missing_signature", "X-Line-Signature header is required")
    body = request.get_data(as_text=True)  # the exact raw text LINE signed
    parser: WebhookParser = current_app.extensions["tisi"].webhook_parser
    try:
        events = parser.parse(body, signature)
    except InvalidSignatureError:
        return _bad_request("invalid_signature", "signature does not match the body")
    except Exception:  # not JSON, no "events", events of the wrong shape
        return _bad_request("invalid_webhook", "body is not a LINE webhook")
    for event in events:
        handle_event(event)
    return _OK


_OK = ({"status": "ok"}, 200)


def handle_event(event) -> None:
    """Handle one event exactly once (by webhookEventId), then reply outside the transaction."""
    tisi = current_app.extensions["tisi"]
    event_id = getattr(event, "webhook_event_id", None)
    handler = registry.find(event)
    messages: list[dict] = []
    try:
        with tisi.db.transaction() as session:
            if event_id and insert_ignore(session, ProcessedEvent, webhook_event_id=event_id, received_at=utcnow()) is None:
                log.info("event %s: already handled, skipped", event_id)
                return
            if handler is None:
                log.info("event %s: type %s ignored", event_id, getattr(event, "type", "?"))
                return
            user_id = getattr(getattr(event, "source", None), "user_id", None)
            user = svc.get_or_create_user(session, user_id) if user_id else None
            messages = handler(event, ChatContext(session=session, user=user, links=tisi.links))
    except Exception:
        log.exception("event %s: handler failed", event_id)
        messages = _sorry()
    log.info("event %s: %s -> %d message(s)", event_id, getattr(event, "type", "?"), len(messages))
    reply_token = getattr(event, "reply_token", None)
    if messages and reply_token:
        tisi.line.reply(reply_token, messages)


def _sorry() -> list[dict]:
    return [{"type": "text", "text": Translator(None)("Sorry, something went wrong on our side. Please try again in a moment.")}]
