"""A person in a real browser: Debian's Chromium driven by Playwright (no downloaded browser).

The demo app (SQLite, the simulator, the fake LINE API) serves on a real port; the browser types
an invoice number, sees the card and the QR, opens the tracking page, downloads the QR and the
pay-in slip, presses pay, sees the paid push, and reads the acknowledgement on screen and in
print. A screenshot of each step is kept in tests/artifacts/ (git-ignored). Any Content
Security Policy violation reported by the browser fails the test.
"""
from __future__ import annotations

import io
import os
import shutil
from decimal import Decimal
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


VIEWER_JS = """() => new Promise((resolve) => {
  // Chromium's PDF viewer answers its embedder's scripting messages: select all, then the selection,
  // what a person gets with Ctrl+A, Ctrl+C in the viewer
  const embed = document.getElementById('pdf');
  window.addEventListener('message', (e) => {
    if (e.data && e.data.type === 'getSelectedTextReply') resolve(e.data.selectedText);
  });
  const ask = () => { embed.postMessage({type: 'selectAll'}); embed.postMessage({type: 'getSelectedText'}); };
  for (const ms of [500, 1500, 3000, 6000]) setTimeout(ask, ms);
  setTimeout(() => resolve(null), 15000);
})"""


def _copied_from_chromiums_viewer(context, base: str, pdf_url: str, shot: str) -> str:
    """Open the PDF in Chromium's own viewer (embedded in a page of the app's origin), screenshot it
    into tests/artifacts, and copy all its text as a person would."""
    page = context.new_page()
    page.route(f"{base}/__viewer__", lambda route: route.fulfill(
        content_type="text/html", body=f'<!doctype html><body style="margin:0"><embed id="pdf" src="{pdf_url}" '
                                       'type="application/pdf" style="width:100%;height:1100px"></body>'))
    page.set_viewport_size({"width": 900, "height": 1100})
    page.goto(f"{base}/__viewer__")
    text = page.evaluate(VIEWER_JS)
    _shot_when_painted(page, shot)
    page.close()
    assert text, "Chromium's PDF viewer gave no text"
    return text


def _shot_when_painted(page, name: str, timeout: float = 15.0) -> None:
    """The viewer paints the page after it answers: shoot once the page area has dark text on it."""
    import io
    import time

    from PIL import Image

    deadline = time.monotonic() + timeout
    while True:
        png = page.screenshot()
        page_area = Image.open(io.BytesIO(png)).convert("L").crop((320, 80, 880, 700))
        if page_area.getextrema()[0] < 100 or time.monotonic() > deadline:
            break
        page.wait_for_timeout(200)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}.png").write_bytes(png)


def _simulator(browser, base: str):
    """A phone-sized page of the demo's simulator, opened and greeted; the errors and CSP violations
    its console reports are collected in the list returned with it."""
    context = browser.new_context(viewport={"width": 480, "height": 900}, locale="th-TH")
    problems: list[str] = []
    context.on("console", lambda msg: problems.append(msg.text)
               if msg.type == "error" or "Content Security Policy" in msg.text else None)
    page = context.new_page()
    page.goto(f"{base}/simulator")
    page.locator(".bot", has_text="ยินดีต้อนรับ").first.wait_for(timeout=15000)
    return context, page, problems


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
    # The page follows the account as it opens: its greeting first, so that the card's quick replies
    # are the last ones shown (replies to two events can reach LINE in either order).
    page.locator(".bot", has_text="ยินดีต้อนรับ").first.wait_for(timeout=15000)
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
    # Copied out of Chrome's viewer, the Thai is what was drawn: the payer, the amount in words
    from bot.core.money import thai_baht_words

    copied = _copied_from_chromiums_viewer(context, base, answer.url, "03-slip-in-chromiums-viewer")
    words = thai_baht_words(Decimal(rows[0]["amount"]))
    for drawn in (rows[0]["payer_name"], words, "ใบแจ้งการชำระเงิน", "ส่วนของผู้ชำระเงิน", invoice_no):
        assert drawn in copied, (drawn, copied[:400])

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
    copied = _copied_from_chromiums_viewer(context, base, viewer.url, "04-receipt-in-chromiums-viewer")
    for drawn in (rows[0]["payer_name"], words, "ใบเสร็จรับเงิน", "ได้รับเงินไว้ถูกต้องแล้ว", "ตัวอย่าง — ไม่ใช่ใบเสร็จจริง"):
        assert drawn in copied, (drawn, copied[:400])
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


# -- the staff console -------------------------------------------------------------------------------
def _console_sign_in(page, base: str, db, name: str, password: str, new_password: str | None = None) -> None:
    from tests.conftest import fresh_code

    page.goto(f"{base}/staff/")
    assert "/staff/sign-in" in page.url  # no session: the sign-in page
    page.fill("#name", name)
    page.fill("#password", password)
    page.fill("#code", fresh_code(db, name))
    page.click("#sign-in button[type=submit]")
    page.wait_for_load_state()
    if new_password:
        assert page.url.endswith("/staff/password")
        page.fill("#password", new_password)
        page.fill("#again", new_password)
        page.click("#new-password button[type=submit]")
        page.wait_for_load_state()


def test_staff_console_in_a_browser(browser, live_server, db, seed, bank, line, fake_line, tmp_path):
    """Sign in with a TOTP code made here, read today's figures and the drawn chart, find an invoice
    and its story, export CSV, answer a conversation and see the push; and every refusal."""
    from tests.conftest import NEW_PASSWORD, fresh_code, invoice_row, make_account

    base = live_server
    rows = seed(invoice_row(1, payer_name="บริษัท เบราว์เซอร์ทดสอบ จำกัด"), invoice_row(2))
    line.say(rows[0]["invoice_no"])
    from bot.core.dates import utcnow

    paid = bank.post(bank.body("payment", rows[0], bank_ref="BROWSER1", transDateTime=utcnow().isoformat()))
    assert paid.get_json()["respCode"] == "0000"
    line.say("ติดต่อเจ้าหน้าที่")
    line.say("ขอสอบถามเรื่องใบเสร็จครับ")
    finance = make_account(db, "kanya", "finance")
    viewer = make_account(db, "wichai", "viewer")
    locked = make_account(db, "lucky", "viewer")

    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="th-TH")
    violations: list[str] = []
    context.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page = context.new_page()

    # A wrong code is refused, in Thai; the right one (made by the test) signs in.
    page.goto(f"{base}/staff/")
    # Before sign-in there is no session id (no row either): only the form's signed cookie.
    before = {c["name"]: c["value"] for c in context.cookies()}.get("tisi_staff_pre")
    page.fill("#name", "kanya")
    page.fill("#password", finance.password)
    page.fill("#code", "000000")
    page.click("#sign-in button[type=submit]")
    assert "ไม่ถูกต้อง" in page.inner_text("#sign-in-error")
    _console_sign_in(page, base, db, "kanya", finance.password, NEW_PASSWORD)
    after = {c["name"]: c["value"] for c in context.cookies()}["tisi_staff"]
    assert before and after != before

    # Today: the figures and the chart, drawn by Chart.js from our own origin.
    assert page.inner_text("#today-count") == "1" and page.inner_text("#today-total") == "1,000.00"
    page.wait_for_function("() => document.body.dataset.chart === 'drawn'", timeout=15000)
    drawn = page.evaluate("() => { const c = document.getElementById('chart'); const d = c.getContext('2d')"
                          ".getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4)"
                          " if (d[i]) n++; return n; }")
    assert drawn > 1000  # pixels painted on the canvas
    _shot(page, "10-console-today")

    # Find an invoice by part of the payer's name, then read its story.
    page.click("header nav a:text('ค้นหา')")
    page.fill("#q", "เบราว์เซอร์")
    page.press("#q", "Enter")
    page.click(f"#results a:text('{rows[0]['invoice_no']}')")
    story = page.inner_text("#story")
    assert "BROWSER1" in story and "ชำระแล้ว" in story and "ส่งถึงแล้ว" in story and "ผู้ใช้ LINE สอบถาม" in story
    _shot(page, "11-console-invoice-story")

    # Export the day's payments as CSV, and as an Excel workbook with Gregorian years.
    page.goto(f"{base}/staff/export")
    with page.expect_download() as download:
        page.click("#export button[value=csv]")
    csv_bytes = download.value.path().read_bytes()
    assert csv_bytes.startswith(b"\xef\xbb\xbf") and rows[0]["invoice_no"].encode() in csv_bytes
    assert download.value.suggested_filename.startswith("tisi-payments-")
    page.check("#export input[name=era][value=ce]")
    with page.expect_download() as download:
        page.click("#export button[value=xlsx]")
    assert download.value.suggested_filename.endswith(".xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active  # (saved without its extension)
    assert sheet.freeze_panes == "A2" and sheet.cell(2, 3).value == rows[0]["invoice_no"]
    assert sheet.cell(2, 1).number_format == "yyyy-mm-dd hh:mm:ss"
    _shot(page, "11b-console-export")

    # Answer the conversation: the push reaches the user at the fake LINE API.
    page.goto(f"{base}/staff/conversations")
    page.click("#open-conversations a")
    assert "ขอสอบถามเรื่องใบเสร็จครับ" in page.inner_text("#messages")
    page.fill("#answer", "ใบเสร็จดาวน์โหลดได้จากปุ่มในข้อความแจ้งชำระค่ะ")
    page.click("#reply button[type=submit]")
    assert fake_line.wait_for(lambda f: any("ดาวน์โหลดได้จากปุ่ม" in str(p.messages) for p in f.pushes()))
    assert "ดาวน์โหลดได้จากปุ่ม" in page.inner_text("#messages")
    _shot(page, "12-console-conversation")

    # A form posted without its CSRF token: 400.
    page.goto(f"{base}/staff/export")
    page.evaluate("() => document.querySelector('#export input[name=csrf_token]').remove()")
    with page.expect_navigation() as posted:
        page.click("#export button[type=submit]")
    assert posted.value.status == 400 and "หมดอายุ" in page.inner_text("#error-message")

    # The id the browser had before signing in is of no use to anyone who kept it.
    stale = browser.new_context()
    stale.add_cookies([{"name": "tisi_staff", "value": before, "url": f"{base}/staff/"}])
    stale_page = stale.new_page()
    stale_page.goto(f"{base}/staff/")
    assert "/staff/sign-in" in stale_page.url
    stale.close()

    # A viewer trying a finance action: 403.
    other = browser.new_context(locale="th-TH")
    other.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    viewer_page = other.new_page()
    _console_sign_in(viewer_page, base, db, "wichai", viewer.password, NEW_PASSWORD + "v")
    answer = viewer_page.goto(f"{base}/staff/export")
    assert answer.status == 403 and "สิทธิ์" in viewer_page.inner_text("#error-message")
    _shot(viewer_page, "13-console-viewer-403")
    other.close()

    # Five wrong sign-ins lock an account.
    lock_context = browser.new_context(locale="th-TH")
    lock_page = lock_context.new_page()
    lock_page.goto(f"{base}/staff/sign-in")
    for _ in range(5):
        lock_page.fill("#name", "lucky")
        lock_page.fill("#password", "not-the-password")
        lock_page.fill("#code", "123456")
        lock_page.click("#sign-in button[type=submit]")
    assert "ล็อก" in lock_page.inner_text("#sign-in-error")
    lock_page.fill("#name", "lucky")
    lock_page.fill("#password", locked.password)
    lock_page.fill("#code", fresh_code(db, "lucky"))
    lock_page.click("#sign-in button[type=submit]")
    assert "ล็อก" in lock_page.inner_text("#sign-in-error")  # the right password too, while locked
    _shot(lock_page, "14-console-locked")
    lock_context.close()

    assert violations == []
    context.close()
