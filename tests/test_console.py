"""The staff console through Flask's real routing, on SQLite and PostgreSQL: accounts and
sign-in (password, TOTP, lock, new session id, idle end), CSRF and roles, and each page's
figures against what the bank and the chat did. The browser half is tests/test_browser.py."""
from __future__ import annotations

import io
import json
import re
import time
from datetime import date, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import func, select, update

from bot.cli import cli
from bot.core import credentials
from bot.core.dates import today_bangkok, utcnow
from bot.core.statement import build_statement
from bot.data.models import (
    ChainLink,
    Notice,
    StaffActionEntry,
    StaffSession,
)
from bot.data.states import NoticeStatus, StaffAction
from bot.ledger.audit import verify
from tests.conftest import BANK_SECRET, CSRF_RE, NEW_PASSWORD, Staff, drain, fresh_code, invoice_row, make_account


def actions(db, action: StaffAction | None = None) -> list[StaffActionEntry]:
    with db.sessions() as s:
        query = select(StaffActionEntry).order_by(StaffActionEntry.id)
        if action is not None:
            query = query.where(StaffActionEntry.action == action)
        return list(s.scalars(query))


# -- accounts and signing in -------------------------------------------------------------------
def test_without_a_session_every_page_leads_to_the_sign_in_page(client):
    for path in ("/staff/", "/staff/find?q=1", "/staff/queues", "/staff/export", "/staff/conversations",
                 "/staff/accounts", "/staff/invoice/2568110400000001"):
        answer = client.get(path)
        assert answer.status_code == 302 and "/staff/sign-in?next=" in answer.headers["Location"], path
    page = client.get("/staff/sign-in")
    assert page.status_code == 200 and "เข้าสู่ระบบ" in page.get_data(as_text=True)
    assert "Content-Security-Policy" in page.headers and page.headers["Cache-Control"] == "no-store"


def test_first_sign_in_sets_a_new_password_then_the_console_opens(app, db, staff_client):
    made = make_account(db, "somchai", "viewer")
    first = staff_client.sign_in("somchai", made.password)
    assert first.status_code == 302 and first.headers["Location"].endswith("/staff/password")
    assert staff_client.client.get("/staff/").headers["Location"].endswith("/staff/password")  # nothing else first
    short = staff_client.post("/staff/password", {"password": "short", "again": "short"}, token_from="/staff/password")
    assert short.status_code == 400 and "12" in short.get_data(as_text=True)
    named = staff_client.post("/staff/password", {"password": "somchai-1234567", "again": "somchai-1234567"},
                              token_from="/staff/password")
    assert named.status_code == 400
    done = staff_client.post("/staff/password", {"password": NEW_PASSWORD, "again": NEW_PASSWORD},
                             token_from="/staff/password")
    assert done.status_code == 302
    today = staff_client.client.get("/staff/")
    assert today.status_code == 200 and "somchai" in today.get_data(as_text=True)
    # The one-time password works no more.
    other = Staff(app.test_client(), db)
    assert other.sign_in("somchai", made.password).status_code == 401
    assert other.sign_in("somchai", NEW_PASSWORD).status_code == 302
    kinds = [a.action for a in actions(db)]
    assert kinds[:3] == [StaffAction.ACCOUNT_ADDED, StaffAction.SIGNED_IN, StaffAction.PASSWORD_CHANGED]
    assert StaffAction.SIGN_IN_FAILED in kinds


def test_a_new_session_id_at_sign_in_and_the_old_one_is_useless(app, db, staff_client):
    made = make_account(db, "malee", "finance")
    for _ in range(20):  # the sign-in page, as often as anyone likes: no session id, no row
        staff_client.token()
    assert staff_client.cookie() is None
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StaffSession)) == 0
    before = staff_client.client.get_cookie("tisi_staff_pre", path="/staff").value  # its CSRF token, signed
    staff_client.sign_in("malee", made.password)
    after = staff_client.cookie()
    assert after and after != before
    assert staff_client.client.get_cookie("tisi_staff_pre", path="/staff") is None
    with db.sessions() as s:  # the cookie is a random id; the database keeps only its hash
        assert s.get(StaffSession, after) is None
        assert s.scalar(select(func.count()).select_from(StaffSession).where(StaffSession.account_id.is_not(None))) == 1
    stale = app.test_client()  # someone who kept the id from before the sign-in
    stale.set_cookie("tisi_staff_pre", before, path="/staff")
    assert stale.get("/staff/password").status_code == 302  # to the sign-in page: not signed in
    assert "/staff/sign-in" in stale.get("/staff/password").headers["Location"]
    # Signing out ends the signed-in id too, whatever copy is kept.
    staff_client.post("/staff/password", {"password": NEW_PASSWORD, "again": NEW_PASSWORD}, token_from="/staff/password")
    kept = staff_client.cookie()
    assert staff_client.post("/staff/sign-out", token_from="/staff/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("tisi_staff", kept, path="/staff")
    assert "/staff/sign-in" in replay.get("/staff/").headers["Location"]


def test_cookie_is_httponly_strict_and_secure_under_https(app, db, staff_client, settings):
    header = staff_client.client.get("/staff/sign-in").headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/staff" in header
    assert "Secure" not in header  # plain http (the tests' PUBLIC_BASE_URL)
    secure = app.test_client().get("/staff/sign-in", base_url="https://tisi.example").headers["Set-Cookie"]
    assert "Secure" in secure


def test_wrong_code_wrong_password_and_the_lock(app, db, staff_client, clock):
    made = make_account(db, "nok", "finance")
    assert staff_client.sign_in("nok", made.password, code="000000").status_code == 401
    assert staff_client.sign_in("nok", "not the password").status_code == 401
    assert staff_client.sign_in("nobody", "x", code="123456").status_code == 401  # unknown names look the same
    for _ in range(2):
        assert staff_client.sign_in("nok", "wrong again").status_code == 401
    fifth = staff_client.sign_in("nok", "wrong at last")
    assert fifth.status_code == 403 and "ล็อก" in fifth.get_data(as_text=True)
    right = staff_client.sign_in("nok", made.password)  # right, but locked for this address: refused
    assert right.status_code == 403
    assert staff_client.client.get("/staff/").status_code == 302
    elsewhere = _from(app, db, "10.9.9.9")
    assert elsewhere.sign_in("nok", made.password).status_code == 302  # the lock is for the address it came from
    assert len(actions(db, StaffAction.LOCKED)) == 1
    reasons = [json.loads(a.detail)["reason"] for a in actions(db, StaffAction.SIGN_IN_FAILED)]
    assert reasons.count("wrong or used code") == 1 and "unknown account" in reasons and "locked" in reasons
    clock.at(clock.now() + timedelta(minutes=15, seconds=5))  # fifteen minutes later
    assert staff_client.sign_in("nok", made.password).status_code == 302


def _from(app, db, address: str) -> Staff:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Staff(client, db)


def _answer(response) -> tuple[int, str]:
    """What a sign-in answer tells: its status and its words, without the form's fresh token."""
    html = response.get_data(as_text=True)
    found = re.search(r'<p class="error"[^>]*>(.*?)</p>', html, re.S) or re.search(r"<main.*?</main>", html, re.S)
    return response.status_code, CSRF_RE.sub("", found.group(0) if found else html)


def test_an_unknown_name_is_answered_as_a_known_one_lock_included(app, db, clock):
    """An outsider cannot tell whether a name exists: same statuses, same words, same lock."""
    clock.at("2026-11-20T10:00:00+07:00")
    make_account(db, "known", "viewer")
    known = _from(app, db, "10.1.1.1")
    unknown = _from(app, db, "10.1.1.2")
    for attempt in range(7):
        a = _answer(known.post("/staff/sign-in", {"name": "known", "password": "guess", "code": "123456"}))
        b = _answer(unknown.post("/staff/sign-in", {"name": "unknown", "password": "guess", "code": "123456"}))
        assert a == b, attempt
        assert a[0] == (401 if attempt < 4 else 403)


def test_sign_in_time_does_not_tell_a_name_exists(app, db, production_password_cost):
    make_account(db, "timed", "viewer")
    assert credentials.DECOY_HASH.startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # as in production

    def took(name: str) -> float:
        client = _from(app, db, "10.3.3.1" if name == "timed" else "10.3.3.2")  # each under the rate limit
        started = time.perf_counter()
        client.post("/staff/sign-in", {"name": name, "password": "guess", "code": "123456"})
        return time.perf_counter() - started

    for name in ("timed", "nobody"):  # each locked after five: the locked answers are timed too
        times = sorted(took(name) for _ in range(8))
        median = times[len(times) // 2]
        if name == "timed":
            known = median
    assert 0.5 < median / known < 2.0, (known, median)


def test_a_name_tried_from_many_addresses_is_slowed_and_shown_to_admins(app, db, signed_in, monkeypatch):
    from bot.web.console import signin as console

    monkeypatch.setattr(console, "SLOW_DOWN_S", 0.3)
    admin = signed_in("admin")
    for i in range(12):
        guesser = _from(app, db, f"10.7.0.{i}")
        started = time.perf_counter()
        guesser.post("/staff/sign-in", {"name": "target", "password": "guess", "code": "123456"})
        took = time.perf_counter() - started
    assert took >= 0.3  # the last guesses waited
    page = admin.client.get("/staff/").get_data(as_text=True)
    assert "target" in page and "12" in page


def test_a_code_is_accepted_once(app, db, staff_client):
    made = make_account(db, "daeng", "viewer")
    code = fresh_code(db, "daeng")
    assert staff_client.sign_in("daeng", made.password, code).status_code == 302
    again = Staff(app.test_client(), db)
    assert again.sign_in("daeng", made.password, code).status_code == 401


def test_idle_sessions_end_after_30_minutes(db, signed_in):
    client = signed_in("viewer")
    assert client.client.get("/staff/").status_code == 200
    with db.transaction() as s:
        s.execute(update(StaffSession).values(seen_at=utcnow() - timedelta(minutes=31)))
    assert "/staff/sign-in" in client.client.get("/staff/").headers["Location"]


def test_forms_without_their_csrf_token_are_refused(db, signed_in):
    client = signed_in("admin")
    for path in ("/staff/sign-out", "/staff/export", "/staff/queues/notice/1/retry", "/staff/accounts/x/disable"):
        answer = client.post(path, {"first": "2026-01-01", "last": "2026-01-02"}, csrf=False)
        assert answer.status_code == 400, path
    forged = client.client.post("/staff/sign-out", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert client.client.get("/staff/").status_code == 200  # still signed in


def test_roles(db, signed_in):
    viewer = signed_in("viewer")
    assert viewer.client.get("/staff/export").status_code == 403
    assert viewer.post("/staff/export", {"first": "2026-01-01", "last": "2026-01-01"}, token_from="/staff/").status_code == 403
    assert viewer.post("/staff/queues/notice/1/retry", token_from="/staff/").status_code == 403
    assert viewer.client.get("/staff/accounts").status_code == 403
    page = viewer.client.get("/staff/").get_data(as_text=True)
    assert "/staff/export" not in page and "/staff/accounts" not in page  # not offered either
    finance = signed_in("finance")
    assert finance.client.get("/staff/export").status_code == 200
    assert finance.client.get("/staff/accounts").status_code == 403
    admin = signed_in("admin")
    assert admin.client.get("/staff/accounts").status_code == 200
    assert admin.post("/staff/accounts/viewer1/disable", token_from="/staff/accounts").status_code == 302
    assert "/staff/sign-in" in viewer.client.get("/staff/").headers["Location"]  # disabled: its session is over
    assert [a.target for a in actions(db, StaffAction.ACCOUNT_DISABLED)] == ["viewer1"]


def test_staff_actions_are_links_of_the_audit_chain(db, signed_in):
    signed_in("finance")
    with db.sessions() as s:
        linked = s.scalar(select(func.count()).select_from(ChainLink).where(ChainLink.kind == "staff"))
        verdict = verify(s, BANK_SECRET)
    assert linked == len(actions(db)) >= 3
    assert verdict.intact, verdict.problems
    with db.transaction() as s:  # a staff action changed behind the application's back is caught
        if s.get_bind().dialect.name == "sqlite":
            s.execute(__import__("sqlalchemy").text("DROP TRIGGER staff_actions_no_update"))
        else:
            s.execute(__import__("sqlalchemy").text("SET LOCAL session_replication_role = replica"))
        s.execute(update(StaffActionEntry).where(StaffActionEntry.id == 1).values(account="mallory"))
    with db.sessions() as s:
        broken = verify(s, BANK_SECRET)
    assert not broken.intact and "staff 1" in broken.problems[0]


# -- pages -------------------------------------------------------------------------------------
def test_today_shows_the_takings_by_channel_and_fee_and_30_days(db, seed, bank, signed_in):
    rows = seed(invoice_row(1), invoice_row(2, amount="500.00", fee_code="INSPECTION"), invoice_row(3, amount="250.25"))
    now = utcnow().astimezone().isoformat()
    for i, (row, channel) in enumerate(zip(rows, ("QR", "ATM", "QR"))):
        answer = bank.post(bank.body("payment", row, bank_ref=f"T{i}", channel=channel, transDateTime=now))
        assert answer.get_json()["respCode"] == "0000"
    bank.post(bank.body("reversal", rows[2], bank_ref="T2", transDateTime=now))
    earlier = seed(invoice_row(4, amount="70.00"))[0]  # paid three days ago: a closed day of the chart
    three_days_ago = (utcnow() - timedelta(days=3)).astimezone().isoformat()
    bank.post(bank.body("payment", earlier, bank_ref="T4", transDateTime=three_days_ago))
    client = signed_in("viewer")
    page = client.client.get("/staff/").get_data(as_text=True)
    count = re.search(r'id="today-count">(\d+)<', page).group(1)
    total = re.search(r'id="today-total">([^<]+)<', page).group(1)
    assert (count, total) == ("2", "1,500.00")
    assert "1 · 250.25" in page  # the reversal, apart
    by_channel = page[page.index('id="by-channel"'):page.index('id="by-fee"')]
    assert "คิวอาร์" in by_channel or "Thai QR" in by_channel
    assert "ค่าตรวจสอบ" in page or "Inspection" in page or "ตรวจ" in page
    chart = json.loads(re.search(r'id="chart-data">(.*?)</script>', page, re.S).group(1))
    assert len(chart["labels"]) == 30 and chart["counts"][-1] == 2 and chart["baht"][-1] == "1500.00"
    assert chart["counts"][-4] == 1 and chart["baht"][-4] == "70.00" and sum(chart["counts"]) == 3
    assert str(today_bangkok().year + 543) in chart["labels"][-1]  # Buddhist era in Thai
    assert "/assets/vendor/chart.umd.min.js" in page


def test_find_by_each_key_and_the_invoice_story(db, seed, bank, line, fake_line, signed_in):
    rows = seed(invoice_row(1, payer_name="บริษัท ช้างเหล็กไทย จำกัด"), invoice_row(2, license_no="ท1234-5/67"))
    line.say(rows[0]["invoice_no"])  # a LINE user asks: a watch, and the paid push goes to them
    refused = bank.post(bank.body("payment", rows[0], bank_ref="WRONG1", amount="999.00")).get_json()["respCode"]
    assert refused != "0000"
    assert bank.post(bank.body("payment", rows[0], bank_ref="STORY1")).get_json()["respCode"] == "0000"
    fake_line.wait_for(lambda f: f.pushes())
    client = signed_in("viewer")
    thai_digits = rows[0]["invoice_no"].translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
    by_number = client.client.get("/staff/find", query_string={"q": f"ใบแจ้งหนี้ {thai_digits[:4]}-{thai_digits[4:]}"})
    assert by_number.status_code == 302 and by_number.headers["Location"].endswith(f"/staff/invoice/{rows[0]['invoice_no']}")
    by_license = client.client.get("/staff/find", query_string={"q": "ท 1234-5/67"}).get_data(as_text=True)
    assert rows[1]["invoice_no"] in by_license and rows[0]["invoice_no"] not in by_license
    by_tax = client.client.get("/staff/find", query_string={"q": rows[0]["tax_id"]}).get_data(as_text=True)
    assert rows[0]["invoice_no"] in by_tax and rows[1]["invoice_no"] in by_tax
    by_name = client.client.get("/staff/find", query_string={"q": "ช้างเหล็ก"}).get_data(as_text=True)
    assert rows[0]["invoice_no"] in by_name and rows[1]["invoice_no"] not in by_name
    nothing = client.client.get("/staff/find", query_string={"q": "ไม่มีชื่อนี้ 100%_"}).get_data(as_text=True)
    assert 'id="nothing-found"' in nothing
    story = client.client.get(f"/staff/invoice/{rows[0]['invoice_no']}").get_data(as_text=True)
    table = story[story.index('id="story"'):]
    order = [table.index(k) for k in ('class="kind-audit"', 'class="kind-asked"', 'class="kind-payment"',
                                      'class="kind-bank"', 'class="kind-notice"')]
    assert order[0] == min(order) and "STORY1" in table
    assert table.count('class="kind-bank"') == 2 and "WRONG1" in table and refused in table  # the refused one too
    assert "Uaaaa…aaaa" in table and "U" + "a" * 32 not in story  # LINE ids masked
    assert "/track/" in story
    assert client.client.get("/staff/invoice/2568999999999999").status_code == 404


def test_find_by_day_status_and_channel_a_page_at_a_time(db, seed, bank, signed_in, monkeypatch):
    from bot.ledger import console

    rows = seed(*(invoice_row(i) for i in range(1, 5)), invoice_row(5, payer_name="บริษัท ทดสอบ สาขา 2 จำกัด"))
    for row, ref, channel, at in ((rows[0], "D1", "QR", "2026-11-25T09:00:00+07:00"),
                                  (rows[1], "D2", "ATM", "2026-11-25T23:30:00+07:00"),  # 16:30 UTC: still the 25th
                                  (rows[2], "D3", "QR", "2026-11-26T00:10:00+07:00")):  # the 26th in Bangkok
        paid = bank.post(bank.body("payment", row, bank_ref=ref, channel=channel, transDateTime=at))
        assert paid.get_json()["respCode"] == "0000"
    client = signed_in("viewer").client

    def numbers(query, **args):
        page = client.get("/staff/find", query_string={"q": query, **args}).get_data(as_text=True)
        return [n for n in re.findall(r'/staff/invoice/(\d{16})"', page)], page

    day, page = numbers("25 พ.ย. 2569")
    assert day == [rows[1]["invoice_no"], rows[0]["invoice_no"]]  # the latest payment first
    assert "ชำระวันที่ 25 พฤศจิกายน 2569" in page
    assert numbers("25/11/2569 atm")[0] == [rows[1]["invoice_no"]]
    assert numbers("2026-11-26")[0] == [rows[2]["invoice_no"]]
    assert numbers("ชำระแล้ว คิวอาร์")[0] == [rows[2]["invoice_no"], rows[0]["invoice_no"]]
    assert sorted(numbers("ค้างชำระ")[0]) == [rows[3]["invoice_no"], rows[4]["invoice_no"]]
    assert numbers("สาขา 2")[0] == [rows[4]["invoice_no"]]  # a name holding a channel's word is a name
    monkeypatch.setattr(console, "FOUND_AT_MOST", 1)
    first, page = numbers("paid")
    assert len(first) == 1 and 'rel="next"' in page and 'rel="prev"' not in page
    second, page = numbers("paid", page="2")
    assert len(second) == 1 and second != first and 'rel="prev"' in page and 'rel="next"' in page
    last, page = numbers("paid", page="3")
    assert len(last) == 1 and 'rel="next"' not in page
    assert numbers("paid", page="x' OR 1=1")[0] == first  # a page that is not a number: the first


def test_the_story_says_codes_times_and_amounts_as_staff_read_them(db, seed, bank, signed_in):
    """Labels, not codes; Bangkok time in the Buddhist era; amounts with separators (Thai and English)."""
    rows = seed(invoice_row(1, amount="12345.50"))
    paid = bank.post(bank.body("payment", rows[0], bank_ref="SHOWN1", channel="MOBILE",
                               transDateTime="2026-11-25T14:30:00+07:00"))
    assert paid.get_json()["respCode"] == "0000"
    client = signed_in("viewer")
    thai = client.client.get(f"/staff/invoice/{rows[0]['invoice_no']}?lang=th").get_data(as_text=True)
    table = thai[thai.index('id="story"'):]
    assert "โดย: ธนาคาร" in table and "ช่องทาง: โมบายแบงกิ้ง" in table and "เอกสาร:" not in table
    assert "ยอดเงิน: 12,345.50" in table and "12345.50" not in table
    assert "25 พ.ย. 2569 14:30 น." in table  # the bank's time, in Bangkok and the Buddhist era
    assert "+00:00" not in table and "+07:00" not in table and "2026-11-25" not in table
    assert "unpaid" not in table and "MOBILE" not in table and ": bank" not in table
    english = client.client.get(f"/staff/invoice/{rows[0]['invoice_no']}?lang=en").get_data(as_text=True)
    table = english[english.index('id="story"'):]
    assert "by: the bank" in table and "channel: Mobile banking" in table and "25 Nov 2026, 14:30" in table


def test_reconciliation_lists_files_and_puts_discrepancies_first(db, seed, bank, signed_in, tmp_path):
    from bot.ledger.reconcile import reconcile_file
    from tests.test_reconcile import DAY, _detail

    rows = seed(invoice_row(1), invoice_row(2))
    bank.post(bank.body("payment", rows[0], bank_ref="R1", transDateTime="2026-11-25T14:30:00+07:00"))
    data = build_statement("1234567890", "TISI", DAY, [_detail(rows[0]), _detail(rows[1])])
    with db.transaction() as s:
        reconcile_file(s, data)
    client = signed_in("viewer")
    listing = client.client.get("/staff/reconciliation").get_data(as_text=True)
    link = re.search(r'href="(/staff/reconciliation/\d+)"', listing).group(1)
    assert "ไม่ตรงกัน" in listing or "discrepancies" in listing
    report = client.client.get(link).get_data(as_text=True)
    table = report[report.index('id="outcomes"'):]
    assert table.index(rows[1]["invoice_no"]) < table.index(rows[0]["invoice_no"])  # the discrepancy first
    assert 'class="discrepancy"' in table
    totals = table[table.index('id="totals"'):]
    assert "1,000.00" in table and "2,000.00" in totals.split("</tr>")[0]  # two records of 1,000 baht


def test_finance_uploads_the_statement_and_a_refused_file_is_explained(db, seed, bank, signed_in):
    from bot.data.models import StatementFile
    from tests.test_reconcile import DAY, _detail

    rows = seed(invoice_row(1), invoice_row(2))
    bank.post(bank.body("payment", rows[0], bank_ref="U1", transDateTime="2026-11-25T14:30:00+07:00"))
    good = build_statement("1234567890", "TISI", DAY, [_detail(rows[0]), _detail(rows[1])])
    viewer = signed_in("viewer")
    assert 'id="upload"' not in viewer.client.get("/staff/reconciliation").get_data(as_text=True)
    assert viewer.post("/staff/reconciliation", {"statement": (io.BytesIO(good), "stmt.txt")},
                       token_from="/staff/").status_code == 403
    finance = signed_in("finance")

    def upload(data: bytes):
        return finance.post("/staff/reconciliation", {"statement": (io.BytesIO(data), "KTB_20261125.txt")},
                            token_from="/staff/reconciliation")

    other_bank = build_statement("1234567890", "TISI", DAY, [_detail(rows[0])], bank_code="014")
    cut_short = good.replace(good.splitlines()[-1], good.splitlines()[-1][:200])
    records = good.split(b"\r\n")
    assert records[1][163:176] == b"0000000100000"  # the first payment's amount (satang, bytes 164-176)
    records[1] = records[1][:170] + b"2" + records[1][171:]  # edited to 2,000.00: the trailer disagrees
    edited = b"\r\n".join(records)
    for data, said in ((other_bank, "ไม่ใช่ของธนาคารกรุงไทย"), (cut_short, "ไม่ใช่ไฟล์รายการเดินบัญชีตามรูปแบบ"),
                       (edited, "ยอดรวมท้ายไฟล์ไม่ตรงกับรายการในไฟล์"),
                       (b"", "กรุณาเลือกไฟล์"), ("ไม่ใช่ไฟล์".encode("utf-8") * 200, "ไม่ใช่ไฟล์รายการเดินบัญชีตามรูปแบบ")):
        refused = upload(data)
        page = refused.get_data(as_text=True)
        assert refused.status_code == 400 and said in page and 'id="upload-error"' in page, said
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StatementFile)) == 0  # nothing of a refused file kept
    answer = upload(good)
    assert answer.status_code == 302 and "/staff/reconciliation/" in answer.headers["Location"]
    report = finance.client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "ไม่ตรงกัน" in report and rows[1]["invoice_no"] in report  # paid in the file, never confirmed online
    again = upload(good)  # the same file again: the same report, not a second import
    assert again.headers["Location"] == answer.headers["Location"]
    imported = actions(db, StaffAction.STATEMENT_IMPORTED)
    assert len(imported) == 2 and json.loads(imported[1].detail)["again"] is True


def test_queues_show_a_failed_push_and_finance_retries_it_once(db, seed, bank, line, fake_line, signed_in):
    rows = seed(invoice_row(1))
    line.say(rows[0]["invoice_no"])
    fake_line.plan_push_failures({"status": 400})  # refused for good: the notice fails
    bank.post(bank.body("payment", rows[0], bank_ref="Q1"))
    deadline = time.time() + 10
    while True:
        with db.sessions() as s:
            failed = s.scalar(select(Notice).where(Notice.status == NoticeStatus.FAILED))
        if failed is not None or time.time() > deadline:
            break
        time.sleep(0.05)
    assert failed is not None
    viewer = signed_in("viewer")
    page = viewer.client.get("/staff/queues").get_data(as_text=True)
    assert f'id="notice-{failed.id}"' in page and "planned failure" in page and "/retry" not in page
    finance = signed_in("finance")
    answer = finance.post(f"/staff/queues/notice/{failed.id}/retry", token_from="/staff/queues")
    assert answer.status_code == 302 and "done=" in answer.headers["Location"]
    assert fake_line.wait_for(lambda f: len(f.pushes()) == 1)
    drain(db)
    assert len(fake_line.pushes()) == 1
    again = finance.post(f"/staff/queues/notice/{failed.id}/retry", token_from="/staff/queues")
    assert "problem=already_sent" in again.headers["Location"]
    assert [a.target for a in actions(db, StaffAction.NOTICE_RETRIED)] == [f"notice {failed.id}"]


def test_export_is_excel_friendly_csv_and_recorded(db, seed, bank, signed_in):
    rows = seed(invoice_row(1, payer_name='บริษัท "เครื่องหมาย, จุลภาค" จำกัด'), invoice_row(2))
    for i, row in enumerate(rows):
        bank.post(bank.body("payment", row, bank_ref=f"X{i}", transDateTime="2026-11-25T14:30:00+07:00"))
    client = signed_in("finance")
    answer = client.post("/staff/export", {"first": "2026-11-25", "last": "2026-11-25"}, token_from="/staff/export")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert 'filename="tisi-payments-2026-11-25-2026-11-25.csv"' in answer.headers["Content-Disposition"]
    body = answer.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Thai
    import csv
    import io

    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(table) == 3 and "เลขที่ใบแจ้งหนี้" in ",".join(table[0]) and "วันที่ (พ.ศ.)" in table[0]
    first = table[1]
    assert first[0] == "25/11/2569 14:30:00" and first[1] == "25/11/2569"  # the Buddhist era, unless asked
    assert first[2] == f'="{rows[0]["invoice_no"]}"' and 'เครื่องหมาย, จุลภาค' in first[6] and first[8] == "1000.00"
    assert first[9] == "Thai QR" and first[10] == '="006"' and first[12] == "ยืนยันแล้ว"  # labels, not codes
    gregorian = client.post("/staff/export", {"first": "2026-11-25", "last": "2026-11-25", "era": "ce"},
                            token_from="/staff/export").get_data().decode("utf-8-sig")
    head, row = list(csv.reader(io.StringIO(gregorian)))[:2]
    assert row[0] == "2026-11-25 14:30:00" and row[1] == "2026-11-25" and "วันที่ (ค.ศ.)" in head
    wrong = client.post("/staff/export", {"first": "2026-11-26", "last": "2026-11-25"}, token_from="/staff/export")
    assert wrong.status_code == 400 and "สลับ" in wrong.get_data(as_text=True)
    odd = client.post("/staff/export", {"first": "2026-11-25", "last": "2026-11-25", "format": "pdf"},
                      token_from="/staff/export")
    assert odd.status_code == 400 and 'id="export-error"' in odd.get_data(as_text=True)
    exported = actions(db, StaffAction.EXPORTED)
    assert len(exported) == 2 and json.loads(exported[0].detail)["rows"] == 2


def test_export_as_an_excel_workbook(db, seed, bank, signed_in):
    """Numbers as numbers, days as days (Buddhist era by Excel's Thai calendar), codes as text,
    Thai headers, the header row frozen, a totals row; a payer's formula stays text."""
    from openpyxl import load_workbook

    rows = seed(invoice_row(1, payer_name="=HYPERLINK(\"http://x\")", amount="1234.50"), invoice_row(2))
    for i, row in enumerate(rows):
        bank.post(bank.body("payment", row, bank_ref=f"X{i}", channel="ATM", transDateTime="2026-11-25T23:30:00+07:00"))
    client = signed_in("finance")
    answer = client.post("/staff/export", {"first": "2026-11-25", "last": "2026-11-25", "format": "xlsx"},
                         token_from="/staff/export")
    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="tisi-payments-2026-11-25-2026-11-25.xlsx"' in answer.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(answer.get_data())).active
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header[2] == "เลขที่ใบแจ้งหนี้ (Ref.1)" or "เลขที่ใบแจ้งหนี้" in header[2]
    by_invoice = {sheet.cell(r, 3).value: r for r in range(2, 4)}
    first = by_invoice[rows[0]["invoice_no"]]
    assert sheet.cell(first, 1).value == datetime(2026, 11, 25, 23, 30)  # Bangkok time, a real date-time
    assert "107" in sheet.cell(first, 1).number_format  # shown in the Buddhist era
    assert sheet.cell(first, 2).value.date() == date(2026, 11, 25)
    assert sheet.cell(first, 9).value == 1234.5 and sheet.cell(first, 9).data_type == "n"
    assert sheet.cell(first, 11).value == "006" and sheet.cell(first, 11).data_type == "s"  # the code keeps its zeros
    assert sheet.cell(first, 7).value.startswith("=HYPERLINK") and sheet.cell(first, 7).data_type == "s"
    assert sheet.cell(first, 10).value == "ตู้ ATM" and sheet.cell(first, 13).value == "ยืนยันแล้ว"
    totals = sheet.max_row
    assert totals == 4 and "2" in sheet.cell(totals, 1).value and sheet.cell(totals, 9).value == 2234.5


# -- the command line ------------------------------------------------------------------------------
def test_staff_commands(database_url):
    runner = CliRunner()
    env = {"DATABASE_URL": database_url}
    added = runner.invoke(cli, ["staff", "add", "Pranee", "--role", "finance"], env=env)
    assert added.exit_code == 0, added.output
    password = re.search(r"one-time password: (\S+)", added.output).group(1)
    uri = re.search(r"TOTP provisioning URI: (\S+)", added.output).group(1)
    assert uri.startswith("otpauth://totp/TISI%20Pay:pranee?secret=") and "issuer=TISI%20Pay" in uri
    assert "█" in added.output or "▀" in added.output  # the QR, drawn in the terminal
    assert len(password) == 16
    secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    assert credentials.totp_step(credentials.totp_now(secret), secret, 0) is not None
    twice = runner.invoke(cli, ["staff", "add", "pranee", "--role", "viewer"], env=env)
    assert twice.exit_code == 1 and "exists" in twice.output
    bad = runner.invoke(cli, ["staff", "add", "x y", "--role", "viewer"], env=env)
    assert bad.exit_code == 1
    listed = runner.invoke(cli, ["staff", "list"], env=env)
    assert "pranee" in listed.output and "finance" in listed.output and "one-time password" in listed.output
    assert runner.invoke(cli, ["staff", "disable", "pranee"], env=env).exit_code == 0
    assert "disabled" in runner.invoke(cli, ["staff", "list"], env=env).output
    assert runner.invoke(cli, ["staff", "disable", "nobody"], env=env).exit_code == 1


def test_audit_verify_result_is_shown_on_the_first_page(database_url, db, signed_in):
    result = CliRunner().invoke(cli, ["audit", "verify"], env={"DATABASE_URL": database_url,
                                                             "BANK_WEBHOOK_SECRET": BANK_SECRET})
    assert result.exit_code == 0, result.output
    page = signed_in("viewer").client.get("/staff/").get_data(as_text=True)
    check = page[page.index('id="chain-check"'):]
    assert "intact" in check.split("</dd>")[0] or "ครบถ้วน" in check.split("</dd>")[0]


def test_an_answer_whose_reply_failed_is_pushed_once_by_finance(db, seed, line, fake_line, signed_in):
    """LINE refused a reply (or its token expired): finance sends the stored answer as a push, once;
    an unconfirmed one (most likely shown) is never offered."""
    from bot.data.models import InboxEvent
    from bot.data.states import InboxStatus

    rows = seed(invoice_row(1))
    line.say(rows[0]["invoice_no"])
    with db.transaction() as s:
        event = s.scalar(select(InboxEvent).order_by(InboxEvent.id.desc()))
        event.status, event.last_error = InboxStatus.REFUSED, "400 Invalid reply token"
        event_id, answer = event.id, json.loads(event.reply)
    finance = signed_in("finance")
    page = finance.client.get("/staff/queues").get_data(as_text=True)
    assert f'id="event-{event_id}"' in page and f"/staff/queues/event/{event_id}/push" in page
    pushed = finance.post(f"/staff/queues/event/{event_id}/push", token_from="/staff/queues")
    assert pushed.status_code == 302 and "done=" in pushed.headers["Location"]
    assert fake_line.wait_for(lambda f: len(f.pushes()) == 1)
    assert fake_line.pushes()[0].messages[0]["type"] == answer[0]["type"]
    finance.post(f"/staff/queues/event/{event_id}/push", token_from="/staff/queues")  # pressed again: nothing
    drain(db)
    assert len(fake_line.pushes()) == 1
    assert "ส่งคำตอบแล้ว" in finance.client.get("/staff/queues").get_data(as_text=True)
    with db.transaction() as s:
        s.get(InboxEvent, event_id).status = InboxStatus.UNCONFIRMED
    refused = finance.post(f"/staff/queues/event/{event_id}/push", token_from="/staff/queues")
    assert "problem=not_pushable" in refused.headers["Location"]
    assert len(actions(db, StaffAction.ANSWER_PUSHED)) == 1


def test_sign_in_is_rate_limited_per_client(app, db, staff_client):
    """Besides the account's lock, one client may try 10 sign-ins a minute, whatever the names."""
    token = staff_client.token()
    answers = [staff_client.client.post("/staff/sign-in", data={"csrf_token": token, "name": f"guess{i}",
                                                                 "password": "x", "code": "123456"}).status_code
               for i in range(11)]
    assert answers[:10] == [401] * 10 and answers[10] == 429
    assert staff_client.client.get("/staff/sign-in").status_code == 200  # the page itself is not limited


def test_a_session_in_use_stays_signed_in_and_a_quiet_click_writes_nothing(db, signed_in):
    """seen_at is written at most once a minute: a busy session is kept alive past 30 minutes,
    and a click within the minute opens no transaction."""
    client = signed_in("viewer")
    for _ in range(2):  # 25 idle minutes, a click, 25 more: still signed in
        with db.transaction() as s:
            s.execute(update(StaffSession).values(seen_at=utcnow() - timedelta(minutes=25)))
        assert client.client.get("/staff/").status_code == 200
    with db.sessions() as s:
        seen = s.scalar(select(StaffSession.seen_at).where(StaffSession.account_id.is_not(None)))
    assert utcnow() - seen < timedelta(seconds=30)
    client.client.get("/staff/find")
    with db.sessions() as s:
        assert s.scalar(select(StaffSession.seen_at).where(StaffSession.account_id.is_not(None))) == seen
