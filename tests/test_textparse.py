"""Thai input understanding, table-driven: mostly realistic sentences a business owner types."""
import pytest

from bot.core.textparse import Intent, normalize, normalize_license, parse_message

INV = "2568110400012345"
INV2 = "2568110400012346"
P, S, H, L, G, N, U = Intent.PAY, Intent.STATUS, Intent.HELP, Intent.LANGUAGE, Intent.GREETING, Intent.NEED_NUMBER, Intent.UNKNOWN
SUB, UNSUB, MINE, HIST = Intent.SUBSCRIBE, Intent.UNSUBSCRIBE, Intent.MY_LICENSES, Intent.HISTORY
LIC = "ท5137-2/10"

# (message, intent, invoice numbers, license numbers)
CASES = [
    # invoice numbers in Thai sentences, Thai digits, spacing and dashes
    ("ขอชำระใบแจ้งหนี้ ๒๕๖๘๑๑๐๔๐๐๐๑๒๓๔๕ ครับ", P, [INV], []),
    ("2568110400012345", P, [INV], []),
    ("ชำระเงิน 2568110400012345", P, [INV], []),
    ("จ่ายค่าธรรมเนียม 2568-1104-0001-2345 ค่ะ", P, [INV], []),
    ("ใบแจ้งหนี้เลขที่ 2568 1104 0001 2345", P, [INV], []),
    ("ขอ QR ใบแจ้งหนี้ 2568110400012345 หน่อยครับ", P, [INV], []),
    ("ชําระ 2568110400012345", P, [INV], []),  # decomposed sara am
    ("ชำระ ２５６８１１０４０００１２３４５", P, [INV], []),  # full-width digits
    ("2568\u200b1104\u200b0001\u200b2345", P, [INV], []),  # zero-width spaces
    ("2568–1104–0001–2345", P, [INV], []),  # en dashes
    ("2568—1104—0001—2345", P, [INV], []),  # em dashes
    ("2568−1104−0001−2345", P, [INV], []),  # minus signs
    ("2568‐1104‐0001‐2345", P, [INV], []),  # hyphen U+2010
    ("๒๕๖๘-๑๑๐๔-๐๐๐๑-๒๓๔๕", P, [INV], []),
    ("เลขใบแจ้งหนี้๒๕๖๘๑๑๐๔๐๐๐๑๒๓๔๕ค่ะ", P, [INV], []),  # glued to Thai words
    ("รบกวนขอยอดชำระของ 2568110400012345 ด้วยนะคะ", P, [INV], []),
    ("โอนเงินค่าใบอนุญาต 2568110400012345", P, [INV], []),
    ("pay invoice 2568110400012345 please", P, [INV], []),
    ("Invoice no. 2568-1104-0001-2345", P, [INV], []),
    ("2568110400012345 ครับ", P, [INV], []),
    ("  2568110400012345  ", P, [INV], []),
    ("2568 11040001 2345", P, [INV], []),
    ("ขอชำระใบแจ้งหนี้ 25681104OOO12345", P, [INV], []),  # letter O typed for zero
    ("ใบแจ้งหนี้ 2568110400012345 และ 2568110400012346", P, [INV, INV2], []),
    ("2568110400012345, 2568110400012346", P, [INV, INV2], []),
    ("ใบแจ้งหนี้ 2568110400012345 โทร 0812345678", P, [INV], []),
    ("2568110400012345 0812345678", P, [INV], []),
    ("ใบแจงหนี้ 2568110400012345", P, [INV], []),  # typo in the word
    ("ชำระใบแจ้งหนี้ 2568110400012345 มอก. 2434-2555", P, [INV], []),
    ("ใบแจ้งหนี้ 2568110400012345 ของบริษัท เลขผู้เสียภาษี 0105550123456", P, [INV], []),
    # status wording
    ("เช็คสถานะ 2568110400012345 หน่อย", S, [INV], []),
    ("ใบแจ้งหนี้ 2568110400012345 จ่ายแล้วหรือยัง", S, [INV], []),
    ("ตรวจสอบการชำระ 2568110400012345", S, [INV], []),
    ("สถานะ 2568110400012345", S, [INV], []),
    ("เช็กยอดค้างชำระ 2568110400012345", S, [INV], []),
    ("status 2568110400012345", S, [INV], []),
    ("check 2568-1104-0001-2345", S, [INV], []),
    ("ชำระแล้วยัง 2568110400012345", S, [INV], []),
    ("สถานนะ 2568110400012345", S, [INV], []),  # typo
    # license numbers
    ("ท 5137-2/10", P, [], ["ท5137-2/10"]),
    ("ท5137-2/10", P, [], ["ท5137-2/10"]),
    ("ท.5137-2/10", P, [], ["ท5137-2/10"]),
    ("ท. 5137-2/10", P, [], ["ท5137-2/10"]),
    ("ใบอนุญาต ท 5137-2/10 ค้างชำระเท่าไหร่", S, [], ["ท5137-2/10"]),
    ("ขอดูยอดใบอนุญาตเลขที่ ท ๕๑๓๗-๒/๑๐ ครับ", P, [], ["ท5137-2/10"]),
    ("ใบอนุญาต ส 1234-5/67", P, [], ["ส1234-5/67"]),
    ("ส.1234-5/67", P, [], ["ส1234-5/67"]),
    ("น 2001-1/68", P, [], ["น2001-1/68"]),
    ("นค 3001-2/68", P, [], ["นค3001-2/68"]),
    ("นค.3001-2/68", P, [], ["นค3001-2/68"]),
    ("ใบอนุญาตนำเข้า นค 3001-2/68 ครับ", P, [], ["นค3001-2/68"]),
    ("ท 5137 - 2 / 10", P, [], ["ท5137-2/10"]),
    ("ท 5137–2/10", P, [], ["ท5137-2/10"]),
    ("ท５１３７－２／１０", P, [], ["ท5137-2/10"]),
    ("ท 5137-2/10 กับ 2568110400012345", P, [INV], ["ท5137-2/10"]),
    ("ใบอนุญาต ท 5137-2/10 ชำระแล้วหรือยัง", S, [], ["ท5137-2/10"]),
    ("license ท 5137-2/10", P, [], ["ท5137-2/10"]),
    # numbers that are not invoices
    ("มอก. 2434-2555", N, [], []),
    ("มอก.2434-2555 ต้องจ่ายเท่าไหร่", N, [], []),
    ("มอก. 17025–2561", N, [], []),
    ("TIS 2434-2555", N, [], []),
    ("เลขผู้เสียภาษี 0105550123456", N, [], []),
    ("0105550123456", N, [], []),
    # a phone number is not a mistyped invoice number: the help (with its staff button), not "16 digits"
    ("โทร 081-234-5678", U, [], []),
    ("081 234 5678", U, [], []),
    ("ปี 2568", U, [], []),  # a year alone: the help answers
    ("จ่ายค่าธรรมเนียมปี 2568", N, [], []),
    ("256811040001234", N, [], []),  # 15 digits
    ("25681104000123456", N, [], []),  # 17 digits
    # an accounting system's prefix glued to our number is still our number; other letters are not
    ("INV2568110400012345", P, [INV], []),
    ("inv2568110400012345 ครับ", P, [INV], []),
    ("REF2568110400012345", P, [INV], []),
    ("Invoice2568-1104-0001-2345", P, [INV], []),
    ("ชำระ REF:2568110400012345", P, [INV], []),
    ("No.2568110400012345", P, [INV], []),
    ("ABC2568110400012345", U, [], []),
    ("XINV2568110400012345", U, [], []),
    ("2568110400012345X", U, [], []),
    ("วันที่ 25/11/2568", U, [], []),
    ("ราคา 1,000.00 บาท", U, [], []),
    ("ขอชำระเงินค่ะ", N, [], []),
    ("จะจ่ายยังไง", N, [], []),
    ("ใบแจ้งหนี้", N, [], []),
    # help, language, greeting, unknown
    ("help", H, [], []),
    ("วิธีใช้", H, [], []),
    ("ช่วยเหลือ", H, [], []),
    ("เมนู", H, [], []),
    ("ใช้ยังไงครับ", H, [], []),
    ("?", H, [], []),
    ("English", L, [], []),
    ("english please", L, [], []),
    ("ภาษาไทย", L, [], []),
    ("เปลี่ยนเป็นภาษาอังกฤษ", L, [], []),
    ("Thai", L, [], []),
    ("สวัสดีครับ", G, [], []),
    ("hello", G, [], []),
    ("this is a test", U, [], []),
    ("😀😀😀", U, [], []),
    ("'; DROP TABLE invoices; --", U, [], []),
    ("", U, [], []),
    ("ขอบคุณครับ", U, [], []),
    # subscriptions, Thai and English, with typos
    ("แจ้งเตือน ท5137-2/10", SUB, [], [LIC]),
    ("ขอแจ้งเตือนใบอนุญาต ท 5137-2/10 ด้วยครับ", SUB, [], [LIC]),
    ("แจ้งเตอน ท5137-2/10", SUB, [], [LIC]),  # a letter missing
    ("subscribe ท5137-2/10", SUB, [], [LIC]),
    ("Subscribe to ท.5137-2/10 please", SUB, [], [LIC]),
    ("แจ้งเตือน 2568110400012345", SUB, [INV], []),
    ("แจ้งเตือน", SUB, [], []),  # which one: asked back
    ("ยกเลิกแจ้งเตือน ท5137-2/10", UNSUB, [], [LIC]),
    ("ยกเลิกการแจ้งเตือน ท 5137-2/10 ค่ะ", UNSUB, [], [LIC]),
    ("ยกเลิกแจ้งเตอน ท5137-2/10", UNSUB, [], [LIC]),
    ("หยุดแจ้งเตือน ท5137-2/10", UNSUB, [], [LIC]),
    ("unsubscribe ท5137-2/10", UNSUB, [], [LIC]),
    ("ใบอนุญาตของฉัน", MINE, [], []),
    ("ใบอนุญาตของฉ้น", MINE, [], []),  # wrong tone mark
    ("ดูใบอนุญาตของผมหน่อย", MINE, [], []),
    ("my licenses", MINE, [], []),
    ("My Licences please", MINE, [], []),
    ("ประวัติการชำระ", HIST, [], []),
    ("ประวัติการชำรพ", HIST, [], []),  # a typo
    ("ขอดูใบเสร็จครับ", Intent.RECEIPT, [], []),  # the user's own receipts (issue 31), no longer the history
    ("history", HIST, [], []),
    ("payment history please", HIST, [], []),
    # what the rich menu sends
    ("ชำระค่าธรรมเนียม", N, [], []),
    ("ตรวจสอบสถานะ", N, [], []),
]


@pytest.mark.parametrize("message, intent, invoices, licenses", CASES, ids=[c[0][:40] or "empty" for c in CASES])
def test_parse_message(message, intent, invoices, licenses):
    parsed = parse_message(message)
    assert parsed.intent is intent
    assert list(parsed.invoice_numbers) == invoices
    assert list(parsed.license_numbers) == licenses


def test_at_least_80_cases():
    assert len(CASES) >= 80


@pytest.mark.parametrize("raw, expected", [
    ("ชํา", "ชำ"), ("a\u200bb\u200dc\ufeffd", "abcd"), ("๐๑๒๓๔๕๖๗๘๙", "0123456789"), ("１２３", "123"),
    ("a – b — c − d ‐ e", "a - b - c - d - e"), ("a \u00a0  b", "a b"),
])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_hints_explain_rejected_numbers():
    assert parse_message("0105550123451").hint == "tax_id"  # checksum-valid tax ID
    assert parse_message("มอก. 2434-2555").hint == "tis_standard"
    assert parse_message("256811040001234").hint == "wrong_length"


def test_long_input_is_linear_and_safe():
    import time

    start = time.perf_counter()
    for text in ("1 " * 2500, "ก" * 5000, "2568110400012345 " * 290, "😀" * 2500, "-1" * 2500 + "a"):
        parse_message(text)
    assert time.perf_counter() - start < 2.0


def test_normalize_license():
    assert normalize_license("ท 5137-2/10") == "ท5137-2/10"
    assert normalize_license("ท5137-02/010") == "ท5137-2/10"
    assert normalize_license("x 5137-2/10") is None
