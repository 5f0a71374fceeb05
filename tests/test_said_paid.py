""""I transferred yesterday but it still shows unpaid" (issue 31, item 5): what happens next comes
first (the bank confirms within minutes, the user will be told, where to follow it, the e-slip,
staff); the card and QR after, with a line not to pay twice. A question ("paid yet?") is not a
claim, and a paid invoice just shows its card."""
from __future__ import annotations

import json

import pytest

from bot.core.textparse import parse_message
from tests.conftest import invoice_row

INV = "2568110400012345"


@pytest.mark.parametrize("message, claim", [
    (f"โอนแล้วเมื่อวานแต่ยังขึ้นว่าค้างชำระ {INV}", True),
    (f"จ่ายไปแล้วนะคะ {INV} ทำไมยังไม่ขึ้น", True),
    (f"ชำระเงินแล้วครับ เลขที่ {INV}", True),
    (f"สแกนจ่ายแล้ว {INV} ค่ะ", True),
    (f"I transferred yesterday but it still shows unpaid {INV}", True),
    (f"already paid {INV}", True), (f"{INV} paid already, why unpaid", True),
    (f"{INV} ชำระแล้วหรือยังครับ", False), (f"{INV} จ่ายแล้วยังคะ", False), (f"is {INV} paid?", False),
    (f"ชำระ {INV}", False), (f"โอน {INV}", False), (f"เช็คสถานะ {INV}", False),
])
def test_a_claim_of_payment_is_told_from_a_question(message, claim):
    assert parse_message(message).says_paid is claim


def test_said_paid_while_unpaid_says_what_happens_next_first(line, seed, fake_line):
    seed(invoice_row(1, invoice_no=INV, due_date="2099-01-15"))
    messages = line.say(f"โอนแล้วเมื่อวานแต่ยังขึ้นว่าค้างชำระ {INV}")
    assert [m["type"] for m in messages] == ["text", "flex", "image", "text"]
    first, last = messages[0]["text"], messages[-1]["text"]
    assert "กรุงไทยจะยืนยัน" in first and "แจ้งท่านในแชทนี้" in first and "/track/" in first
    assert "สลิป" in first and "เจ้าหน้าที่" in first
    assert "กรุณาอย่าชำระซ้ำ" in last
    actions = [i["action"] for i in messages[-1]["quickReply"]["items"]]
    assert {"type": "cameraRoll", "label": "📷 ส่งรูปสลิป"} in actions
    assert any(a.get("text") == "ติดต่อเจ้าหน้าที่" or "เจ้าหน้าที่" in a.get("label", "") for a in actions)


def test_in_english_too(line, seed):
    seed(invoice_row(1, invoice_no=INV, due_date="2099-01-15"))
    messages = line.say(f"I transferred yesterday but it still shows unpaid {INV}")
    assert "Krungthai confirms the payment" in messages[0]["text"] and "do not pay twice" in messages[-1]["text"]


def test_the_user_who_said_it_gets_the_paid_notice(line, seed, bank, fake_line):
    row = seed(invoice_row(1, invoice_no=INV, due_date="2099-01-15"))[0]
    line.say(f"already paid {INV}")
    assert bank.post(bank.body("payment", row)).status_code == 200
    assert fake_line.wait_for(lambda f: len(f.pushes()) == 1)
    assert "1,000.00" in json.dumps(fake_line.pushes()[0].messages, ensure_ascii=False)


@pytest.mark.parametrize("state", ["paid", "unknown"])
def test_a_paid_or_unknown_invoice_gets_its_usual_answer(line, seed, bank, state):
    if state == "paid":
        row = seed(invoice_row(1, invoice_no=INV, due_date="2099-01-15"))[0]
        assert bank.post(bank.body("payment", row)).status_code == 200
    messages = line.say(f"โอนแล้วครับ {INV}")
    said = json.dumps(messages, ensure_ascii=False)
    assert "กรุณาอย่าชำระซ้ำ" not in said
    assert ("ชำระแล้ว" in said) if state == "paid" else ("ไม่พบใบแจ้งหนี้" in said)


@pytest.mark.parametrize("message, lang", [("โอนเงินแล้วค่ะ แต่ยังขึ้นค้างชำระ", "th"),
                                           ("i already paid but it still says unpaid", "en")])
def test_a_claim_without_the_number_asks_for_it_or_the_slip(line, message, lang):
    messages = line.say(message)
    said = messages[0]["text"]
    assert ("ระบบจะแจ้งท่าน" in said and "สลิป" in said) if lang == "th" else ("e-slip" in said and "16-digit" in said)
    actions = [i["action"] for i in messages[-1]["quickReply"]["items"]]
    assert any(a.get("type") == "cameraRoll" for a in actions)  # a photo of the e-slip, at once
    assert any("เจ้าหน้าที่" in a.get("label", "") or "staff" in a.get("label", "").lower() for a in actions)
