"""Every page of the staff console, as each role, in Debian's Chromium (Playwright): each page
answers, shows its own content and only the navigation its role may use, breaks no Content
Security Policy and throws no script error; a page above the role is refused (403) in Thai. The
finance officer closes yesterday and reads the signed close in Chromium's own PDF viewer. A
screenshot of every page per role is kept in tests/artifacts/ (console-<role>-<page>.png)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from bot.config import Settings
from bot.core.dates import BANGKOK, format_long_date, today_bangkok
from tests.conftest import NEW_PASSWORD, invoice_row, make_account, make_env, receipt_env
from tests.test_browser import _console_sign_in, _copied_from_chromiums_viewer, _shot, browser  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(database_url, fake_line, receipt_p12) -> Settings:
    return Settings.from_env(make_env(database_url, fake_line.url, **receipt_env(receipt_p12)))


def _at(day, hour: int) -> str:
    return datetime.combine(day, time(hour), tzinfo=BANGKOK).isoformat()


@pytest.fixture
def office(seed, bank, line, db, clock):
    """Yesterday's payments (one paid twice, one reversed), today's, yesterday's statement with one
    difference, and a conversation waiting for staff."""
    from bot.core.statement import build_statement
    from bot.ledger.reconcile import reconcile_file
    from tests.test_reconcile import _detail

    day = today_bangkok() - timedelta(days=1)
    rows = seed(invoice_row(1, payer_name="บริษัท เดินทุกหน้า จำกัด"), invoice_row(2, amount="500.00", fee_code="INSPECTION"),
                invoice_row(3), invoice_row(4, amount="36000.00"))
    for i, (row, channel) in enumerate(zip(rows[:3], ("QR", "ATM", "QR"))):
        clock.at(_at(day, 9 + i))  # the bank tells us as it happens: the receipt is issued then
        assert bank.post(bank.body("payment", row, bank_ref=f"W{i}", channel=channel,
                                   transDateTime=_at(day, 9 + i))).get_json()["respCode"] == "0000"
    clock.at(_at(day, 12))
    bank.post(bank.body("payment", rows[0], bank_ref="W9", transDateTime=_at(day, 12)))  # paid twice: to refund
    clock.at(_at(day, 13))
    bank.post(bank.body("reversal", rows[2], bank_ref="W2", transDateTime=_at(day, 13)))
    clock.stop()
    with db.transaction() as s:
        reconcile_file(s, build_statement("1234567890", "TISI", day, [
            _detail(rows[0], paid_on=day), _detail(rows[1], amount="500.00", paid_on=day),
            _detail(rows[3], amount="36000.00", paid_on=day)]))
    line.say("ติดต่อเจ้าหน้าที่")
    line.say("รบกวนโทรกลับเรื่องใบเสร็จครับ")
    return day, rows


# (page, path, what shows on it, the least role) — every page of the console's navigation and
# the pages they lead to
PAGES = (
    ("today", "/staff/", "#today-count", "viewer"),
    ("find", "/staff/find?q=เดินทุกหน้า", "#results", "viewer"),
    ("find-by-day", "/staff/find?q={thai_day} ชำระแล้ว", "#results", "viewer"),
    ("invoice", "/staff/invoice/{invoice}", "#story", "viewer"),
    ("reconciliation", "/staff/reconciliation", "#statements", "viewer"),
    ("statement", "{statement}", "#outcomes", "viewer"),
    ("queues", "/staff/queues", "#notices", "viewer"),
    ("close", "/staff/close?day={day}", "#close-receipts", "viewer"),
    ("conversations", "/staff/conversations", "#open-conversations", "viewer"),
    ("conversation", "{conversation}", "#messages", "viewer"),
    ("password", "/staff/password", "#new-password", "viewer"),
    ("export", "/staff/export", "#export", "finance"),
    ("accounts", "/staff/accounts", "#accounts", "admin"),
)
ORDER = ("viewer", "finance", "admin")
NAV = {"viewer": {"วันนี้", "ค้นหา", "กระทบยอด", "คิวงาน", "ปิดยอดประจำวัน", "การสนทนา"}}
NAV["finance"] = NAV["viewer"] | {"ส่งออกข้อมูล"}
NAV["admin"] = NAV["finance"] | {"บัญชีผู้ใช้"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_page_as_each_role(browser, live_server, db, office):  # noqa: F811
    day, rows = office
    base = live_server
    values = {"thai_day": f"{day.day}/{day.month}/{day.year + 543}", "invoice": rows[0]["invoice_no"],
              "day": day.isoformat()}
    problems: list[str] = []
    for role in ORDER:
        made = make_account(db, f"walk-{role}", role)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
        # every error the page logs, but the 403 of a page above the role (asserted below)
        context.on("console", lambda msg, role=role: problems.append(f"{role}: {msg.text}")
                   if (msg.type == "error" and "status of 403" not in msg.text)
                   or "Content Security Policy" in msg.text else None)
        page = context.new_page()
        page.on("pageerror", lambda exc, role=role: problems.append(f"{role}: {exc}"))
        _console_sign_in(page, base, db, made.name, made.password, NEW_PASSWORD + role)
        # the links' own words (the count of waiting conversations apart)
        nav = set(page.evaluate("() => [...document.querySelectorAll('header nav a')].map(a => a.firstChild.textContent.trim())"))
        assert nav == NAV[role], (role, nav)
        page.goto(f"{base}/staff/reconciliation")
        values["statement"] = page.get_attribute("#statements a", "href")
        page.goto(f"{base}/staff/conversations")
        values["conversation"] = page.get_attribute("#open-conversations a", "href")
        for name, path, shown, needed in PAGES:
            answer = page.goto(base + path.format(**values))
            allowed = ORDER.index(role) >= ORDER.index(needed)
            if allowed:
                assert answer.status == 200, (role, name, answer.status)
                assert page.locator(shown).count() >= 1, (role, name)
                assert page.inner_text("#who").strip(), (role, name)  # signed in, named at the top
            else:
                assert answer.status == 403 and "สิทธิ์" in page.inner_text("#error-message"), (role, name)
            _shot(page, f"console-{role}-{name}")
        # what each role may do on the pages all of them read
        page.goto(f"{base}/staff/close?day={day.isoformat()}")
        assert (page.locator("#close-form").count() == 1) == (role != "viewer")
        page.goto(f"{base}/staff/reconciliation")
        assert (page.locator("#upload").count() == 1) == (role != "viewer")
        context.close()
    assert problems == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_finance_closes_yesterday_and_reads_the_signed_close(browser, live_server, db, office):  # noqa: F811
    day, rows = office
    base = live_server
    made = make_account(db, "kanya", "finance")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    page = context.new_page()
    _console_sign_in(page, base, db, "kanya", made.password, NEW_PASSWORD)
    page.click("header nav a:text('ปิดยอดประจำวัน')")
    assert format_long_date(today_bangkok(), "th") in page.inner_text("h1")
    page.fill("#day", day.isoformat())
    page.click("#choose-day button[type=submit]")
    assert format_long_date(day, "th") in page.inner_text("h1")
    assert page.inner_text("#close-count") == "2" and page.inner_text("#close-total") == "1,500.00"
    assert rows[2]["invoice_no"] in page.inner_text("#close-reversals-table")
    assert rows[0]["invoice_no"] in page.inner_text("#close-doubles-table")
    assert rows[3]["invoice_no"] in page.inner_text("#close-differences")
    page.click("#close-form button[type=submit]")
    assert "ปิดยอดแล้ว" in page.inner_text("#done") and "kanya" in page.inner_text("#close-state")
    assert page.locator("#close-form").count() == 0
    _shot(page, "console-finance-close-done")
    text = _copied_from_chromiums_viewer(context, base, f"{base}/staff/close.pdf?day={day.isoformat()}",
                                         "console-finance-close-pdf")
    flat = " ".join(text.split())
    for wanted in ("ปิดยอดประจำวัน", format_long_date(day, "th"), "ยอดรับตามประเภทค่าธรรมเนียม", "1,500.00",
                   "ใบเสร็จรับเงินที่ออก", rows[2]["invoice_no"], "ปิดยอดเมื่อ", "kanya"):
        assert wanted in text or wanted in flat, (wanted, text)
    context.close()
