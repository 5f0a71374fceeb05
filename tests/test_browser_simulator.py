"""The demo's LINE simulator in Debian's Chromium: a photo sent as LINE's app sends one (the QR the
bot just sent, the simulated bank's e-slip, a file chosen from the computer), fetched by the bot
from the fake LINE's content host and read; the conversation kept across reloads in this browser;
a push made while the page was closed shown when it opens again. Screenshots in tests/artifacts/."""
from __future__ import annotations

import pytest

from tests.conftest import drain
from tests.test_browser import _shot, _simulator, browser  # noqa: F401

pytestmark = pytest.mark.slow


def test_photos_reloads_and_pushes_while_closed(browser, demo_server, tmp_path):  # noqa: F811
    base, rows, app = demo_server
    fake = app.extensions["simulator"]["fake"]
    first, second = rows[0]["invoice_no"], rows[1]["invoice_no"]
    context, page, problems = _simulator(browser, base)

    # The QR the bot sends, sent back as a photo: the bot reads it and answers with that invoice's card.
    page.fill("#t", f"ขอ QR ใบแจ้งหนี้ {first}")
    page.press("#t", "Enter")
    page.locator("img.qr").first.wait_for(timeout=15000)
    cards = page.locator(".fx-bubble", has_text=first)
    cards.first.wait_for(timeout=15000)
    before = cards.count()
    page.locator("button.photo", has_text="ส่งรูป QR นี้").first.click()
    assert page.locator(".me", has_text="📷").count() == 1
    page.wait_for_function(f"() => [...document.querySelectorAll('.fx-bubble')].filter(b => b.innerText.includes('{first}')).length > {before}",
                           timeout=20000)
    _shot(page, "20-simulator-photo-of-the-qr")

    # Reloaded: the same conversation, not a new greeting.
    page.reload()
    page.locator(".me", has_text=f"ขอ QR ใบแจ้งหนี้ {first}").wait_for(timeout=5000)
    assert page.locator(".me", has_text="📷").count() == 1 and page.locator(".fx-bubble", has_text=first).count() > before
    page.locator("#menu").wait_for(state="visible", timeout=15000)  # the page's start-up is over
    drain(app)  # whatever it sent is answered: a second follow would have its greeting now
    assert sum("ยินดีต้อนรับ" in str(sent.messages) for sent in fake.since(0)) == 1
    assert page.locator(".bot", has_text="ยินดีต้อนรับ").count() == 1
    _shot(page, "21-simulator-after-reload")

    # Pay as the bank, then send the bank app's e-slip as a photo: the bot says it is paid.
    page.click("button.pay")
    page.locator(".push").first.wait_for(timeout=15000)
    page.locator("img.eslip-img").first.wait_for(timeout=5000)
    page.locator("button.photo", has_text="ส่งรูปสลิปนี้").first.click()
    page.locator(".bot, .fx-bubble", has_text="ชำระ").last.wait_for(timeout=20000)
    page.wait_for_function("() => document.querySelectorAll('.me').length >= 3")
    eslip_url = page.locator("img.eslip-img").first.get_attribute("src")

    # A file from the computer: the same e-slip, chosen with the 📷 button.
    slip = tmp_path / "my-slip.png"
    slip.write_bytes(context.request.get(base + eslip_url).body())
    answers_before = page.locator(".bot, .fx-bubble").count()
    page.set_input_files("#photo", str(slip))
    page.locator(".me", has_text="my-slip.png").wait_for(timeout=5000)
    page.wait_for_function(f"() => document.querySelectorAll('.bot, .fx-bubble').length > {answers_before}", timeout=20000)
    _shot(page, "22-simulator-eslip-photos")

    # The page closed; the user had subscribed to the second invoice. It is paid meanwhile: the
    # push waits in the feed and shows when the page is opened again.
    page.fill("#t", second)
    page.press("#t", "Enter")
    page.locator(".fx-bubble", has_text=second).first.wait_for(timeout=15000)
    page.locator("#quick button", has_text="🔔 แจ้งเตือน").click()
    page.locator(".bot", has_text="เปิดการแจ้งเตือน").last.wait_for(timeout=15000)
    drain(app)
    seen = fake.since(0)[-1].seq  # the page has shown everything sent so far before it closes
    page.wait_for_function(f"() => Number(localStorage.simSince) >= {seen}", timeout=15000)
    page.close()
    paid = context.request.post(f"{base}/simulator/pay", data={"invoiceNo": second})
    assert paid.ok and paid.json()["answer"]["respCode"] == "0000"
    page = context.new_page()
    page.goto(f"{base}/simulator")
    away = page.locator(".tag", has_text="ขณะปิดหน้านี้")
    away.first.wait_for(timeout=15000)
    assert page.locator(".push", has_text=second).count() >= 1
    _shot(page, "23-simulator-push-while-closed")

    # A new user starts an empty conversation.
    page.click("#restart")
    page.locator(".bot", has_text="ยินดีต้อนรับ").first.wait_for(timeout=15000)
    assert page.locator(".me").count() == 0
    assert problems == []
    context.close()
