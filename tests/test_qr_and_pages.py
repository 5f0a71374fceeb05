"""GET /qr/<token>.png decoded with a real QR reader; /track pages; /healthz; settings."""
import io
import json

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from bot.config import ConfigError, Settings
from bot.core.thaiqr import parse_tlv, verify_crc
from bot.data.models import Invoice
from tests.conftest import BILLER_ID, invoice_row

INV = "2568110400012345"


def _qr_url(line, text=INV):
    messages = line.say(text)
    image = next(m for m in messages if m["type"] == "image")
    assert image["previewImageUrl"] == image["originalContentUrl"]
    return image["originalContentUrl"].replace("http://127.0.0.1:8080", "")


def test_qr_png_is_a_payable_bill_payment_for_exactly_that_invoice(client, line, seed):
    seed(invoice_row(1, invoice_no=INV, ref2="68110001", amount="36000.50"))
    response = client.get(_qr_url(line))
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert len(response.data) < 1_000_000  # LINE's preview limit
    image = Image.open(io.BytesIO(response.data))
    decoded = zxingcpp.read_barcodes(image)
    assert len(decoded) == 1 and decoded[0].format == zxingcpp.BarcodeFormat.QRCode
    payload = decoded[0].text
    assert verify_crc(payload) and payload[-4:] == payload[-4:].upper()
    fields = parse_tlv(payload)
    assert fields["00"] == "01"
    assert fields["01"] == "12"  # dynamic
    assert parse_tlv(fields["30"]) == {"00": "A000000677010112", "01": BILLER_ID, "02": INV, "03": "68110001"}
    assert fields["53"] == "764" and fields["58"] == "TH" and fields["54"] == "36000.50"
    assert image.size[0] >= 300  # large enough for a phone camera at a glance


def test_qr_is_cacheable_and_revalidates(client, line, seed):
    seed(invoice_row(1, invoice_no=INV))
    url = _qr_url(line)
    first = client.get(url)
    assert "max-age" in first.headers["Cache-Control"] and first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("mutate", [
    lambda u: u[:-6] + ("A" if u[-6] != "A" else "B") + u[-5:],  # tampered tag (one character of it, always changed)
    lambda u: u.replace("/qr/", "/qr/x"),
    lambda u: "/qr/" + "A" * 16 + "." + "B" * 22 + ".png",
    lambda u: "/qr/../../etc/passwd.png",
    lambda u: "/qr/' OR 1=1 --.png",
])
def test_tampered_or_made_up_tokens_are_404(client, line, seed, mutate):
    seed(invoice_row(1, invoice_no=INV))
    url = _qr_url(line)
    assert client.get(mutate(url)).status_code == 404


def test_qr_token_is_not_a_track_token(client, line, seed):
    seed(invoice_row(1, invoice_no=INV))
    token = _qr_url(line).split("/qr/")[1][:-4]
    assert client.get(f"/track/{token}").status_code == 404


def test_paid_invoice_qr_is_gone(client, line, seed, db):
    seed(invoice_row(1, invoice_no=INV))
    url = _qr_url(line)
    with db.transaction() as s:
        s.scalar(select(Invoice)).status = "paid"
    assert client.get(url).status_code == 410


def test_track_page_in_thai_and_english(client, line, seed, db):
    seed(invoice_row(1, invoice_no=INV, amount="1200.50"))
    card = line.say(INV)[0]
    track = card["contents"]["footer"]["contents"][0]["action"]["uri"].replace("http://127.0.0.1:8080", "")
    th = client.get(track)
    assert th.status_code == 200 and "text/html" in th.content_type
    page = th.get_data(as_text=True)
    assert "1,200.50 บาท" in page and "รอชำระ" in page and "/qr/" in page
    en = client.get(track + "?lang=en").get_data(as_text=True)
    assert "1,200.50 baht" in en and "Unpaid" in en
    with db.transaction() as s:
        s.scalar(select(Invoice)).status = "paid"
    assert "/qr/" not in client.get(track).get_data(as_text=True)


def test_healthz(client):
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "ok" and body["db"] == "ok"
    assert {"worker_seen_s", "inbox_pending", "outbox_pending", "outbox_oldest_s"} <= set(body)


def test_healthz_503_when_the_database_is_down(settings, fake_line, tmp_path):
    from bot.data.db import Database
    from bot.factory import create_app

    broken = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = create_app(settings, db=broken)
    app.extensions["tisi"].worker = None  # nothing to deliver from a database that is down
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["db"] == "unavailable"
    app.extensions["tisi"].close()


def test_missing_settings_are_all_named_at_once():
    with pytest.raises(ConfigError) as err:
        Settings.from_env({})
    for name in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "PUBLIC_BASE_URL", "BILLER_ID", "SECRET_KEY"):
        assert name in str(err.value)


def test_bad_biller_id_is_refused():
    env = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "PUBLIC_BASE_URL": "https://x.example",
           "BILLER_ID": "12345", "SECRET_KEY": "k"}
    with pytest.raises(ConfigError, match="BILLER_ID"):
        Settings.from_env(env)


def test_defaults():
    env = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "PUBLIC_BASE_URL": "https://x.example/",
           "BILLER_ID": BILLER_ID, "SECRET_KEY": "k"}
    s = Settings.from_env(env)
    assert s.database_url == "sqlite:///instance/tisi_pay.db" and s.line_api_url == "https://api.line.me"
    assert s.worker == "inline" and s.public_base_url == "https://x.example"


def test_unknown_routes_answer_people_with_a_page_and_machines_with_json(client):
    response = client.get("/nope")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "ไม่พบหน้านี้" in response.get_data(as_text=True)
    assert "Page not found" in client.get("/nope?lang=en").get_data(as_text=True)
    assert json.loads(client.get("/callback").data)["error"] == "method_not_allowed"
    assert client.get("/api/v1/nope").is_json and client.get("/bank/nope").is_json


def test_the_front_page_says_what_this_is(client):
    home = client.get("/")
    assert home.status_code == 200 and home.mimetype == "text/html"
    assert "LINE" in home.get_data(as_text=True) and '<html lang="th">' in home.get_data(as_text=True)
    assert "Pay TISI fees in LINE" in client.get("/?lang=en").get_data(as_text=True)
    assert home.headers["Content-Security-Policy"]


def test_a_favicon_for_every_page(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert '<link rel="icon" href="/assets/favicon.svg"' in client.get("/").get_data(as_text=True)
