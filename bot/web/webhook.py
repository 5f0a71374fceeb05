"""POST /callback: LINE's webhook. Signature first, then every event stored, then 200.

Nothing here waits on LINE: events are handled and replied to by workers (`bot.runtime.inbox`), so the
answer takes one database transaction whatever LINE's API does. If the events cannot be stored
the answer is 503 and LINE redelivers them; 200 is never sent for an event that was not kept.
"""
from __future__ import annotations

import json
import logging

from flask import Blueprint, request

from bot import metrics
from bot.data.db import UNAVAILABLE
from bot.runtime.inbox import PHOTOS, ReplyQueue, event_id, is_photo, store_events
from bot.services import services
from bot.web.errors import json_error

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)


@bp.post("/callback")
def callback():
    signature = request.headers.get("X-Line-Signature")
    if not signature:
        return json_error(400, "missing_signature", "X-Line-Signature header is required")
    body = request.get_data(as_text=True)  # the exact raw text LINE signed
    tisi = services()
    if not tisi.signature.validate(body, signature):
        return json_error(400, "invalid_signature", "signature does not match the body")
    try:
        events = webhook_events(body)
    except ValueError:
        return json_error(400, "invalid_webhook", "body is not a LINE webhook")
    # WORKER=inline: this process handles what it stores, unless its reply senders are all busy
    # (LINE is slow); then the events wait in the queue for whichever worker has room first. The
    # web processes' workers poll for those; only WORKER=external workers are woken by NOTIFY
    # (one per webhook, thousands a second when LINE is slow, serialised every commit).
    inline = tisi.worker is not None and tisi.worker.has_room(ReplyQueue.name, len(events))
    stored: list[bool] = []
    try:
        new = store_events(tisi.db, events, claim=inline, notify=tisi.worker is None, outcomes=stored)
    except UNAVAILABLE as exc:
        _count(events, [None] * len(events))
        log.warning("webhook: %d event(s) not stored, answering 503 so LINE redelivers (%s)", len(events),
                    type(getattr(exc, "orig", None) or exc).__name__)
        return json_error(503, "unavailable", "events could not be stored; please redeliver")
    _count(events, stored)
    log.debug("webhook: %d event(s), %d new", len(events), len(new))
    if new and inline and tisi.worker is not None:
        tisi.worker.adopt(ReplyQueue.name, new)  # handled by this process's worker at once
    elif new and tisi.worker is not None:
        tisi.worker.wake(ReplyQueue.name)  # taken from the queue as soon as a sender is free
    if new and tisi.worker is not None and any(is_photo(e) for e in events):
        tisi.worker.wake(PHOTOS)  # read on the photo pool, then answered
    return _OK


_OK = ({"status": "ok"}, 200)


def _count(events: list[dict], stored: list) -> None:
    for event, new in zip(events, stored):
        outcome = "unavailable" if new is None else "stored" if new else "redelivered"
        metrics.WEBHOOK_EVENTS.labels(event["type"][:32], outcome).inc()


def webhook_events(body: str) -> list[dict]:
    """The events of a webhook body, each with the fields the inbox keys and routes on.

    Only the envelope is checked here; the SDK's models are built by the worker that handles the
    event (building them costs more than storing it, and LINE is waiting for our answer).
    """
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        raise ValueError("no events list")
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("type"), str) or not event["type"]:
            raise ValueError("an event without a type")
        if event["type"] == "message" and not isinstance(event.get("message"), dict):
            raise ValueError("a message event without its message")
        event_id(event)  # the key that recognises a redelivery
    return events
