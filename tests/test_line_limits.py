"""The fake LINE API refuses what LINE refuses (issue 30, item 4): each documented limit, at its
edge, over real HTTP through the SDK, in LINE's error shape."""
from __future__ import annotations

import pytest

from bot.dev import line_limits, line_schema
from bot.line.gateway import LineGateway
from tests.conftest import ACCESS_TOKEN

OK_IMAGE = "https://tisi.example/qr/abc.png"


def text(t: str) -> dict:
    return {"type": "text", "text": t}


def bubble(**extra) -> dict:
    return {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [text("x")]}, **extra}


def flex(contents: dict, alt: str = "card") -> dict:
    return {"type": "flex", "altText": alt, "contents": contents}


def quick(n: int, label: str = "ok") -> dict:
    return {"items": [{"type": "action", "action": {"type": "message", "label": label, "text": "x"}}] * n}


def button(action: dict) -> dict:
    return bubble(footer={"type": "box", "layout": "vertical", "contents": [{"type": "button", "action": action}]})


@pytest.mark.parametrize("fine,refused,where", [
    ([text("ก" * 5000)], [text("ก" * 5001)], "messages[0].text"),
    ([text("😀" * 2500)], [text("😀" * 2501)], "messages[0].text"),  # UTF-16 units: each emoji is two
    ([text("a")] * 5, [text("a")] * 6, "messages"),
    ([flex(bubble(), "a" * 1500)], [flex(bubble(), "a" * 1501)], "messages[0].altText"),
    ([flex({"type": "carousel", "contents": [bubble()] * 12})], [flex({"type": "carousel", "contents": [bubble()] * 13})],
     "messages[0].contents.contents"),
    ([flex(bubble(body={"type": "box", "layout": "vertical", "contents": [text("a" * 29000)]}))],
     [flex(bubble(body={"type": "box", "layout": "vertical", "contents": [text("a" * 31000)]}))], "messages[0].contents"),
    ([{**text("a"), "quickReply": quick(13)}], [{**text("a"), "quickReply": quick(14)}], "messages[0].quickReply.items"),
    ([{**text("a"), "quickReply": quick(1, "ก" * 20)}], [{**text("a"), "quickReply": quick(1, "ก" * 21)}],
     "messages[0].quickReply.items[0].action.label"),
    ([flex(button({"type": "postback", "label": "x", "data": "d" * 300}))],
     [flex(button({"type": "postback", "label": "x", "data": "d" * 301}))], "action.data"),
    ([flex(button({"type": "uri", "label": "x", "uri": "https://a.example/" + "u" * 980}))],
     [flex(button({"type": "uri", "label": "x", "uri": "https://a.example/" + "u" * 990}))], "action.uri"),
    ([{"type": "image", "originalContentUrl": OK_IMAGE, "previewImageUrl": OK_IMAGE}],
     [{"type": "image", "originalContentUrl": "http://tisi.example/qr/abc.png", "previewImageUrl": OK_IMAGE}],
     "originalContentUrl"),
    ([{"type": "image", "originalContentUrl": OK_IMAGE, "previewImageUrl": "https://t.example/" + "p" * 1970}],
     [{"type": "image", "originalContentUrl": OK_IMAGE, "previewImageUrl": "https://t.example/" + "p" * 1990}],
     "previewImageUrl"),
])
@pytest.mark.refusals_expected
def test_each_limit_at_its_edge(fake_line, fine, refused, where):
    assert line_limits.problems(fine) == []
    found = line_limits.problems(refused)
    assert found and any(where in d["property"] for d in found), found
    if where == "messages":
        return  # our gateway never sends more than five (bot.line.gateway): nothing to send over HTTP
    gateway = LineGateway(fake_line.url, ACCESS_TOKEN)
    for token, messages, accepted in (("tok-fine", fine, True), ("tok-refused", refused, False)):
        fake_line.issue_reply_token(token)
        outcome = gateway.reply(token, messages)
        assert outcome.delivered is accepted, outcome.describe()
        if not accepted:
            assert outcome.status == 400 and "The request body has" in outcome.detail and where in outcome.detail


def test_images_on_this_machine_may_be_http():
    local = {"type": "image", "originalContentUrl": "http://127.0.0.1:8080/qr/a.png",
             "previewImageUrl": "http://localhost:8080/qr/a.png"}
    assert line_limits.problems([local]) == []


LONG_NAME = "บริษัท " + "ไทยอุตสาหกรรมเหล็กกล้าและโลหะการผลิต" * 6  # near the CSV's 255 characters
LONG_TEXT = "ค่าธรรมเนียมใบอนุญาตให้ทำผลิตภัณฑ์อุตสาหกรรมที่มีพระราชกฤษฎีกากำหนดให้ต้องเป็นไปตามมาตรฐาน " * 20


@pytest.mark.parametrize("say", ["{inv}", "ขอชำระ {inv} ครับ", "pay {inv} please", "ท 5137-2/10", "license ท5137-2/10",
                                 "ประวัติการชำระ", "history", "วิธีใช้", "help", "ติดตาม ท5137-2/10",
                                 "subscribe ท5137-2/10", "ใบอนุญาตของฉัน", "ขอใบเสร็จ {inv}", "ติดต่อเจ้าหน้าที่"])
def test_what_the_bot_says_with_the_longest_fields_is_what_line_takes(line, seed, fake_line, say):
    """Every answer below goes through the fake, which refuses what LINE refuses: an answer LINE
    would refuse leaves the user with none, and the test with an empty reply."""
    rows = seed(*[{**_row(i), "payer_name": LONG_NAME[:255], "description": LONG_TEXT[:2000]} for i in range(1, 15)])
    messages = line.say(say.format(inv=rows[0]["invoice_no"]))
    assert messages, [a["step"] for a in fake_line.reply_attempts]
    assert line_limits.problems(messages) == []
    assert line_schema.problems("ReplyMessageRequest", {"replyToken": "t", "messages": messages}) == []


def _row(i: int) -> dict:
    from tests.conftest import invoice_row

    return invoice_row(i)


# -- LINE's OpenAPI document (line/line-openapi messaging-api.yml) ---------------------------------
@pytest.mark.parametrize("message,where", [
    ({"type": "textual", "text": "x"}, "messages[0].type"),  # no such message type
    ({"type": "text"}, "messages[0]"),  # text is required
    (flex({"type": "bubble", "body": {"type": "box", "layout": "diagonal", "contents": []}}),
     "messages[0].contents.body.layout"),
    (flex({"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [{"type": "txt", "text": "x"}]}}),
     "messages[0].contents.body.contents[0].type"),
    (flex({"type": "bubble", "footer": {"type": "box", "layout": "vertical", "contents": [{"type": "button"}]}}),
     "messages[0].contents.footer.contents[0]"),  # a button without its action
    ({**text("x"), "quickReply": {"items": [{"type": "action", "action": {"type": "telepathy"}}]}},
     "messages[0].quickReply.items[0].action.type"),
    (flex({"type": "carousel", "contents": "not a list"}), "messages[0].contents.contents"),
])
@pytest.mark.refusals_expected
def test_what_breaks_lines_openapi_document_is_refused_in_lines_error_shape(fake_line, message, where):
    """Checked against LINE's own OpenAPI document, over HTTP through the SDK; the same body
    without the fault passes."""
    found = line_schema.problems("ReplyMessageRequest", {"replyToken": "t", "messages": [message]})
    assert found and all(where in d["property"] for d in found), found
    fake_line.issue_reply_token("tok-schema")
    outcome = LineGateway(fake_line.url, ACCESS_TOKEN).reply("tok-schema", [message])
    assert not outcome.delivered and outcome.status == 400 and "The request body has" in outcome.detail
    assert fake_line.refusals and fake_line.refusals[-1]["schema"] == "ReplyMessageRequest"


def test_the_document_and_its_translation_are_lines():
    """The vendored file is LINE's (its licence beside it), every discriminated type is dispatched,
    and a well-formed message of each kind we send passes."""
    assert (line_schema.DOCUMENT.parent / "LICENSE").read_text().startswith(" " * 10 + "Apache License") or \
        "Apache License" in (line_schema.DOCUMENT.parent / "LICENSE").read_text()[:200]
    fine = [text("สวัสดี"), {"type": "image", "originalContentUrl": OK_IMAGE, "previewImageUrl": OK_IMAGE},
            flex(button({"type": "postback", "label": "จ่าย", "data": "a=1", "displayText": "จ่าย"})),
            flex({"type": "carousel", "contents": [bubble(), bubble()]}),
            {**text("x"), "quickReply": quick(13)}]
    assert line_schema.problems("PushMessageRequest", {"to": "U" + "0" * 32, "messages": fine}) == []
    assert line_schema.problems("PushMessageRequest", {"messages": fine}) == [
        {"message": '"to" is a required property', "property": "(body)"}]


@pytest.mark.parametrize("lang", ["th", "en"])
def test_every_push_with_the_longest_fields_is_what_line_takes(line, seed, bank, fake_line, lang):
    """Asked about (so subscribed to the paid notice), paid, reversed, paid again: the paid
    notice, the receipt link, the reversal notice, in Thai and English, with the longest payer
    name and description the CSV allows; each push as sent passes LINE's document and limits."""
    rows = seed(*[{**_row(i), "payer_name": LONG_NAME[:255], "description": LONG_TEXT[:2000]} for i in (1, 2)])
    line.say(("pay " if lang == "en" else "ขอชำระ ") + rows[0]["invoice_no"])
    line.say("ติดตาม ท5137-2/10" if lang == "th" else "subscribe ท5137-2/10")
    for body in (bank.body("payment", rows[0]), bank.body("reversal", rows[0]), bank.body("payment", rows[1])):
        assert bank.post(body).status_code == 200
    assert fake_line.wait_for(lambda f: len(f.pushes()) >= 2), fake_line.refusals
    for push in fake_line.pushes():
        assert line_schema.problems("PushMessageRequest", {"to": push.to, "messages": push.messages}) == []
        assert line_limits.problems(push.messages) == []
    assert fake_line.refusals == []
