"""The tracking page as a business reads it (payable, paid, expired), HTML error pages, the
security headers of every HTML answer, and rate limits (memory and Redis)."""
from __future__ import annotations

import os
import random
import re
from datetime import date
from decimal import Decimal

import pytest

from bot.config import Settings
from bot.factory import create_app
from tests.conftest import API_TOKEN, invoice_row, make_env, past

BEFORE_DUE = "2026-11-20T10:00:00+07:00"
INV = "2568110400012345"
BASE = "http://127.0.0.1:8080"


def fresh_ip() -> dict:
    """A client address of its own, so no test (nor an earlier run, in Redis) shares its budget."""
    return {"REMOTE_ADDR": "10.%d.%d.%d" % tuple(random.randrange(256) for _ in range(3))}


def _links(line, text=INV) -> dict:
    card = line.say(text)[0]
    return {b["action"]["label"]: b["action"]["uri"].replace(BASE, "") for b in card["contents"]["footer"]["contents"]}


def _track(line, text=INV) -> str:
    return _links(line, text)["ติดตามสถานะการชำระ"]


def _headers_ok(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert "<style" not in html and " style=" not in html and " on" + "click=" not in html


def test_payable_page_has_qr_download_slip_and_contact(client, line, seed, clock):
    clock.at(BEFORE_DUE)  # the due dates below are fixed: so is the day the test runs on
    seed(invoice_row(1, invoice_no=INV, amount="1200.50", due_date="2026-12-31"))
    response = client.get(_track(line), environ_base=fresh_ip())
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    _headers_ok(response)
    page = response.get_data(as_text=True)
    assert "ยอดที่ต้องชำระ" in page and "1,200.50 บาท" in page and "รอชำระ" in page and "31 ธันวาคม 2569" in page
    qr = re.search(r'<img id="qr" src="([^"]+)"', page).group(1)
    assert re.search(rf'id="save-qr" href="{re.escape(qr)}\?download=1" download="tisi-qr-{INV}.png"', page)
    assert re.search(r'id="slip" href="http://127.0.0.1:8080/slip/[^"]+\.pdf"', page)
    assert "Thai QR Payment" in page and "สำนักงานมาตรฐานผลิตภัณฑ์อุตสาหกรรม (สมอ.)" in page
    assert re.search(r'id="contact">ติดต่อ: สมอ.</p>', page)  # SUPPORT_CONTACT empty: "สมอ." only
    download = client.get(qr.replace(BASE, "") + "?download=1")
    assert download.status_code == 200 and download.mimetype == "image/png"
    assert download.headers["Content-Disposition"] == f'attachment; filename="tisi-qr-{INV}.png"'


def test_paid_page_is_a_payment_acknowledgement(client, line, seed, bank):
    rows = seed(invoice_row(1, invoice_no=INV, amount="36000.00"))
    track = _track(line)
    body = bank.body("payment", rows[0], bank_ref="KTB20261125A1", channel="ATM",
                     transDateTime="2026-11-25T14:30:00+07:00")
    assert bank.post(body).status_code == 200
    response = client.get(track, environ_base=fresh_ip())
    _headers_ok(response)
    page = response.get_data(as_text=True)
    assert "ยอดที่ต้องชำระ" not in page and "รอชำระ" not in page
    assert "ชำระแล้ว" in page and "หลักฐานการชำระเงิน" in page
    assert re.search(r'id="amount">36,000.00 บาท<', page)
    assert re.search(r'id="paid-at">25 พ.ย. 2569 14:30 น.<', page)  # Bangkok time, Buddhist era
    assert re.search(r'id="bank-ref">KTB20261125A1<', page) and re.search(r'id="channel">ตู้ ATM<|id="channel">ATM<', page)
    assert "/qr/" not in page and "/slip/" not in page and 'id="print"' in page
    en = client.get(track + "?lang=en", environ_base=fresh_ip()).get_data(as_text=True)
    assert "Payment acknowledgement" in en and re.search(r'id="paid-at">25 Nov 2026, 14:30<', en)
    assert "Amount due" not in en


def test_expired_page_says_so_without_qr_or_slip(client, line, seed):
    seed(invoice_row(1, invoice_no=INV, due_date=past(2)))
    page = client.get(_track(line), environ_base=fresh_ip()).get_data(as_text=True)
    assert "เกินกำหนดชำระ" in page and "กรุณาติดต่อ สมอ. เพื่อขอใบแจ้งหนี้ใหม่" in page
    assert "/qr/" not in page and "/slip/" not in page


def test_support_contact_is_shown(fake_line, database_url, db, seed):
    settings = Settings.from_env(make_env(database_url, fake_line.url, SUPPORT_CONTACT="  โทร 1169   LINE @tisi "))
    app = create_app(settings, db=db)
    try:
        client = app.test_client()
        page = client.get("/track/nothing.here", environ_base=fresh_ip()).get_data(as_text=True)
        assert 'id="contact">ติดต่อ: สมอ. · โทร 1169 LINE @tisi</p>' in page
    finally:
        app.extensions["tisi"].close()


@pytest.mark.parametrize("path", ["/track/{tampered}", "/track/made-up", "/slip/{tampered}.pdf", "/slip/x.pdf"])
def test_bad_links_get_an_html_404_in_thai_or_english(client, line, seed, path):
    seed(invoice_row(1, invoice_no=INV))
    token = _track(line).rsplit("/", 1)[-1]
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    url = path.format(tampered=tampered)
    th = client.get(url, environ_base=fresh_ip())
    assert th.status_code == 404 and th.mimetype == "text/html"
    _headers_ok(th)
    assert "ไม่พบลิงก์นี้" in th.get_data(as_text=True) and '<html lang="th">' in th.get_data(as_text=True)
    en = client.get(url + "?lang=en", environ_base=fresh_ip())
    assert en.status_code == 404 and "Link not found" in en.get_data(as_text=True)


def test_machines_still_get_json(client):
    response = client.get("/qr/nothing.png")
    assert response.status_code == 404 and response.is_json
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/healthz").is_json


def test_assets_are_files_with_a_print_stylesheet(client):
    css = client.get("/assets/tisi.css")
    assert css.status_code == 200 and css.mimetype == "text/css" and "@media print" in css.get_data(as_text=True)
    assert client.get("/assets/track.js").mimetype == "text/javascript"


# -- rate limits -------------------------------------------------------------------------------
def _exhaust(client, url, ip, n=60) -> None:
    for i in range(n):
        assert client.get(url, environ_base=ip).status_code in (200, 404), i


@pytest.mark.parametrize("page", ["track", "slip"])
def test_61st_request_in_a_minute_gets_429_with_retry_after(client, line, seed, page):
    seed(invoice_row(1, invoice_no=INV))
    links = _links(line)
    url = links["ติดตามสถานะการชำระ"] if page == "track" else links["พิมพ์ใบแจ้งการชำระเงิน"]
    ip = fresh_ip()
    _exhaust(client, url, ip)
    limited = client.get(url, environ_base=ip)
    assert limited.status_code == 429 and limited.mimetype == "text/html"
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert "มีการเรียกใช้บ่อยเกินไป" in limited.get_data(as_text=True)
    _headers_ok(limited)
    assert client.get(url, environ_base=fresh_ip()).status_code == 200  # another client is not affected


def test_qr_callback_and_bank_are_never_limited(client, line, seed, bank):
    rows = seed(invoice_row(1, invoice_no=INV))
    qr = next(m for m in line.say(INV) if m["type"] == "image")["originalContentUrl"].replace(BASE, "")
    ip = fresh_ip()
    assert all(client.get(qr, environ_base=ip).status_code == 200 for _ in range(70))
    assert all(line.post([]).status_code == 200 for _ in range(65))
    answers = {bank.post(bank.body("inquiry", rows[0])).status_code for _ in range(65)}
    assert answers == {200}


def test_api_is_limited_per_token_and_a_wrong_token_does_not_spend_it(client, seed):
    from bot.web import guard as webguard

    seed(invoice_row(1, invoice_no=INV))
    limit = int(webguard.API_LIMIT.split()[0])
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    ip = fresh_ip()
    for i in range(limit):
        assert client.get(f"/api/v1/invoices/{INV}", headers=auth, environ_base=ip).status_code == 200, i
    limited = client.get(f"/api/v1/invoices/{INV}", headers=auth, environ_base=fresh_ip())  # same token, other address
    assert limited.status_code == 429 and limited.is_json and limited.json["error"] == "too_many_requests"
    assert int(limited.headers["Retry-After"]) > 0
    wrong = client.get(f"/api/v1/invoices/{INV}", headers={"Authorization": "Bearer guess"}, environ_base=fresh_ip())
    assert wrong.status_code == 401


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=1).ping())
    except Exception:
        return False


@pytest.mark.parametrize("storage", ["memory://", "redis://127.0.0.1:6379"])
def test_limits_are_shared_between_processes_only_through_redis(storage, fake_line, database_url, db, seed):
    if storage.startswith("redis") and not _redis_up():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not running on 127.0.0.1:6379")
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings = Settings.from_env(make_env(database_url, fake_line.url, RATELIMIT_STORAGE_URI=storage))
    apps = [create_app(settings, db=db) for _ in range(2)]  # two web processes (or machines)
    try:
        a, b = (app.test_client() for app in apps)
        ip = fresh_ip()
        _exhaust(a, "/track/nothing.here", ip, 30)
        _exhaust(b, "/track/nothing.here", ip, 30)
        last = b.get("/track/nothing.here", environ_base=ip)
        # Redis: one budget of 60 for the client across both; memory: each process counts its own.
        assert last.status_code == (429 if storage.startswith("redis") else 404)
    finally:
        for app in apps:
            app.extensions["tisi"].close()


def test_bad_ratelimit_storage_is_refused():
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        Settings.from_env(make_env("sqlite:///instance/tisi_pay.db", "http://127.0.0.1:9",
                                   RATELIMIT_STORAGE_URI="mongodb://x"))


def test_expired_page_shows_the_invoice_amount_not_an_amount_to_pay(client, line, seed):
    seed(invoice_row(1, invoice_no=INV, due_date=past(2)))
    track = _track(line)
    page = client.get(track, environ_base=fresh_ip()).get_data(as_text=True)
    assert "ยอดตามใบแจ้งหนี้" in page and "ยอดที่ต้องชำระ" not in page and "เกินกำหนดชำระ" in page


def test_the_saved_qr_is_a_payment_card_that_says_what_it_pays(client, line, seed, clock):
    clock.at(BEFORE_DUE)  # the due dates below are fixed: so is the day the test runs on
    import io

    import zxingcpp
    from PIL import Image

    from bot.render.paycard import PayCard, card_lines

    seed(invoice_row(1, invoice_no=INV, amount="1200.50", due_date="2026-12-31"))
    qr_url = next(m for m in line.say(INV) if m["type"] == "image")["originalContentUrl"].replace(
        "http://127.0.0.1:8080", "")
    bare = client.get(qr_url)
    saved = client.get(qr_url + "?download=1")
    assert saved.status_code == 200 and saved.mimetype == "image/png"
    assert f"tisi-qr-{INV}.png" in saved.headers["Content-Disposition"]
    assert saved.headers["ETag"] != bare.headers["ETag"]  # two pictures, two cache entries
    card, code = Image.open(io.BytesIO(saved.data)), Image.open(io.BytesIO(bare.data))
    assert card.width > code.width and card.height > card.width  # a card, the QR with lines under it
    payloads = {b.text for b in zxingcpp.read_barcodes(card)}
    assert payloads == {b.text for b in zxingcpp.read_barcodes(code)} and len(payloads) == 1
    # What it says under the QR, in Thai by default.
    said = [text for _, text in card_lines(PayCard(payloads.pop(), Decimal("1200.50"), INV, "68110001",
                                                    date(2026, 12, 31)))]
    assert said[1] == "สำนักงานมาตรฐานผลิตภัณฑ์อุตสาหกรรม (สมอ.)" and said[2] == "1,200.50 บาท"
    assert any(INV in s for s in said) and "ชำระภายใน 31 ธันวาคม 2569" in said
    # The lower part of the card is not blank: the lines are drawn.
    lower = card.convert("L").crop((0, card.height * 3 // 5, card.width, card.height))
    assert lower.getextrema()[0] < 100
