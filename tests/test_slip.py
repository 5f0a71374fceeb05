"""The pay-in slip read as a bank and a person would: its barcode and QR decoded from the
rendered page, its text extracted, the Thai shaped; the amount in Thai words; 410/404 pages."""
from __future__ import annotations

import io
from decimal import Decimal

import pdfplumber
import pypdfium2 as pdfium
import pytest
import zxingcpp

from bot.core.money import MoneyError, thai_baht_words
from bot.core.thaiqr import QrPayloadError, bill_payment_barcode, parse_tlv, verify_crc
from tests.conftest import BILLER_ID, TAX_ID, invoice_row, past
from tests.pdfreaders import glyphs_only

BEFORE_DUE = "2026-11-20T10:00:00+07:00"
INV = "2568110400012345"
BASE = "http://127.0.0.1:8080"


@pytest.mark.parametrize("amount, words", [
    ("1000", "หนึ่งพันบาทถ้วน"),
    ("15750.50", "หนึ่งหมื่นห้าพันเจ็ดร้อยห้าสิบบาทห้าสิบสตางค์"),
    ("36000", "สามหมื่นหกพันบาทถ้วน"),
    ("1", "หนึ่งบาทถ้วน"),
    ("11", "สิบเอ็ดบาทถ้วน"),
    ("21", "ยี่สิบเอ็ดบาทถ้วน"),
    ("20", "ยี่สิบบาทถ้วน"),
    ("101", "หนึ่งร้อยเอ็ดบาทถ้วน"),
    ("0.25", "ยี่สิบห้าสตางค์"),
    ("0.01", "หนึ่งสตางค์"),
    ("1.01", "หนึ่งบาทหนึ่งสตางค์"),  # a lone satang is หนึ่ง, not เอ็ด
    ("1.21", "หนึ่งบาทยี่สิบเอ็ดสตางค์"),
    ("1000000", "หนึ่งล้านบาทถ้วน"),
    ("1000001", "หนึ่งล้านเอ็ดบาทถ้วน"),
    ("21000000", "ยี่สิบเอ็ดล้านบาทถ้วน"),
    ("12345678.91", "สิบสองล้านสามแสนสี่หมื่นห้าพันหกร้อยเจ็ดสิบแปดบาทเก้าสิบเอ็ดสตางค์"),
    ("100000000", "หนึ่งร้อยล้านบาทถ้วน"),
])
def test_amount_in_thai_words(amount, words):
    assert thai_baht_words(Decimal(amount)) == words


def test_amount_in_words_refuses_float_and_negative():
    with pytest.raises(MoneyError):
        thai_baht_words(1000.0)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        thai_baht_words(Decimal("-1"))


def test_bot_barcode_text():
    assert bill_payment_barcode(BILLER_ID, INV, "68110001", Decimal("36000.50")) == \
        f"|{BILLER_ID}\r{INV}\r68110001\r3600050"
    assert bill_payment_barcode(BILLER_ID, INV, "68110001", "1000") .endswith("\r100000")
    for bad in [("12345", INV, "1", "1"), (BILLER_ID, "ref-1", "1", "1"), (BILLER_ID, INV, "1", "0"),
                (BILLER_ID, INV, "1", "1.005")]:
        with pytest.raises(QrPayloadError):
            bill_payment_barcode(*bad)


def _slip_url(line, text=INV) -> str:
    card = line.say(text)[0]
    buttons = card["contents"]["footer"]["contents"]
    slip = [b["action"] for b in buttons if b["action"]["uri"].endswith(".pdf")]
    assert slip and slip[0]["label"] == "พิมพ์ใบแจ้งการชำระเงิน"
    return slip[0]["uri"].replace(BASE, "")


def _chars(pdf: bytes) -> str:
    """The page's characters in content order; a glyph with no Unicode of its own (the second
    half of a decomposed ำ) is dropped: its text was given by the first half."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        assert len(doc.pages) == 1
        page = doc.pages[0]
        assert (round(page.width), round(page.height)) == (595, 842)  # A4 in points
        return "".join(c["text"] for c in page.chars if not c["text"].startswith("(cid:"))


def test_slip_pdf_barcode_qr_and_text_for_exactly_that_invoice(client, line, seed, clock):
    clock.at(BEFORE_DUE)  # the due dates below are fixed: so is the day the test runs on
    seed(invoice_row(1, invoice_no=INV, ref2="68110001", amount="15750.50", due_date="2026-12-31",
                     payer_name="บริษัท ทดสอบการผลิต จำกัด", fee_code="CERTIFICATION"))
    response = client.get(_slip_url(line))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert f"tisi-payin-{INV}.pdf" in response.headers["Content-Disposition"]

    image = pdfium.PdfDocument(response.data)[0].render(scale=300 / 72).to_pil()
    found = zxingcpp.read_barcodes(image)
    bars = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.Code128]
    qrs = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(bars) == 2 and len(qrs) == 2  # the payer's part and the bank's part
    for text in bars:
        bar, biller, ref1, ref2, satang = text[0], *text[1:].split("\r")
        assert (bar, biller, ref1, ref2, satang) == ("|", BILLER_ID, INV, "68110001", "1575050")
    for payload in qrs:
        assert verify_crc(payload)
        fields = parse_tlv(payload)
        assert parse_tlv(fields["30"]) == {"00": "A000000677010112", "01": BILLER_ID, "02": INV, "03": "68110001"}
        assert fields["54"] == "15750.50" and fields["01"] == "12"

    text = _chars(response.data)
    for part in ("ส่วนของผู้ชำระเงิน", "ส่วนของธนาคาร"):
        assert text.count(part) == 1
    for expected in ("หนึ่งหมื่นห้าพันเจ็ดร้อยห้าสิบบาทห้าสิบสตางค์", INV, "68110001", "31 ธันวาคม 2569",
                     "บริษัท ทดสอบการผลิต จำกัด", TAX_ID, BILLER_ID, "15,750.50 บาท", "ค่าธรรมเนียมใบรับรอง",
                     "สำนักงานมาตรฐานผลิตภัณฑ์อุตสาหกรรม", "75/42 ถนนพระรามที่ 6", "ธนาคารกรุงไทยทุกสาขา",
                     "Krungthai NEXT"):
        assert text.count(expected) >= 2, expected


def test_slip_thai_copies_out_as_written_with_two_extractors(client, line, seed, db, clock):
    """What a person gets when they copy text from the slip: pypdf's text and pdfminer's
    (pdfplumber's) characters, each mapped through the font's ToUnicode, must give the Thai that
    was written, SARA AM included ("ชำระ", not "ชำ:ระ"). pdfminer's own line-building moves
    marks by their position, so its characters are read in content order."""
    clock.at(BEFORE_DUE)  # the due dates below are fixed: so is the day the test runs on
    import pypdf

    from bot.data.models import Invoice

    seed(invoice_row(1, invoice_no=INV, amount="15750.50", due_date="2026-12-31", payer_name="บริษัท ทดสอบการผลิต จำกัด"))
    pdf = client.get(_slip_url(line)).data
    by_order = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        raw_chars = "".join(c["text"] for c in doc.pages[0].chars)
    assert "(cid:" not in raw_chars and ":ระ" not in by_order
    for words in ("ใบแจ้งการชำระเงิน", "ส่วนของผู้ชำระเงิน", "รหัสผู้รับชำระ", "หนึ่งหมื่นห้าพันเจ็ดร้อยห้าสิบบาทห้าสิบสตางค์",
                  "เลขประจำตัวผู้เสียภาษี", "31 ธันวาคม 2569", "บริษัท ทดสอบการผลิต จำกัด", TAX_ID, INV,
                  "ชำระได้ที่ธนาคารกรุงไทยทุกสาขา"):
        assert words in by_order, words
    for words in ("ใบแจ้งการชำระเงิน", "หนึ่งหมื่นห้าพันเจ็ดร้อยห้าสิบบาทห้าสิบสตางค์", "เลขประจำตัวผู้เสียภาษี", TAX_ID, INV):
        assert words in raw_chars.replace(" ", ""), words
    # Created when the invoice was issued: the same invoice gives the same bytes on any day.
    with db.sessions() as session:
        issued = session.query(Invoice).filter_by(invoice_no=INV).one().created_at
    assert pypdf.PdfReader(io.BytesIO(pdf)).metadata["/CreationDate"] == issued.strftime("D:%Y%m%d%H%M%SZ")
    assert client.get(_slip_url(line)).data == pdf


def test_slip_thai_is_shaped_tone_marks_clear_of_upper_vowels(client, line, seed):
    """HarfBuzz shaping puts a tone mark low where there is no upper vowel (ห้า) and high above
    one (หนึ่ง); unshaped text leaves every tone mark at one height, floating over bare consonants."""
    seed(invoice_row(1, invoice_no=INV, amount="15750.50"))
    # the glyphs as drawn: with the /ActualText spans pdfium would report the text spread evenly
    page = pdfium.PdfDocument(glyphs_only(client.get(_slip_url(line)).data))[0].get_textpage()
    chars = [(page.get_text_range(i, 1), page.get_charbox(i)) for i in range(page.count_chars())]
    marks = "ัิีึื็ุู่้๊๋"

    def baseline(i: int) -> float:
        """The bottom of the consonant a mark sits on: marks of one line share it."""
        while i > 0 and chars[i][0] in marks:
            i -= 1
        return round(chars[i][1][1], 1)

    boxes = [(c, b, baseline(i)) for i, (c, b) in enumerate(chars)]
    upper = [b for c, b, _ in boxes if c and c in "ัิีึื็"]
    tones = [(b, line_) for c, b, line_ in boxes if c and c in "่้๊๋"]

    def over(a, b) -> float:
        return min(a[2], b[2]) - max(a[0], b[0])

    stacked = [(t, ln) for t, ln in tones if any(over(t, u) > 0.5 and abs(t[1] - u[3]) < 6 for u in upper)]
    alone = [(t, ln) for t, ln in tones if (t, ln) not in stacked]
    assert stacked and alone
    for t, _ in tones:  # no tone mark overlaps an upper vowel
        assert not any(over(t, u) > 0.5 and min(t[3], u[3]) - max(t[1], u[1]) > 0.3 for u in upper)
    pairs = [(a, s) for a, la in alone for s, ls in stacked if la == ls]  # same line
    assert pairs
    assert all(a[1] < s[1] - 0.8 for a, s in pairs)


def test_slip_is_gone_once_paid_and_for_expired_invoices(client, line, seed, bank):
    rows = seed(invoice_row(1, invoice_no=INV), invoice_row(2, due_date=past(3)))
    url = _slip_url(line)
    assert bank.post(bank.body("payment", rows[0])).status_code == 200
    gone = client.get(url)
    assert gone.status_code == 410 and gone.mimetype == "text/html"
    page = gone.get_data(as_text=True)
    assert "ชำระแล้ว" in page and "ใช้ใบแจ้งการชำระเงินนี้ไม่ได้แล้ว" in page
    assert "/track/" in page  # where its status is
    english = client.get(url + "?lang=en").get_data(as_text=True)
    assert "This invoice was paid on" in english and "can no longer be used" in english
    assert "/track/" in english and "lang=en" in english
    assert "Retry-After" not in gone.headers
    # The expired invoice's card offers no slip (the link would only be refused at the counter).
    card = line.say(rows[1]["invoice_no"])[0]
    assert not [b for b in card["contents"]["footer"]["contents"] if b["action"]["uri"].endswith(".pdf")]


def test_a_gone_slip_says_whether_it_expired_or_was_cancelled(client, line, seed):
    from tests.conftest import API_TOKEN

    first, second = invoice_row(1, invoice_no=INV), invoice_row(2)
    seed(first, second)
    expiring, cancelling = _slip_url(line), _slip_url(line, second["invoice_no"])
    ok = client.get(expiring)
    assert ok.status_code == 200 and "Retry-After" not in ok.headers  # only a 429 says when to come back
    seed({**first, "due_date": past(3)})  # the Institute moved its due date into the past
    expired = client.get(expiring + "?lang=en").get_data(as_text=True)
    assert "This invoice expired on" in expired and "/track/" in expired
    assert "เกินกำหนดชำระ" in client.get(expiring).get_data(as_text=True)
    assert client.post(f"/api/v1/invoices/{second['invoice_no']}/cancel",
                       headers={"Authorization": f"Bearer {API_TOKEN}"}).status_code == 200
    cancelled = client.get(cancelling)
    assert cancelled.status_code == 410 and "ยกเลิก" in cancelled.get_data(as_text=True)
    assert "This invoice was cancelled" in client.get(cancelling + "?lang=en").get_data(as_text=True)


def test_slip_unknown_tampered_or_other_purpose_token_is_an_html_404(client, line, seed):
    seed(invoice_row(1, invoice_no=INV))
    url = _slip_url(line)
    token = url.split("/")[-1][:-4]
    track = line.say(INV)[0]["contents"]["footer"]["contents"][0]["action"]["uri"]
    track_token = track.rsplit("/", 1)[-1]
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "nothing", track_token):
        response = client.get(f"/slip/{bad}.pdf")
        assert response.status_code == 404 and response.mimetype == "text/html"
        assert "ลิงก์นี้ไม่ถูกต้อง" in response.get_data(as_text=True)


def test_slip_bytes_are_cached_and_follow_the_invoice(client, line, seed, db):
    from sqlalchemy import select

    from bot.data.models import Invoice

    seed(invoice_row(1, invoice_no=INV, amount="1000.00"))
    url = _slip_url(line)
    first, again = client.get(url).data, client.get(url).data
    assert first == again
    with db.transaction() as s:  # an amount changed by a later import: the slip must follow
        s.scalar(select(Invoice)).amount = Decimal("1200.00")
    changed = client.get(url).data
    assert changed != first and "หนึ่งพันสองร้อยบาทถ้วน" in _chars(changed)
