"""The smallest correct LINE bot, the baseline of the webhook benchmark.

line-bot-sdk v3 WebhookHandler with its signature check, and an echo reply through
MessagingApi to the same fake LINE API. Same gunicorn settings as ours.
"""
import os

from flask import Flask, abort, request
from linebot.v3 import WebhookHandler
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    MessagingApi,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.webhooks import MessageEvent, TextMessageContent

app = Flask(__name__)
handler = WebhookHandler(os.environ["LINE_CHANNEL_SECRET"])
configuration = Configuration(host=os.environ["LINE_API_URL"], access_token=os.environ["LINE_CHANNEL_ACCESS_TOKEN"])
_api = None


def api() -> MessagingApi:
    global _api
    if _api is None:  # after the fork, like ours
        _api = MessagingApi(ApiClient(configuration))
    return _api


@app.post("/callback")
def callback():
    signature = request.headers.get("X-Line-Signature")
    if not signature:
        abort(400)
    try:
        handler.handle(request.get_data(as_text=True), signature)
    except InvalidSignatureError:
        abort(400)
    return "OK"


@handler.add(MessageEvent, message=TextMessageContent)
def echo(event):
    api().reply_message(ReplyMessageRequest(reply_token=event.reply_token, messages=[TextMessage(text=event.message.text)]))
