"""While the database cannot be reached every request gets a 503 with Retry-After and one log
line, never a traceback; QR images LINE fetches are served from the cache where the token is
valid (issue 29, item 4)."""
from __future__ import annotations

import logging

import pytest

from bot.data.db import Database
from tests.conftest import API_TOKEN, invoice_row

BASE = "http://127.0.0.1:8080"


@pytest.fixture
def outage(app):
    """`down()` makes the app's database unreachable; undone after the test."""
    tisi = app.extensions["tisi"]
    real = tisi.db
    gone = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")

    def down():
        tisi.db = gone

    yield down
    tisi.db = real
    gone.dispose()


def _qr_url(line, invoice_no) -> str:
    return next(m for m in line.say(invoice_no) if m["type"] == "image")["originalContentUrl"].replace(BASE, "")


def test_qr_images_are_served_from_the_cache_through_an_outage(client, line, seed, outage, caplog):
    rows = seed(invoice_row(1), invoice_row(2))
    seen = _qr_url(line, rows[0]["invoice_no"])
    never = _qr_url(line, rows[1]["invoice_no"]).replace(".png", "")  # its token, never fetched yet
    before = client.get(seen)
    assert before.status_code == 200
    outage()
    caplog.set_level(logging.INFO)
    during = client.get(seen)
    assert during.status_code == 200 and during.data == before.data and during.headers["ETag"] == before.headers["ETag"]
    saved = client.get(seen + "?download=1")
    assert saved.status_code == 200 and saved.mimetype == "image/png"
    unknown = client.get(never + ".png")
    assert unknown.status_code == 503 and unknown.headers["Retry-After"] == "5"
    assert client.get("/qr/made-up-token-xxxxxxxx.png").status_code == 404  # no database needed to refuse it
    assert not [r for r in caplog.records if r.exc_info]


def test_pages_and_the_api_answer_503_with_retry_after(client, line, seed, outage, caplog):
    rows = seed(invoice_row(1))
    card = line.say(rows[0]["invoice_no"])[0]
    track = next(b["action"]["uri"] for b in card["contents"]["footer"]["contents"] if "/track/" in b["action"]["uri"])
    outage()
    caplog.set_level(logging.INFO)
    page = client.get(track.replace(BASE, ""), headers={"Accept": "text/html"})
    assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0 and page.mimetype == "text/html"
    assert "กรุณาลองใหม่" in page.get_data(as_text=True)
    api = client.get(f"/api/v1/invoices/{rows[0]['invoice_no']}", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert api.status_code == 503 and api.get_json()["error"] == "unavailable" and int(api.headers["Retry-After"]) > 0
    lines = [r for r in caplog.records if "answered 503" in r.getMessage()]
    assert len(lines) == 2 and not [r for r in caplog.records if r.exc_info]
