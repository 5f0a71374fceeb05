"""POST /callback through Flask's real routing, signed as LINE signs; replies caught by the
fake LINE API over real HTTP through line-bot-sdk."""
import json

import pytest
from sqlalchemy import func, select

from bot.data.models import InboxEvent, LineUser, Watch
from tests.conftest import (
    OTHER_USER,
    USER,
    fresh,
    invoice_row,
    past,
    sample_event,
    sample_events,
    text_event,
)

INV = "2568110400012345"


def _texts(messages):
    return [m["text"] for m in messages if m["type"] == "text"]


def _count(db, model):
    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


# -- signature and shape ---------------------------------------------------------------------
def test_missing_signature_is_400(line, fake_line):
    response = line.post([text_event(INV)], signature="")
    assert response.status_code == 400
    assert response.get_json()["error"] == "missing_signature"
    assert fake_line.replies() == []


def test_wrong_signature_is_400_and_changes_nothing(line, db, fake_line):
    response = line.post([text_event(INV)], secret="not-the-channel-secret")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_signature"
    assert _count(db, InboxEvent) == 0 and _count(db, LineUser) == 0
    assert fake_line.replies() == []


@pytest.mark.parametrize("raw", [b"not json", b"{}", b'{"events": "x"}', b"[]", b'{"events": [{"type": "message"}]}'])
def test_body_that_is_not_a_webhook_is_400(line, raw):
    response = line.post([], raw=raw)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_webhook"


def test_empty_event_list_is_200(line):
    assert line.post([]).status_code == 200  # the console's Verify button


def test_every_sample_event_alone_and_as_one_batch(line, fake_line):
    events = [fresh(e, user_id=None) for e in sample_events()]
    for event in events:
        assert line.post([event]).status_code == 200, event["type"]
    batch = [fresh(e, user_id=None) for e in sample_events()]
    assert line.post(batch).status_code == 200


def test_redelivered_event_is_handled_once(line, fake_line, seed, db):
    seed(invoice_row(12345, invoice_no=INV))
    event = text_event(INV)
    assert line.post([event]).status_code == 200
    redelivery = json.loads(json.dumps(event))
    redelivery["deliveryContext"]["isRedelivery"] = True
    assert line.post([redelivery]).status_code == 200
    assert line.post([event]).status_code == 200
    assert len(fake_line.replies()) == 1
    assert _count(db, InboxEvent) == 1


# -- invoices ---------------------------------------------------------------------------------
def test_thai_invoice_message_gets_card_and_payable_qr(line, seed, db):
    seed(invoice_row(12345, invoice_no=INV, amount="36000.50", due_date="2099-12-04", fee_code="INSPECTION"))
    messages = line.say("ขอชำระใบแจ้งหนี้ ๒๕๖๘๑๑๐๔๐๐๐๑๒๓๔๕ ครับ")
    assert [m["type"] for m in messages] == ["flex", "image"]
    card = json.dumps(messages[0], ensure_ascii=False)
    assert "ค่าตรวจประเมิน" in card  # fee in Thai
    assert "36,000.50 บาท" in card
    assert "4 ธันวาคม 2642" in card  # 2099 + 543
    assert "รอชำระ" in card
    assert "บริษัท ไทยอุตส" in card and "ไทยอุตสาหกรรมเหล็ก" not in card  # payer partly masked
    assert INV in card and "681112345" in card  # Ref1 and Ref2
    image = messages[1]
    assert image["originalContentUrl"].startswith("http://127.0.0.1:8080/qr/")
    assert image["originalContentUrl"].endswith(".png")
    assert INV not in image["originalContentUrl"]  # the token reveals nothing
    assert messages[-1]["quickReply"]["items"]
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Watch).where(Watch.invoice_id.is_not(None))) == 1


def test_english_user_gets_english_card(line, seed):
    seed(invoice_row(1, invoice_no=INV, due_date="2099-01-15"))
    line.say("English")
    messages = line.say(f"pay {INV}")
    card = json.dumps(messages[0])
    assert "License fee" in card and "1,000.00 baht" in card and "15 January 2099" in card


@pytest.mark.parametrize("status_setup, expected", [
    ("expired", "เกินกำหนดชำระ"),
    ("cancelled", "ยกเลิกแล้ว"),
    ("paid", "ชำระแล้ว"),
])
def test_not_payable_invoices_show_state_without_qr(line, seed, db, status_setup, expected):
    from bot.core.dates import utcnow
    from bot.data.models import Invoice

    seed(invoice_row(1, invoice_no=INV, due_date=past(3) if status_setup == "expired" else "2099-01-01"))
    if status_setup != "expired":
        with db.transaction() as s:
            inv = s.scalar(select(Invoice).where(Invoice.invoice_no == INV))
            inv.status = status_setup
            inv.paid_at = utcnow() if status_setup == "paid" else None
    messages = line.say(INV)
    assert [m["type"] for m in messages] == ["flex"]
    assert expected in json.dumps(messages[0], ensure_ascii=False)


def test_unknown_invoice_says_so(line):
    texts = _texts(line.say("2568110499999999"))
    assert "ไม่พบใบแจ้งหนี้เลขที่ 2568110499999999" in texts[0]


# -- licenses ---------------------------------------------------------------------------------
def test_license_with_one_unpaid_invoice_shows_it_directly(line, seed):
    seed(invoice_row(1, license_no="ส1234-5/67"))
    messages = line.say("ใบอนุญาต ส 1234-5/67")
    assert [m["type"] for m in messages] == ["flex", "image"]


def test_license_with_several_unpaid_invoices_gives_a_carousel_whose_buttons_work(line, seed, fake_line):
    seed(invoice_row(1), invoice_row(2, amount="500.00"), invoice_row(3, due_date=past(1)))
    messages = line.say("ท 5137-2/10")
    assert messages[0]["type"] == "text" and "2 รายการ" in messages[0]["text"]
    carousel = messages[1]["contents"]
    assert carousel["type"] == "carousel" and len(carousel["contents"]) == 2
    action = carousel["contents"][1]["footer"]["contents"][0]["action"]
    assert action["type"] == "postback"
    postback = fresh(sample_event("postback"))
    postback["postback"] = {"data": action["data"]}
    assert line.post([postback]).status_code == 200
    reply = line.reply_to(postback["replyToken"])
    assert [m["type"] for m in reply] == ["flex", "image"]
    assert "500.00" in json.dumps(reply[0])


def test_license_without_unpaid_invoices_says_so(line):
    assert "ไม่มีใบแจ้งหนี้ที่รอชำระ" in _texts(line.say("ท 9999-1/10"))[0]


def test_forged_postback_data_is_harmless(line):
    postback = fresh(sample_event("postback"))
    postback["postback"] = {"data": "action=invoice&no=' OR 1=1 --"}
    assert line.post([postback]).status_code == 200
    assert line.reply_to(postback["replyToken"])[0]["type"] == "text"


# -- conversation -----------------------------------------------------------------------------
def test_help_in_thai_by_default(line):
    assert "ตัวอย่าง" in _texts(line.say("วิธีใช้"))[0]


def test_language_switch_is_kept_per_user(line, db):
    assert _texts(line.say("English"))[0] == "Language set to English."
    assert "Examples" in _texts(line.say("help"))[0]
    assert "ตัวอย่าง" in _texts(line.say("วิธีใช้", user_id=OTHER_USER))[0]  # the other user stays Thai
    assert "Examples" in _texts(line.say("วิธีใช้"))[0]  # a chosen language holds whatever is written
    assert _texts(line.say("ภาษาไทย"))[0] == "เปลี่ยนเป็นภาษาไทยแล้ว"
    assert "ตัวอย่าง" in _texts(line.say("How do I pay my TISI invoice?"))[0]
    with db.sessions() as s:
        assert s.scalar(select(LineUser.language).where(LineUser.user_id == USER)) == "th"


def test_a_user_who_never_chose_is_answered_in_the_language_of_the_message(line, seed, db):
    seed(invoice_row(12345, invoice_no=INV))
    assert "Examples" in _texts(line.say("How do I pay my TISI invoice?"))[0]
    assert "ตัวอย่าง" in _texts(line.say("วิธีใช้ครับ"))[0]
    assert "Invoice no. (Ref.1)" in json.dumps(line.say(f"please show invoice {INV}"))
    # Digits alone say nothing: the last language seen holds, and later pushes follow it.
    assert "Invoice no. (Ref.1)" in json.dumps(line.say(INV))
    with db.sessions() as s:
        user = s.scalar(select(LineUser).where(LineUser.user_id == USER))
        assert (user.language, user.language_chosen) == ("en", False)
    assert "เลขที่ใบแจ้งหนี้" in json.dumps(line.say(f"ขอดู {INV}"), ensure_ascii=False)


def test_follow_greets_and_unfollow_is_remembered(line, db):
    follow = fresh(sample_event("follow"))
    assert line.post([follow]).status_code == 200
    greeting = line.reply_to(follow["replyToken"])
    assert "ยินดีต้อนรับ" in greeting[0]["text"]
    unfollow = fresh(sample_event("unfollow"))
    assert line.post([unfollow]).status_code == 200
    with db.sessions() as s:
        assert s.scalar(select(LineUser.followed).where(LineUser.user_id == USER)) is False


@pytest.mark.parametrize("kind", ["sticker", "image", "audio", "location", "file", "video"])
def test_non_text_messages_get_a_polite_ask(line, kind):
    event = fresh(sample_event("message", kind))
    assert line.post([event]).status_code == 200
    assert "พิมพ์เลขที่ใบแจ้งหนี้" in line.reply_to(event["replyToken"])[0]["text"]


@pytest.mark.parametrize("text", ["x" * 5000, "ก" * 5000, "😀" * 2500, "🙏", "'; DROP TABLE invoices; --",
                                  "<script>alert(1)</script>", "\u200b\u200b", "%(amount)s {{rows}}", "ท 5137-2/10" * 400])
def test_bad_input_gets_a_clear_answer_and_changes_nothing(line, seed, db, text):
    seed(invoice_row(1))
    messages = line.say(text)
    assert messages, "every message gets an answer"
    assert all(m["type"] in ("text", "flex", "image") for m in messages)
    from bot.data.models import Invoice

    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Invoice)) == 1
        assert s.scalar(select(Invoice.status)) == "unpaid"
