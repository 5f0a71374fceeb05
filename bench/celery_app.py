"""The second baseline of the webhook benchmark (issue 17): a conventional durable LINE bot.

Flask + line-bot-sdk v3 check the signature and queue each event on Celery (Redis broker,
`acks_late`: an event taken by a worker that dies is delivered to another); Celery workers with
a thread pool sized for LINE's latency look the invoice up in the same database (SQLAlchemy) and
reply through line-bot-sdk's MessagingApi. As its users would configure it for I/O-bound work:
`celery -A bench.celery_app:celery worker --pool threads --concurrency 32`, prefetch of 1 per thread.
Its answer is a plain text (ours is a Flex card and a QR image): it is not made to look slower.
"""
from __future__ import annotations

import os
import re
import threading
from decimal import Decimal

from celery import Celery
from flask import Flask, abort, request
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, ReplyMessageRequest, TextMessage
from linebot.v3.webhooks import MessageEvent, TextMessageContent
from sqlalchemy import create_engine, text

BROKER = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
celery = Celery("tisi_baseline", broker=BROKER)
celery.conf.update(task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
                   task_ignore_result=True, broker_connection_retry_on_startup=True)

app = Flask(__name__)
parser = WebhookParser(os.environ.get("LINE_CHANNEL_SECRET", ""))
_local = threading.local()
_engine = None
_NUMBER = re.compile(r"[0-9]{16}")


@app.post("/callback")
def callback():
    signature = request.headers.get("X-Line-Signature")
    if not signature:
        abort(400)
    try:
        events = parser.parse(request.get_data(as_text=True), signature)
    except InvalidSignatureError:
        abort(400)
    for event in events:
        if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
            answer.delay(event.reply_token, event.message.text)
    return "OK"


def _api() -> MessagingApi:
    if not hasattr(_local, "api"):  # one client per thread (its connection pool is not shared)
        configuration = Configuration(host=os.environ["LINE_API_URL"],
                                      access_token=os.environ["LINE_CHANNEL_ACCESS_TOKEN"])
        _local.api = MessagingApi(ApiClient(configuration))
    return _local.api


def _db():
    global _engine
    if _engine is None:
        url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
        _engine = create_engine(url, pool_size=32, max_overflow=8)
    return _engine


@celery.task(acks_late=True)
def answer(reply_token: str, message: str) -> None:
    found = _NUMBER.search(message.replace("-", "").replace(" ", ""))
    reply = "Please send the 16-digit invoice number."
    if found:
        with _db().connect() as conn:
            row = conn.execute(text("SELECT invoice_no, amount, due_date, status FROM invoices WHERE invoice_no = :n"),
                               {"n": found.group()}).first()
        if row is None:
            reply = f"Invoice {found.group()} was not found."
        else:
            reply = f"Invoice {row.invoice_no}: {Decimal(row.amount) / 100:,.2f} baht, due {row.due_date}, {row.status}."
    _api().reply_message(ReplyMessageRequest(reply_token=reply_token, messages=[TextMessage(text=reply)]))
