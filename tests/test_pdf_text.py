"""Thai copied out of our PDFs is the Thai we drew, in poppler, pdfium (Chrome's viewer),
pdfminer (pdfplumber) and pypdf; every glyph keeps a Unicode mapping (PDF/A-3U)."""
from __future__ import annotations

import functools
import io
import re
from datetime import date, datetime, timezone
from decimal import Decimal

import pypdf
import pytest
from babel.messages.pofile import read_po
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.money import format_number, thai_baht_words
from bot.render.pdftext import FONT, new_document
from bot.render.receipt import ReceiptData, render_receipt
from bot.render.slip import SlipData, render_slip
from tests.pdfreaders import READERS, missing, texts

# Names as Thai payers write them: tone marks over upper vowels (ปั้น, ที่), SARA AM after a tone
# mark (น้ำ, ซ้ำ), tall consonants (ป ฝ ฟ), lower vowels under ญ ฐ, THANTHAKHAT (ศักดิ์).
NAMES = [
    "ห้างหุ้นส่วนจำกัด น้ำใจ ซ้ำซ้อน",
    "บริษัท ปั้นน้ำ ฟ้าใส จำกัด",
    "นางสาวญาณี ฐิติพร ศักดิ์สิทธิ์",
    "บริษัท ก๋วยเตี๋ยวเรือ กิ๊ฟช็อป จำกัด (มหาชน)",
    "สหกรณ์ผู้ใช้น้ำบ้านป่าฝ้าย",
]
AMOUNTS = [Decimal("1234.50"), Decimal("36000"), Decimal("21.21"), Decimal("1000001")]
AT = datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc)
HEADINGS_RECEIPT = ["สำนักงานมาตรฐานผลิตภัณฑ์อุตสาหกรรม (สมอ.)", "ใบเสร็จรับเงิน", "ได้รับเงินจาก",
                    "เลขประจำตัวผู้เสียภาษี", "ได้รับเงินไว้ถูกต้องแล้ว", "ชำระเมื่อ", "ช่องทาง", "รวมทั้งสิ้น"]
HEADINGS_SLIP = ["ใบแจ้งการชำระเงิน", "ส่วนของผู้ชำระเงิน", "ส่วนของธนาคาร", "ผู้ชำระ", "จำนวนเงิน"]


def receipt(name: str, amount: Decimal, **kw) -> ReceiptData:
    return ReceiptData(number="TISI-2570-000123", issued_at=AT, paid_at=AT, seller_tax_id="0994000164882",
                       payer_name=name, payer_tax_id="0105561000001", payer_branch=None,
                       invoice_no="2569120700000001", ref2="00000001", license_no="ท 5137-2/10",
                       fee_code="LICENSE", fee_name="License fee", description="ค่าธรรมเนียมใบอนุญาตประจำปี",
                       amount=amount, channel="Krungthai NEXT", channel_code="QR", bank_ref="KTB0001", **kw)


def slip(name: str, amount: Decimal) -> SlipData:
    return SlipData(biller_id="099400016488201", invoice_no="2569120700000001", ref2="00000001", amount=amount,
                    due_date=date(2027, 1, 31), payer_name=name, tax_id="0105561000001", fee_name="License fee",
                    license_no="ท 5137-2/10", support_contact="02-202-3000", issued_at=AT)


@pytest.mark.parametrize("name, amount", list(zip(NAMES, AMOUNTS + AMOUNTS)))
def test_the_receipt_copies_out_as_drawn_in_four_readers(name, amount):
    pdf = render_receipt(receipt(name, amount))
    wanted = [name, thai_baht_words(amount), format_number(amount, "th"), *HEADINGS_RECEIPT]
    assert missing(pdf, wanted) == {}


def test_a_void_receipt_copies_out_as_drawn_in_four_readers():
    pdf = render_receipt(receipt(NAMES[1], AMOUNTS[0]).void(AT, "ธนาคารกลับรายการชำระเงิน"))
    assert missing(pdf, [NAMES[1], "ยกเลิก", "ธนาคารกลับรายการชำระเงิน", *HEADINGS_RECEIPT]) == {}


@pytest.mark.parametrize("name, amount", list(zip(NAMES, AMOUNTS + AMOUNTS)))
def test_the_slip_copies_out_as_drawn_in_four_readers(name, amount):
    pdf = render_slip(slip(name, amount))
    assert missing(pdf, [name, thai_baht_words(amount), *HEADINGS_SLIP]) == {}


def test_the_readers_are_all_asked():
    got = texts(render_slip(slip(NAMES[0], AMOUNTS[0])))
    assert set(got) == set(READERS) and all(NAMES[0] in t for t in got.values())


def _to_unicode_maps(pdf: bytes) -> list[bytes]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    maps = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            maps.append(font.get_object()["/ToUnicode"].get_object().get_data())
    return maps


@pytest.mark.parametrize("render", [lambda: render_receipt(receipt(NAMES[0], AMOUNTS[0])),
                                    lambda: render_slip(slip(NAMES[0], AMOUNTS[0]))])
def test_every_glyph_maps_to_text(render):
    """PDF/A-3U: no character code maps to nothing (`<0012> <>`), which pdfium shows as its code."""
    maps = _to_unicode_maps(render())
    assert maps
    for cmap in maps:
        pairs = re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", cmap.split(b"beginbfchar", 1)[-1])
        assert pairs and all(dest for _, dest in pairs)


def _catalog_lines() -> list[str]:
    with open("locale/th/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    lines = []
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        lines += [line for s in strings if s for line in s.split("\n")]
    return lines


@functools.cache
def _document():
    """One document for the glyph-by-glyph checks: shaping keeps no state between strings, and
    loading the fonts took longer than shaping a line."""
    return new_document()


def _drawn_text(text: str) -> str:
    doc = _document()
    return "".join(g.text for g in doc.fonts[FONT.lower()].placed(text, 10, doc.text_shaping))


def test_every_thai_sentence_of_the_catalogs_maps_back_glyph_by_glyph():
    lines = _catalog_lines()
    assert len(lines) > 300
    assert [line for line in lines if _drawn_text(line) != line] == []


THAI = [chr(c) for c in range(0x0E01, 0x0E5C) if chr(c).isprintable()] + [" ", "A", "1", "-", "."]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=THAI, max_size=24))
def test_any_thai_string_maps_back_glyph_by_glyph(text):
    """Shaping may reorder, decompose and ligate: the glyphs drawn still give the text back, in
    order, each glyph with some of it (broken clusters and stray marks included)."""
    doc = _document()
    placed = doc.fonts[FONT.lower()].placed(text, 10, doc.text_shaping)
    assert "".join(g.text for g in placed) == text
    assert all(g.text for g in placed)
