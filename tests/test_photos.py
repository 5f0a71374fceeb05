"""Photos users send: fetched from the fake LINE API's data host over HTTP, read on the photo
pool, answered by the chat — on photos the tests make themselves from our own slip PDF and QR,
and from e-slip mini QRs built here. Both databases."""
from __future__ import annotations

import functools
import io
import os
import random
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pypdfium2 as pdfium
import pytest
import segno
from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import select

from bot.core.thaiqr import bill_payment_payload, crc16_ccitt_false, tlv
from bot.data.models import InboxEvent, PhotoRead
from tests.conftest import BILLER_ID, OTHER_USER, USER, drain, invoice_row

INV = "2568110400000001"
REF2 = "68110001"


def photo_event(message_id: str, *, user_id: str = USER, kind: str = "image", image_set: tuple | None = None,
                file_name: str | None = None) -> dict:
    message = {"id": message_id, "type": kind, "quoteToken": "q"}
    if kind == "image":
        message["contentProvider"] = {"type": "line"}
    if image_set:
        message["imageSet"] = {"id": image_set[0], "index": image_set[1], "total": image_set[2]}
    if kind == "file":
        message.update(fileName=file_name or "slip.pdf", fileSize=1)
    return {"type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
            "source": {"type": "user", "userId": user_id}, "webhookEventId": uuid.uuid4().hex.upper()[:26],
            "deliveryContext": {"isRedelivery": False}, "replyToken": uuid.uuid4().hex, "message": message}


def send_photo(line, fake_line, data: bytes, *, content_type: str = "image/jpeg", status: int = 200, failures: int = 0,
               **kw) -> list:
    message_id = str(random.randrange(10**17, 10**18))
    fake_line.put_content(message_id, data, content_type, status, failures)
    event = photo_event(message_id, **kw)
    assert line.post([event]).status_code == 200
    return line.reply_to(event["replyToken"])


def encode(img: Image.Image, fmt: str = "JPEG", **kw) -> bytes:
    out = io.BytesIO()
    img.convert("RGB" if fmt == "JPEG" else img.mode).save(out, fmt, **kw)
    return out.getvalue()


def qr_image(payload: str, size: int) -> Image.Image:
    out = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(out, kind="png", scale=8, border=4)
    return Image.open(out).convert("L").resize((size, size), Image.NEAREST)


def screenshot_with(code: Image.Image, at=(480, 1400)) -> Image.Image:
    """A phone screenshot (1080×2340) with the code small on it, beside some text and colour."""
    shot = Image.new("RGB", (1080, 2340), (244, 246, 250))
    draw = ImageDraw.Draw(shot)
    draw.rectangle((0, 0, 1080, 180), fill=(27, 79, 156))
    for y in range(300, 1300, 90):
        draw.rectangle((60, y, 60 + random.randrange(300, 900), y + 30), fill=(200, 205, 215))
    shot.paste(code.convert("RGB"), at)
    return shot


def mini_qr(bank: str, ref: str, *, drop_crc_zeros: bool = False) -> str:
    body = tlv("00", tlv("00", "000001") + tlv("01", bank) + tlv("02", ref)) + tlv("51", "TH") + "9104"
    crc = crc16_ccitt_false(body)
    if drop_crc_zeros:  # as some bank apps print it
        stripped = crc.lstrip("0") or "0"
        return body[:-2] + f"{len(stripped):02d}" + stripped
    return body + crc


# Transaction reference shapes seen on public e-slips (no bank publishes a specification).
ESLIPS = {
    "KBank": ("004", "015331112233ABC0000"),
    "KTB": ("006", "A8F3C19D2E4B7A601"),
    "BBL": ("002", "2026120410304512345678901"),
    "SCB": ("014", "20261204ABCDEFGHJKLMNPQRS"),
}


@pytest.fixture
def invoice(seed):
    return seed(invoice_row(1, invoice_no=INV, ref2=REF2))[0]


@pytest.fixture
def slip_page(line, invoice, client) -> Image.Image:
    """Our own pay-in slip PDF, printed and photographed: page 1 at 150 dpi."""
    card = line.say(INV)[0]
    slip = next(b["action"]["uri"] for b in card["contents"]["footer"]["contents"] if "/slip/" in b["action"]["uri"])
    pdf = client.get(urlparse(slip).path).data
    return pdfium.PdfDocument(pdf)[0].render(scale=150 / 72).to_pil().convert("RGB")


def _card_for(messages: list, invoice_no: str) -> bool:
    return any(m["type"] == "flex" and invoice_no in m["altText"] for m in messages)


def _read(db, message_count: int | None = None) -> list[PhotoRead]:
    with db.sessions() as s:
        return list(s.scalars(select(PhotoRead).order_by(PhotoRead.id)))


def perspective(img: Image.Image) -> Image.Image:
    """The slip photographed at an angle: a keystone warp."""
    w, h = img.size
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = [(w * 0.06, h * 0.03), (w * 0.95, 0), (w, h), (0, h * 0.97)]
    coeffs = _perspective_coeffs(dst, src)
    return img.transform((w, h), Image.PERSPECTIVE, coeffs, Image.BICUBIC, fillcolor=(255, 255, 255))


def _perspective_coeffs(pa, pb):
    """The 8 coefficients PIL's PERSPECTIVE transform takes (Gaussian elimination, no numpy)."""
    rows = []
    for (x, y), (u, v) in zip(pa, pb):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, v])
    n = 8
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(n):
            if r != col:
                f = rows[r][col] / rows[col][col]
                rows[r] = [a - f * b for a, b in zip(rows[r], rows[col])]
    return [rows[i][n] / rows[i][i] for i in range(n)]


def shrink(img: Image.Image, edge: int = 1280) -> Image.Image:
    """As LINE does to a photo it keeps."""
    out = img.copy()
    out.thumbnail((edge, edge))
    return out


SLIP_PHOTOS = {
    "pdf page as is": lambda p: p,
    "rotated 3°": lambda p: p.rotate(3, expand=True, fillcolor="white"),
    "rotated 10°": lambda p: p.rotate(10, expand=True, fillcolor="white"),
    "rotated 90°": lambda p: p.rotate(90, expand=True),
    "rotated 180°": lambda p: p.rotate(180),
    "in perspective": perspective,
    "slightly blurred": lambda p: p.filter(ImageFilter.GaussianBlur(1.2)),
    "shrunk to 1280 px as LINE does": shrink,
    "photo of a screen (noise, low contrast)": lambda p: Image.blend(
        p, Image.effect_noise(p.size, 40).convert("RGB"), 0.18),
}


@pytest.mark.parametrize("variant", list(SLIP_PHOTOS))
def test_a_photo_of_our_slip_answers_with_the_invoice_card_and_a_watch(variant, line, fake_line, slip_page, db):
    photo = SLIP_PHOTOS[variant](slip_page)
    messages = send_photo(line, fake_line, encode(photo, "JPEG", quality=80), user_id=OTHER_USER)
    assert _card_for(messages, INV), messages
    assert any(m["type"] == "image" for m in messages)  # still payable: the QR
    (read,) = _read(db)
    assert (read.outcome, read.invoice_no, read.ref2) == ("our_bill", INV, REF2)
    assert read.sha256 and len(read.sha256) == 64
    # The user who sent it is watched: the paid notice follows.
    from bot.data.models import LineUser, Watch

    with db.sessions() as s:
        watched = s.scalar(select(Watch.id).join(LineUser, LineUser.id == Watch.line_user_id)
                           .where(LineUser.user_id == OTHER_USER))
    assert watched is not None


def test_a_small_qr_in_a_phone_screenshot_and_the_pdf_itself(line, fake_line, invoice, client, db):
    payload = bill_payment_payload(BILLER_ID, INV, REF2, "1000.00")
    shot = screenshot_with(qr_image(payload, 120))
    assert _card_for(send_photo(line, fake_line, encode(shot, "PNG"), content_type="image/png"), INV)
    card = line.say(INV)[0]
    slip = next(b["action"]["uri"] for b in card["contents"]["footer"]["contents"] if "/slip/" in b["action"]["uri"])
    pdf = client.get(urlparse(slip).path).data
    messages = send_photo(line, fake_line, pdf, content_type="application/pdf", kind="file", file_name="slip.pdf")
    assert _card_for(messages, INV)
    assert [r.outcome for r in _read(db)] == ["our_bill", "our_bill"]


def test_paid_invoice_photo_shows_the_paid_details(line, fake_line, invoice, bank, db):
    assert bank.post(bank.body("payment", invoice, bank_ref="KTBPHOTO01")).get_json()["respCode"] == "0000"
    payload = bill_payment_payload(BILLER_ID, INV, REF2, "1000.00")
    messages = send_photo(line, fake_line, encode(qr_image(payload, 400), "PNG"), content_type="image/png")
    assert _card_for(messages, INV)
    assert "ชำระแล้ว" in str(messages) and not any(m["type"] == "image" for m in messages)  # no QR to pay again


def test_a_barcode_amount_that_differs_is_pointed_out(line, fake_line, invoice, seed):
    seed(invoice_row(1, invoice_no=INV, ref2=REF2, amount="1250.00"))  # re-issued with another amount
    old = bill_payment_payload(BILLER_ID, INV, REF2, "1000.00")
    messages = send_photo(line, fake_line, encode(qr_image(old, 400), "PNG"), content_type="image/png")
    assert _card_for(messages, INV)
    note = messages[-1]["text"]
    assert "1,000.00" in note and "1,250.00" in note


def test_photos_sent_together_answer_each_but_show_one_invoice_once(line, fake_line, invoice, db):
    payload = bill_payment_payload(BILLER_ID, INV, REF2, "1000.00")
    data = encode(qr_image(payload, 400), "PNG")
    set_id = uuid.uuid4().hex[:19].upper()
    ids = [str(random.randrange(10**17, 10**18)) for _ in range(2)]
    for message_id in ids:
        fake_line.put_content(message_id, data, "image/png")
    events = [photo_event(ids[1], image_set=(set_id, 2, 2)), photo_event(ids[0], image_set=(set_id, 1, 2))]
    assert line.post(events).status_code == 200  # in any order, as LINE sends them
    answers = [line.reply_to(e["replyToken"]) for e in events]
    cards = [a for a in answers if _card_for(a, INV)]
    assert len(cards) == 1, answers
    other = next(a for a in answers if not _card_for(a, INV))
    assert INV in other[0]["text"]  # "shown above"


@pytest.mark.parametrize("bank_name", list(ESLIPS))
def test_an_eslip_of_a_confirmed_payment_answers_paid(bank_name, line, fake_line, invoice, bank, db):
    code, ref = ESLIPS[bank_name]
    assert bank.post(bank.body("payment", invoice, bank_ref=ref)).get_json()["respCode"] == "0000"
    shot = screenshot_with(qr_image(mini_qr(code, ref, drop_crc_zeros=bank_name == "SCB"), 150), at=(850, 2050))
    messages = send_photo(line, fake_line, encode(shot, "JPEG", quality=85))
    assert "ชำระแล้ว" in messages[0]["text"] and INV in messages[0]["text"] and ref in messages[0]["text"]
    (read,) = _read(db)
    assert (read.outcome, read.bank_code, read.trans_ref) == ("eslip", code, ref)


def test_an_eslip_not_confirmed_yet_is_remembered_and_pushed_once_when_it_is(line, fake_line, invoice, bank, db):
    code, ref = ESLIPS["KTB"]
    shot = screenshot_with(qr_image(mini_qr(code, ref), 150))
    messages = send_photo(line, fake_line, encode(shot, "PNG"), content_type="image/png", user_id=OTHER_USER)
    assert ref in messages[0]["text"] and "ยังไม่" in messages[0]["text"]
    # Another user sends the same slip: answered, and recorded as presented before.
    again = send_photo(line, fake_line, encode(shot, "PNG"), content_type="image/png", user_id=USER)
    assert ref in again[0]["text"]
    assert [r.presented_before for r in _read(db)] == [False, True]
    before = len(fake_line.pushes())
    for _ in range(2):  # the bank repeats itself
        bank.post(bank.body("payment", invoice, bank_ref=ref))
    assert fake_line.wait_for(lambda f: len(f.pushes()) >= before + 2)
    drain(db)
    pushed_to = sorted(p.to for p in fake_line.pushes()[before:])
    assert pushed_to == sorted([OTHER_USER, USER])  # once each, whatever the bank repeats


@pytest.mark.parametrize("payload", [
    # PromptPay to a person (tag 29, a phone number) and another biller's bill payment.
    "00020101021129370016A000000677010111011300668123456785802TH53037646304",
    bill_payment_payload("010555012345601", "INV001", "R2", "500.00"),
], ids=["promptpay to a person", "another biller"])
def test_someone_elses_qr_is_not_a_tisi_invoice(payload, line, fake_line, invoice, db):
    if payload.endswith("6304"):
        payload += crc16_ccitt_false(payload)
    messages = send_photo(line, fake_line, encode(qr_image(payload, 400), "PNG"), content_type="image/png")
    assert "ไม่ใช่ใบแจ้งหนี้ของ สมอ." in messages[0]["text"]
    assert _read(db)[0].outcome == "not_ours"


def test_nothing_readable_and_two_invoices_in_one_photo_say_how_to_take_a_photo(line, fake_line, seed, db):
    rows = seed(invoice_row(1), invoice_row(2))
    noise = Image.effect_noise((900, 1200), 60).convert("RGB")
    assert "ถ่ายภาพใหม่" in send_photo(line, fake_line, encode(noise))[0]["text"]
    both = Image.new("L", (1000, 500), 255)
    for i, row in enumerate(rows):
        both.paste(qr_image(bill_payment_payload(BILLER_ID, row["invoice_no"], row["ref2"], row["amount"]), 400),
                   (50 + i * 500, 50))
    messages = send_photo(line, fake_line, encode(both, "PNG"), content_type="image/png")
    assert "ถ่ายภาพใหม่" in messages[0]["text"] and not _card_for(messages, rows[0]["invoice_no"])
    assert [r.outcome for r in _read(db)] == ["unreadable", "ambiguous"]


@functools.cache
def _huge(name: str) -> bytes:
    """Made once for both databases (encoding 400 million pixels took 2 s a test)."""
    if name == "over 50 megapixels":
        return encode(Image.new("L", (8000, 7000), 255), "PNG")
    data = encode(Image.new("1", (20000, 20000), 1), "PNG")  # a few KB that would be 400 million pixels
    assert len(data) < 1_000_000
    return data


@pytest.mark.parametrize("name,data,expected", [
    ("truncated JPEG", None, "corrupt"),
    ("not an image", b"hello, this is text", "unsupported"),
    ("over 20 MB", b"\xff\xd8" + b"\x00" * (20 * 1024 * 1024 + 10), "too_large"),
    ("over 50 megapixels", None, "too_many_pixels"),
    ("decompression bomb", None, "bomb"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_files_get_a_polite_answer_and_nothing_is_kept(name, data, expected, line, fake_line, db):
    if name == "truncated JPEG":
        whole = encode(Image.effect_noise((800, 600), 50))
        data = whole[: len(whole) // 2]
    if name in ("over 50 megapixels", "decompression bomb"):
        data = _huge(name)
    messages = send_photo(line, fake_line, data)
    assert messages and messages[0]["type"] == "text" and messages[0]["text"]
    (read,) = _read(db)
    assert (read.outcome, read.detail) == ("refused", expected)
    assert read.invoice_no is None and read.trans_ref is None


@pytest.mark.parametrize("status", [404, 410])
def test_content_gone_from_line_gets_a_polite_answer(status, line, fake_line, db):
    messages = send_photo(line, fake_line, b"", status=status)
    assert "ส่งใหม่" in messages[0]["text"]
    assert _read(db)[0].outcome == "gone"


def test_a_content_host_failing_for_a_while_is_tried_again_and_the_photo_read(line, fake_line, invoice, db,
                                                                               monkeypatch):
    from bot.runtime import photos

    monkeypatch.setattr(photos, "FETCH_BASE", 0.2)
    payload = bill_payment_payload(BILLER_ID, INV, REF2, "1000.00")
    messages = send_photo(line, fake_line, encode(qr_image(payload, 300), "PNG"), content_type="image/png", failures=3)
    assert _read(db)[0].outcome == "our_bill" and any(m["type"] == "image" for m in messages)


def test_a_content_host_that_keeps_failing_is_said_as_it_is_not_as_unsent(line, fake_line, db, monkeypatch):
    """A 5xx is not a 410 (issue 29, item 2): the user is not told the photo was unsent."""
    from bot.runtime import photos

    monkeypatch.setattr(photos, "FETCH_BASE", 0.2)
    monkeypatch.setattr(photos, "FETCH_FOR", 2.0)
    messages = send_photo(line, fake_line, b"whatever", failures=1000)
    (read,) = _read(db)
    assert read.outcome == "not_fetched" and "500" in read.detail
    said = messages[0]["text"]
    assert "ตอนนี้ยังดึงรูปนี้จาก LINE ไม่ได้" in said and "ยกเลิก" not in said


def test_the_image_is_never_stored(line, fake_line, invoice, db):
    payload = bill_payment_payload(BILLER_ID, INV, REF2, "1000.00")
    data = encode(qr_image(payload, 300), "PNG")
    send_photo(line, fake_line, data, content_type="image/png")
    with db.sessions() as s:
        rows = [r._mapping for r in s.execute(select(PhotoRead.__table__))]
        events = [r.payload for r in s.execute(select(InboxEvent.payload))]
    kept = repr(rows) + repr(events)
    assert data[100:140].hex() not in kept and "iVBOR" not in kept  # neither the bytes nor base64
    import hashlib

    assert rows[0]["sha256"] == hashlib.sha256(data).hexdigest()


def test_the_loading_animation_shows_while_reading(line, fake_line, invoice):
    payload = bill_payment_payload(BILLER_ID, INV, REF2, "1000.00")
    send_photo(line, fake_line, encode(qr_image(payload, 300), "PNG"), content_type="image/png")
    assert any(call["chatId"] == USER for call in fake_line.loading)


@pytest.mark.parametrize("payload,bank_code,ref", [
    # Published sample payloads (promptparse's and thai-qr-payment's tests), the first with the CRC's leading zero.
    ("004000060000010103002021900021231231212000115102TH91049C30", "002", "0002123123121200011"),
    ("004100060000010103014022000111222233344ABCD125102TH910417DF", "014", "00111222233344ABCD12"),
])
def test_published_eslip_samples_are_read_and_a_wrong_crc_is_not(payload, bank_code, ref, line, fake_line, db):
    from bot.core.photocodes import read_eslip

    slip = read_eslip(payload)
    assert (slip.bank_code, slip.trans_ref) == (bank_code, ref)
    assert read_eslip(payload[:-1] + ("0" if payload[-1] != "0" else "1")) is None  # one CRC digit off
    messages = send_photo(line, fake_line, encode(screenshot_with(qr_image(payload, 140)), "PNG"),
                          content_type="image/png")
    assert ref in messages[0]["text"]


def test_a_reader_child_starts_without_the_app_in_it(line, fake_line, invoice):
    """The fork server preloads all a reader runs (bot.runtime.reader_child): a child that had to
    import the app (SQLAlchemy, the models, the SDK) to unpickle its task took a second to start,
    after every worker start and every reader that died. A photo read, then the readers' mappings."""
    payload = bill_payment_payload(BILLER_ID, INV, REF2, "1000.00")
    assert _card_for(send_photo(line, fake_line, encode(qr_image(payload, 400), "PNG")), INV)
    servers = [pid for pid in _children(os.getpid()) if b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    readers = [pid for server in servers for pid in _children(server)]
    assert readers
    for pid in readers:
        loaded = Path(f"/proc/{pid}/maps").read_text()
        assert "zxingcpp" in loaded  # what a reader needs is in it, and nothing of the app
        assert "sqlalchemy" not in loaded and "psycopg" not in loaded and "pydantic" not in loaded


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, ValueError):
            pass
    return found
