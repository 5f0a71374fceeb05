"""Issue 31's conversation, walked in the demo's simulator in Debian's Chromium: "paid but not
showing" answered before the QR; an English sentence with a Thai license number answered in
English; the user's own receipts, and nothing of the payer's for someone else; a conversation with
staff — one acknowledgement (with "จบการสนทนา" under it), the rich menu still answered, ended by
the user. Screenshots
in tests/artifacts/."""
from __future__ import annotations

import re

import pytest

from tests.conftest import drain
from tests.test_browser import _shot, _simulator, browser  # noqa: F401

pytestmark = pytest.mark.slow


def _say(page, text: str) -> None:
    page.fill("#t", text)
    page.press("#t", "Enter")


def test_the_conversation_in_the_simulator(browser, demo_server):  # noqa: F811
    base, rows, app = demo_server
    fake = app.extensions["simulator"]["fake"]
    first, other = rows[0], rows[2]  # unpaid: a license fee, and an inspection under license ส1234-5/67
    context, page, problems = _simulator(browser, base)

    # 5. "Paid but it still shows unpaid": what happens next first, the QR after, and not to pay twice.
    _say(page, f"โอนแล้วแต่ยังไม่ขึ้นค่ะ {first['invoice_no']}")
    told = page.locator(".bot", has_text="กรุงไทยจะยืนยัน").first
    told.wait_for(timeout=15000)
    page.locator(".bot", has_text="กรุณาอย่าชำระซ้ำ").first.wait_for(timeout=15000)
    order = page.evaluate("""() => [...document.querySelectorAll('#chat > *')].map(e =>
        e.classList.contains('fx-bubble') ? 'card' : e.querySelector && e.querySelector('img.qr') ? 'qr'
        : e.textContent.includes('กรุงไทยจะยืนยัน') ? 'first' : e.textContent.includes('กรุณาอย่าชำระซ้ำ') ? 'last' : '')
        .filter(Boolean)""")
    assert order[-4:] == ["first", "card", "qr", "last"], order
    assert page.locator("#quick button", has_text="ส่งรูปสลิป").count() == 1
    _shot(page, "30-simulator-paid-but-not-showing")

    # 3. An English sentence naming a Thai license: answered in English.
    _say(page, f"what is the status of {other['license_no']} please")
    page.locator(".fx-bubble", has_text="Amount due").first.wait_for(timeout=15000)
    _shot(page, "31-simulator-english-with-a-thai-license")

    # 2. Paid: "ขอใบเสร็จ" without a number lists the user's own receipts, each with its button.
    page.locator("button.pay").first.click()
    page.locator(".push").first.wait_for(timeout=15000)
    _say(page, "ขอใบเสร็จค่ะ")
    mine = page.locator(".bot", has_text="ใบเสร็จรับเงินของท่านในแชทนี้")
    mine.first.wait_for(timeout=15000)
    page.locator(".fx-bubble button", has_text="ใบเสร็จ").last.wait_for(timeout=15000)
    _shot(page, "32-simulator-my-receipts")

    # ...someone else asking for that receipt is asked for the slip's bank reference, and sees no payer.
    page.click("#restart")
    page.locator(".bot", has_text="ยินดีต้อนรับ").first.wait_for(timeout=15000)
    _say(page, f"ขอใบเสร็จ {first['invoice_no']}")
    asked = page.locator(".bot", has_text="เลขอ้างอิงธนาคาร").first
    asked.wait_for(timeout=15000)
    assert first["payer_name"] not in page.inner_text("#chat")
    _shot(page, "33-simulator-receipt-for-someone-else")

    # 1. A person: one acknowledgement for what goes to staff, the rich menu still answered, ended
    # by the user.
    _say(page, "ติดต่อเจ้าหน้าที่ค่ะ")
    page.locator(".bot", has_text="เจ้าหน้าที่").last.wait_for(timeout=15000)
    _say(page, "รบกวนโทรกลับเรื่องใบเสร็จด้วยค่ะ")
    page.locator(".bot", has_text="ส่งข้อความของท่านถึงเจ้าหน้าที่แล้ว").first.wait_for(timeout=15000)
    assert page.locator("#quick button", has_text="จบการสนทนา").count() == 1  # under the acknowledgement
    _say(page, "เบอร์ 081-234-5678 นะคะ")
    page.locator("#menu").wait_for(state="visible", timeout=15000)
    page.get_by_role("button", name="ประวัติการชำระ", exact=True).click()
    page.locator(".fx-bubble, .bot", has_text=re.compile("ประวัติการชำระ|ยังไม่มีการชำระ")).first.wait_for(timeout=15000)
    assert page.locator(".bot", has_text="ส่งข้อความของท่านถึงเจ้าหน้าที่แล้ว").count() == 1  # once
    assert page.locator(".bot", has_text="มี 16 หลัก").count() == 0  # the phone number went to staff
    _shot(page, "34-simulator-staff-conversation")
    with page.expect_response("**/simulator/send"):  # stored by the app when this returns
        _say(page, "ยังอยู่ไหมคะ")  # for staff: acknowledged already, so no answer
    drain(app)  # handled: a second acknowledgement would have been sent by now
    assert sum("ส่งข้อความของท่านถึงเจ้าหน้าที่แล้ว" in str(sent.messages) for sent in fake.since(0)) == 1
    _say(page, "จบการสนทนา")
    page.locator(".bot", has_text="ท่านจบการสนทนากับเจ้าหน้าที่").first.wait_for(timeout=15000)
    _shot(page, "35-simulator-chat-ended")
    assert problems == []
    context.close()
