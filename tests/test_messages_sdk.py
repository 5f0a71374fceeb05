"""Every message shape the bot sends is valid for line-bot-sdk's models, which is what lets
bot/line/gateway.py hand the SDK our wire JSON without re-serialising it through the models."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from linebot.v3.messaging.models import Message, PushMessageRequest, ReplyMessageRequest

from bot.core.i18n import Translator
from bot.data.models import Invoice, Payment, Subscription
from bot.render.messages import (
    Links,
    consent_sentence,
    help_text,
    invoice_messages,
    license_choices,
    payment_history,
    proactive_messages,
    receipt,
    subscriptions_list,
    text,
    with_quick_replies,
)


def _invoice(n=1, status="unpaid", due=date(2099, 1, 1)):
    return Invoice(invoice_no=f"256811040000000{n}", ref2="68110001", license_no="ท5137-2/10", tax_id="0105550123451",
                   payer_name="บริษัท \"ไทย\" {อุตสาหกรรม} จำกัด", fee_code="INSPECTION", description="ค่าตรวจ",
                   amount=Decimal("36000.50"), due_date=due, status=status, public_id=f"pid{n}",
                   paid_at=datetime(2026, 11, 25, 7, 30, tzinfo=timezone.utc) if status == "paid" else None)


LINKS = Links(qr_url=lambda i: f"https://pay.example/qr/{i.public_id}.png", track_url=lambda i: f"https://pay.example/track/{i.public_id}",
              slip_url=lambda i: f"https://pay.example/slip/{i.public_id}.pdf")
PAYMENT = Payment(bank_code="006", bank_ref="KTB1", amount=Decimal("36000.50"), channel="QR",
                  transacted_at=datetime(2026, 11, 25, 7, 30, tzinfo=timezone.utc),
                  reversed_at=datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc))


def _all_messages(lang):
    t = Translator(lang)
    out = []
    for status, due in (("unpaid", date(2099, 1, 1)), ("unpaid", date(2000, 1, 1)), ("paid", date(2099, 1, 1)),
                        ("cancelled", date(2099, 1, 1))):
        out += invoice_messages(_invoice(status=status, due=due), t, LINKS)
    out += license_choices("ท5137-2/10", [_invoice(n) for n in range(1, 15)], t)
    out += with_quick_replies([text(help_text(t))], t, invoice_no="2568110400000001")
    out += [receipt(_invoice(), PAYMENT, t, reversed_=False), receipt(_invoice(), PAYMENT, t, reversed_=True)]
    out += with_quick_replies([text(consent_sentence("ท5137-2/10", (7, 1), t))], t, subscribe="ท5137-2/10")
    out += with_quick_replies([text("x")], t, subscribe="2568110400000001", invoice_no="2568110400000001")
    subs = [Subscription(id=i, license_no=f"ท{i}-1/10", created_at=datetime(2026, 11, 25, tzinfo=timezone.utc))
            for i in range(1, 21)]  # as many as a user may have
    out.append(subscriptions_list(subs, t))
    reversed_payment = Payment(**{c: getattr(PAYMENT, c) for c in ("bank_code", "bank_ref", "amount", "channel",
                                                                      "transacted_at")}, status="reversed")
    out.append(payment_history([(PAYMENT, _invoice(n)) for n in range(1, 10)] + [(reversed_payment, _invoice())], t))
    for kind, days in (("new", 0), ("remind7", 7), ("remind1", 0), ("overdue", -1)):
        out += proactive_messages(kind, days, _invoice(), t, LINKS, "โทร 1169")
    return out


@pytest.mark.parametrize("lang", ["th", "en"])
def test_every_message_round_trips_through_the_sdk_models(lang):
    for message in _all_messages(lang):
        model = Message.from_dict(message)  # raises on anything the SDK would refuse
        assert model.to_dict() == message


@pytest.mark.parametrize("lang", ["th", "en"])
def test_requests_fit_lines_limits(lang):
    import json

    messages = _all_messages(lang)
    ReplyMessageRequest(reply_token="t", messages=[Message.from_dict(m) for m in messages[:5]])
    PushMessageRequest(to="U" + "0" * 32, messages=[Message.from_dict(m) for m in messages[-2:]])
    for m in messages:
        if m["type"] == "flex":
            size = len(json.dumps(m["contents"], ensure_ascii=False).encode())
            assert size < (50_000 if m["contents"]["type"] == "carousel" else 30_000)
            assert len(m["altText"]) <= 1500
        if m["type"] == "flex" and m["contents"]["type"] == "carousel":
            assert len(m["contents"]["contents"]) <= 12
        for item in m.get("quickReply", {}).get("items", []):
            assert len(item["action"]["label"]) <= 20


def test_wire_requests_send_exactly_our_json(fake_line):
    """Through the SDK's public ApiClient, the body LINE gets is ours as built, camelCase keys,
    and what the SDK's own models accept."""
    from linebot.v3.messaging import PushMessageRequest, ReplyMessageRequest

    from bot.line.gateway import LineGateway, _wire
    from tests.conftest import ACCESS_TOKEN

    messages = [text("สวัสดี")]
    assert _wire(reply_token="abc", messages=messages) == {"replyToken": "abc", "messages": messages}
    assert ReplyMessageRequest.from_dict(_wire(reply_token="abc", messages=messages)).reply_token == "abc"
    assert PushMessageRequest.from_dict(_wire(to="U1", messages=messages)).to == "U1"
    fake_line.issue_reply_token("tok1")
    gateway = LineGateway(fake_line.url, ACCESS_TOKEN)
    assert gateway.reply("tok1", messages).delivered
    assert gateway.push("U" + "c" * 32, messages, retry_key="0b9f2c1e-9d3a-4c4e-8f2a-1d2e3f4a5b6c").delivered
    [reply] = [s for s in fake_line.replies() if s.to == "tok1"]
    assert reply.messages == messages
    refused = gateway.reply("tok1", messages)  # used once already: LINE's 400, with its message
    assert refused.status == 400 and "Invalid reply token" in refused.detail
