"""A person in a real browser: Debian's Chromium driven by Playwright (no downloaded browser).

The demo app (SQLite, the simulator, the fake LINE API) serves on a real port; the browser types
an invoice number, sees the card and the QR, opens the tracking page, downloads the QR and the
pay-in slip, presses pay, sees the paid push, and reads the acknowledgement on screen and in
print. A screenshot of each step is kept in tests/artifacts/ (git-ignored). Any Content
Security Policy violation reported by the browser fails the test.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = pytest.mark.slow


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_pay_from_the_simulator_track_download_slip_and_print(browser, demo_server, tmp_path):
    base, rows, _ = demo_server
    invoice_no = rows[0]["invoice_no"]
    context = browser.new_context(accept_downloads=True, viewport={"width": 480, "height": 900}, locale="th-TH")
    violations: list[str] = []
    context.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    missing: list[str] = []  # a favicon or an asset the pages ask for and do not get
    context.on("response", lambda r: missing.append(r.url) if r.status == 404 and "/slip/" not in r.url else None)
    page = context.new_page()

    # 1. Type an invoice number: the card and the QR appear.
    sim = page.goto(f"{base}/simulator")
    assert "frame-ancestors 'none'" in sim.headers["content-security-policy"]
    assert sim.headers["x-content-type-options"] == "nosniff" and sim.headers["referrer-policy"] == "no-referrer"
    page.fill("#t", f"ขอชำระใบแจ้งหนี้ {invoice_no} ครับ")
    page.press("#t", "Enter")
    qr = page.locator("img.qr").first
    qr.wait_for(timeout=15000)
    page.wait_for_function("() => { const i = document.querySelector('img.qr'); return i && i.complete && i.naturalWidth > 0; }")
    card = page.locator(".fx-bubble").first
    assert card.inner_text().count(invoice_no) >= 1
    # Drawn as LINE draws Flex: the header block in its colour, the amount in xxl (29 px).
    assert card.locator(".fx-header").evaluate("e => getComputedStyle(e.firstChild).backgroundColor") == "rgb(27, 79, 156)"
    amount = card.locator(".fx-text", has_text="1,000.00")
    assert amount.evaluate("e => getComputedStyle(e).fontSize") == "29px"
    assert "ยอดที่ต้องชำระ" in card.inner_text() and "รอชำระ" in card.inner_text()
    _shot(page, "01-simulator-card-and-qr")
    page.locator("#quick button", has_text="🔔 แจ้งเตือน").click()  # consent, from the quick reply
    page.locator(".bot", has_text="เปิดการแจ้งเตือน").wait_for(timeout=15000)

    # 2. The card's tracking button opens the page: payable, with the QR and the slip link.
    with context.expect_page() as opened:
        page.get_by_role("button", name="ติดตามสถานะการชำระ").first.click()
    track = opened.value
    track.wait_for_load_state()
    assert "รอชำระ" in track.inner_text("#status")
    track.wait_for_function("() => document.getElementById('qr').naturalWidth > 0")  # allowed by the CSP
    _shot(track, "02-track-unpaid")
    with track.expect_download() as qr_download:
        track.click("#save-qr")
    assert qr_download.value.suggested_filename == f"tisi-qr-{invoice_no}.png"
    assert qr_download.value.path().read_bytes().startswith(b"\x89PNG")

    # 3. The slip link gives the PDF (Chromium opens it in its viewer: read what it received).
    with track.expect_response(lambda r: "/slip/" in r.url) as slip_response:
        track.click("#slip")
    answer = slip_response.value
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    slip = context.request.get(answer.url).body()  # the bytes, beside the viewer's page
    assert slip.startswith(b"%PDF-")
    assert f"tisi-payin-{invoice_no}.pdf" in answer.headers["content-disposition"]
    track.go_back()
    (ARTIFACTS / "03-slip.pdf").write_bytes(slip)
    import pypdfium2 as pdfium

    pdfium.PdfDocument(slip)[0].render(scale=1.5).to_pil().save(ARTIFACTS / "03-slip.png")

    # 4. Pay as the bank: the paid push appears in the chat.
    page.click("button.pay")
    page.locator(".push").first.wait_for(timeout=15000)
    assert "ชำระแล้ว" in page.locator(".push").first.inner_text() or "ชำระ" in page.locator(".push").first.inner_text()
    bank_answer = page.locator("pre.bank").first  # the bank's JSON answer stays inside the chat
    assert '"respCode": "0000"' in bank_answer.inner_text()
    chat_box, answer_box = page.locator("#chat").bounding_box(), bank_answer.bounding_box()
    assert answer_box["x"] + answer_box["width"] <= chat_box["x"] + chat_box["width"]
    _shot(page, "04-simulator-paid-push")

    # 4-. The paid push's "ใบเสร็จรับเงิน" button opens the signed receipt (a test certificate in the demo).
    with context.expect_page() as opened:
        page.locator(".push").first.get_by_role("button", name="ใบเสร็จรับเงิน").click()
    viewer = opened.value
    viewer.wait_for_load_state()
    assert "/receipt/" in viewer.url
    answer = context.request.get(viewer.url)
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    receipt = answer.body()
    assert receipt.startswith(b"%PDF-") and b"/ByteRange" in receipt  # signed
    assert "TISI-25" in answer.headers["content-disposition"]
    (ARTIFACTS / "04-receipt.pdf").write_bytes(receipt)
    pdfium.PdfDocument(receipt)[0].render(scale=1.3).to_pil().save(ARTIFACTS / "04-receipt.png")
    viewer.close()

    # 4a. The card in each state: paid says what was paid, an expired one the invoice's amount.
    page.fill("#t", invoice_no)
    page.press("#t", "Enter")
    paid_card = page.locator(".fx-bubble", has_text="ชำระแล้วเมื่อ").last
    paid_card.wait_for(timeout=15000)
    assert "ยอดที่ต้องชำระ" not in paid_card.inner_text() and "1,000.00 บาท" in paid_card.inner_text()
    expired_no = next(r["invoice_no"] for r in rows if r["due_date"] < rows[0]["due_date"] and "หมดอายุ" in r["description"])
    page.fill("#t", expired_no)
    page.press("#t", "Enter")
    expired_card = page.locator(".fx-bubble", has_text=expired_no).last
    expired_card.wait_for(timeout=15000)
    assert "ยอดตามใบแจ้งหนี้" in expired_card.inner_text() and "เกินกำหนดชำระ" in expired_card.inner_text()
    assert "ยอดที่ต้องชำระ" not in expired_card.inner_text()
    _shot(page, "04a-simulator-card-states")

    # 4b. The rich menu, as deployed by `tisi-pay richmenu deploy`: its buttons work.
    page.locator("#menu").wait_for(state="visible", timeout=15000)
    page.wait_for_function("() => document.getElementById('menu-img').naturalWidth === 2500")
    page.get_by_role("button", name="ประวัติการชำระ", exact=True).click()
    page.locator(".fx-bubble", has_text="ประวัติการชำระ").wait_for(timeout=15000)
    assert invoice_no in page.locator(".fx-bubble", has_text="ประวัติการชำระ").inner_text()
    page.get_by_role("button", name="ใบอนุญาตของฉัน", exact=True).click()
    page.locator(".fx-bubble", has_text="หยุดแจ้งเตือน").wait_for(timeout=15000)
    page.get_by_role("button", name="English / ภาษาไทย", exact=True).click()
    page.locator(".bot", has_text="Language set to English").wait_for(timeout=15000)
    _shot(page, "04b-simulator-rich-menu")

    # 5. The tracking page now acknowledges the payment, and prints without buttons.
    track.reload()
    assert "ชำระแล้ว" in track.inner_text("#status")
    assert "ยอดที่ต้องชำระ" not in track.inner_text("body")
    assert track.inner_text("#bank-ref").strip() and track.inner_text("#paid-at").strip().endswith("น.")
    assert track.locator("#slip").count() == 0 and track.locator("#qr").count() == 0
    assert track.locator("#receipt").inner_text() == "ใบเสร็จรับเงิน"
    assert context.request.get(track.locator("#receipt").get_attribute("href")).body() == receipt  # the same bytes
    _shot(track, "05-track-paid")
    track.emulate_media(media="print")
    assert not track.is_visible("#print") and not track.is_visible(".lang a")
    _shot(track, "06-track-paid-print")

    # 6. The slip of a paid invoice is refused with a page, not a file.
    gone = context.new_page()
    response = gone.goto(track.url.replace("/track/", "/slip/").split("?")[0] + ".pdf")
    assert response.status == 404  # a track token is not a slip token
    _shot(gone, "07-bad-slip-link")

    assert violations == []
    assert missing == []
    context.close()
