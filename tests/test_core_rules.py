"""The rules of the pure core that money depends on, pinned so that a change of one operator,
constant or statement fails a test (issue 34; `python -m bench.mutate` measures it)."""
from __future__ import annotations

import string
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import credentials
from bot.core.dates import BANGKOK, thai_fiscal_year, today_bangkok
from bot.core.etda import RAM, RSM, TISI_ADDRESS, ReceiptXml, read_receipt_xml, receipt_xml
from bot.core.invoice_rows import RowError, normalize_branch, validate_record
from bot.core.photocodes import PhotoOutcome, judge, read_bill, read_eslip
from bot.core.receiptno import DEFAULT_PREFIX, parse_receipt_number, receipt_number
from bot.core.schedule import OfficeHours, QuietHours, ReminderKind, parse_reminder_days, reminder_due
from bot.core.statement import Problem, StatementError, build_statement, parse_statement
from bot.core.taxid import is_valid_tax_id, with_check_digit
from bot.core.thaiqr import bill_payment_barcode, bill_payment_payload, crc16_ccitt_false, tlv

BILLER = "099999999999990"

# -- tax IDs: the Revenue Department's rule, check = (11 - Σ dᵢ·(14-i) mod 11) mod 10, i = 1..12 ----
# One valid ID for every remainder 0..10 (worked by hand for the first: 1·13 + 1·3 + 3·2 = 22,
# 22 mod 11 = 0, (11 - 0) mod 10 = 1).
VALID_BY_REMAINDER = {0: "1000000000131", 1: "1000000000050", 2: "1000000000009", 3: "1000000000068",
                      4: "1000000000017", 5: "1000000000076", 6: "1000000000025", 7: "1000000000084",
                      8: "1000000000033", 9: "1000000000092", 10: "1000000000041"}


@pytest.mark.parametrize("remainder,tax_id", sorted(VALID_BY_REMAINDER.items()))
def test_valid_tax_ids_for_every_remainder(remainder, tax_id):
    assert sum(int(d) * w for d, w in zip(tax_id[:12], range(13, 1, -1))) % 11 == remainder
    assert is_valid_tax_id(tax_id) and with_check_digit(tax_id[:12]) == tax_id
    for wrong in set(string.digits) - {tax_id[12]}:  # every other check digit is refused
        assert not is_valid_tax_id(tax_id[:12] + wrong)


@pytest.mark.parametrize("text", ["", "100000000013", "10000000001311", "1000000000 31", "๑๐๐๐๐๐๐๐๐๐๑๓๑",
                                  "100000000013a", None])
def test_not_a_tax_id(text):
    assert not is_valid_tax_id(text or "")


@given(st.text(alphabet=string.digits, min_size=12, max_size=12))
def test_a_check_digit_made_is_a_check_digit_accepted(first12):
    made = with_check_digit(first12)
    assert is_valid_tax_id(made) and len(made) == 13 and made[:12] == first12
    assert sum(is_valid_tax_id(first12 + d) for d in string.digits) == 1  # one check digit, no other


# -- staff credentials --------------------------------------------------------------------------
def test_one_time_passwords_are_long_random_and_unambiguous():
    made = [credentials.one_time_password() for _ in range(200)]
    assert all(len(p) == 16 for p in made) and len(set(made)) == 200
    used = set("".join(made))
    assert len(used) >= 50  # the whole alphabet of 55, near enough, in 3,200 characters
    assert not used & set("l1IO0o")  # nothing read two ways
    assert used <= set(string.ascii_letters + string.digits)
    assert len(credentials.one_time_password(24)) == 24


@pytest.mark.parametrize("password,problem", [
    ("a" * 11, "too_short"), ("a" * 12, None), ("ช้างเผือก-Granite", None), ("xx-somchai-xx-1", "has_name"),
    ("SOMCHAI-password", "has_name"), ("", "too_short"),
])
def test_password_rules_at_their_edges(password, problem):
    assert credentials.MIN_PASSWORD_LENGTH == 12
    assert credentials.password_problem(password, "somchai") == problem


def test_password_hashes_and_totp_steps():
    stored = credentials.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$") and credentials.password_matches(stored, "correct horse battery")
    assert not credentials.password_matches(stored, "correct horse batterY")
    assert credentials.password_matches("not a hash", "x") is False
    assert credentials.password_matches(stored, "wrong") is False
    secret = credentials.new_totp_secret()
    at = 1_800_000_000.0
    code = credentials.totp_now(secret, at)
    step = int(at) // 30
    assert credentials.totp_step(code, secret, 0, at=at) == step
    assert credentials.totp_step(code[:3] + " " + code[3:], secret, 0, at=at) == step  # as people type it
    assert credentials.totp_step(code, secret, step, at=at) is None  # used once already
    assert credentials.totp_step(code, secret, 0, at=at + 30) == step  # a step late: phones drift
    assert credentials.totp_step(code, secret, 0, at=at + 60) is None  # two steps: too late
    assert credentials.totp_step(credentials.totp_now(secret, at + 60), secret, 0, at=at) is None  # too early
    assert credentials.totp_step(credentials.totp_now(secret, at + 30), secret, 0, at=at) == step + 1
    assert credentials.totp_step("12345", secret, 0, at=at) is None
    assert credentials.totp_step("๑๒๓๔๕๖", secret, 0, at=at) is None
    assert credentials.provisioning_uri(secret, "malee").startswith("otpauth://totp/TISI%20Pay:malee?")


# -- receipt numbers ----------------------------------------------------------------------------
@pytest.mark.parametrize("seq,text", [(1, "TISI-2569-000001"), (999999, "TISI-2569-999999"),
                                      (1000000, "TISI-2569-1000000")])
def test_receipt_number_boundaries(seq, text):
    assert DEFAULT_PREFIX == "TISI"  # RECEIPT_PREFIX's default (CONTRACT §2)
    assert receipt_number("TISI", 2569, seq) == text
    assert parse_receipt_number(text) == ("TISI", 2569, seq)


@pytest.mark.parametrize("prefix,seq,said", [
    ("TISI", 0, "running numbers start at 1"), ("TISI", -1, "running numbers start at 1"),
    ("", 1, "a receipt prefix is 1-12 characters of A-Z and 0-9"), ("TI SI", 1, "a receipt prefix"),
    ("A" * 13, 1, "a receipt prefix"), ("tisi", 1, "a receipt prefix")])
def test_receipt_numbers_refused(prefix, seq, said):
    with pytest.raises(ValueError, match=said):
        receipt_number(prefix, 2569, seq)


@pytest.mark.parametrize("text", ["TISI-2569-00001", "TISI-69-000001", "TISI2569000001", "", None,
                                  "TISI-2569-000001\n9", "-2569-000001"])
def test_receipt_numbers_not_read(text):
    assert parse_receipt_number(text) is None


@given(prefix=st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=12),
       year=st.integers(2500, 2999), seq=st.integers(1, 10**7))
def test_receipt_number_format_then_parse(prefix, year, seq):
    assert parse_receipt_number(receipt_number(prefix, year, seq).lower()) == (prefix, year, seq)


@pytest.mark.parametrize("moment,year", [
    ("2026-09-30T23:59:59+07:00", 2569), ("2026-10-01T00:00:00+07:00", 2570), ("2026-09-30T16:59:59+00:00", 2569),
    ("2026-09-30T17:00:00+00:00", 2570), ("2026-01-01T00:00:00+07:00", 2569), ("2026-09-30T23:59:58+07:00", 2569),
    ("2025-10-01T00:00:00+07:00", 2569),
])
def test_fiscal_year_edges_in_bangkok(moment, year):
    assert thai_fiscal_year(datetime.fromisoformat(moment)) == year


# -- photo codes --------------------------------------------------------------------------------
def test_a_bill_payment_barcode_alone_is_read():
    text = bill_payment_barcode(BILLER, "2568110400012345", "68110001", Decimal("1000.50"))
    assert text == f"|{BILLER}\r2568110400012345\r68110001\r100050"
    bill = read_bill(text)
    assert bill is not None and bill.source == "barcode" and bill.amount == Decimal("1000.50")
    assert (bill.biller_id, bill.ref1, bill.ref2) == (BILLER, "2568110400012345", "68110001")
    verdict = judge([text], BILLER)
    assert verdict.outcome is PhotoOutcome.OUR_BILL and verdict.bill == bill and verdict.amounts == (Decimal("1000.50"),)
    assert read_bill(f"|{BILLER}\r2568110400012345\r\r100050").ref2 is None
    for broken in (f"|{BILLER}\r1\r2", f"|x{BILLER}\r1\r2\r100", f"|{BILLER}\r1\r2\r10.0", "|"):
        assert read_bill(broken) is None


def test_the_qr_wins_over_the_barcode_and_two_invoices_are_ambiguous():
    qr = bill_payment_payload(BILLER, "2568110400012345", "68110001", Decimal("1000.00"))
    barcode = bill_payment_barcode(BILLER, "2568110400012345", "68110001", Decimal("1000.00"))
    both = judge([barcode, qr], BILLER)
    assert both.outcome is PhotoOutcome.OUR_BILL and both.bill.source == "qr"
    other = bill_payment_barcode(BILLER, "2568110400099999", "68110001", Decimal("1000.00"))
    assert judge([qr, other], BILLER).outcome is PhotoOutcome.AMBIGUOUS
    assert judge([], BILLER).outcome is PhotoOutcome.UNREADABLE
    assert judge([bill_payment_barcode("011111111111110", "1", "2", Decimal("1"))], BILLER).outcome \
        is PhotoOutcome.NOT_OURS


def _with_crc(body: str) -> str:
    return body + "6304" + crc16_ccitt_false(body + "6304")


def test_a_tag_30_qr_with_another_aid_is_not_a_bill():
    good = bill_payment_payload(BILLER, "2568110400012345", "68110001", Decimal("1000.00"))
    assert read_bill(good) is not None
    merchant = tlv("00", "A000000677010111") + tlv("01", BILLER) + tlv("02", "2568110400012345")  # PromptPay's AID
    assert read_bill(_with_crc(tlv("00", "01") + tlv("30", merchant) + tlv("53", "764"))) is None
    no_ref1 = tlv("00", "A000000677010112") + tlv("01", BILLER)
    assert read_bill(_with_crc(tlv("00", "01") + tlv("30", no_ref1))) is None
    assert read_bill(good[:-4] + "0000") is None  # a wrong CRC


def _eslip(ref: str, *, short_crc: bool) -> str | None:
    body = tlv("00", tlv("00", "000001") + tlv("01", "014") + tlv("02", ref)) + tlv("51", "TH")
    if not short_crc:
        return body + "9104" + crc16_ccitt_false(body + "9104")
    crc = crc16_ccitt_false(body + "9103")
    return body + "9103" + crc[1:] if crc.startswith("0") else None


def test_an_eslip_whose_crc_lost_its_leading_zero_is_read():
    full = _eslip("20261125ABC0001", short_crc=False)
    assert read_eslip(full).trans_ref == "20261125ABC0001" and read_eslip(full).bank_code == "014"
    short = next(s for s in (_eslip(f"20261125ABC{n:04d}", short_crc=True) for n in range(2000)) if s)
    slip = read_eslip(short)
    assert slip is not None and slip.bank_code == "014"
    assert judge([short], BILLER).outcome is PhotoOutcome.ESLIP
    assert read_eslip(full[:-1] + ("0" if full[-1] != "0" else "1")) is None  # a wrong CRC
    assert read_eslip(full.replace(tlv("51", "TH"), tlv("51", "TW"))) is None
    two = judge([full, _eslip("20261125ABC9999", short_crc=False)], BILLER)
    assert two.outcome is PhotoOutcome.AMBIGUOUS


def _slip(inner: str, country: str = "TH") -> str:
    body = tlv("00", inner) + tlv("51", country)
    return body + "9104" + crc16_ccitt_false(body + "9104")


def test_each_condition_of_an_eslip_is_needed_alone():
    good = tlv("00", "000001") + tlv("01", "014") + tlv("02", "REF123")
    assert read_eslip(_slip(good)) is not None
    assert read_eslip(_slip(good, country="TW")) is None  # CRC right, country wrong
    assert read_eslip(_slip(tlv("00", "000002") + tlv("01", "014") + tlv("02", "REF123"))) is None  # another API
    assert read_eslip(_slip(tlv("00", "000001") + tlv("02", "REF123"))) is None  # no sending bank
    assert read_eslip(_slip(tlv("00", "000001") + tlv("01", "014"))) is None  # no reference
    no_crc_tag = tlv("00", good) + tlv("51", "TH")
    assert read_eslip(no_crc_tag) is None
    five = tlv("00", good) + tlv("51", "TH") + "9105" + "0" + crc16_ccitt_false(tlv("00", good) + tlv("51", "TH") + "9105")
    assert read_eslip(five) is None  # a CRC of five characters is not one


def test_an_eslip_crc_down_to_one_character_is_read():
    """Some banks drop every leading zero: a CRC of 000A arrives as "A" (tag 91, length 01)."""
    for n in range(200_000):
        body = tlv("00", tlv("00", "000001") + tlv("01", "014") + tlv("02", f"REF{n:06d}")) + tlv("51", "TH")
        crc = crc16_ccitt_false(body + "9101")
        if crc.startswith("000"):
            break
    slip = read_eslip(body + "9101" + crc[3:])
    assert slip is not None and slip.trans_ref == f"REF{n:06d}"


def test_photo_outcomes_keep_their_stored_names():
    assert [o.value for o in PhotoOutcome] == ["our_bill", "eslip", "not_ours", "unreadable", "ambiguous", "refused",
                                               "gone", "not_fetched"]
    qr = read_bill(bill_payment_payload(BILLER, "2568110400012345", "68110001", Decimal("1.00")))
    assert qr.source == "qr" and qr.ref2 == "68110001" and qr.amount == Decimal("1.00")


# -- the bank's statement -----------------------------------------------------------------------
D = dict(paid_on=date(2026, 11, 25), paid_at=time(14, 30), customer_name="บริษัท ทดสอบ จำกัด",
         ref1="2568110400012345", ref2="68110001", kind="C", amount=Decimal("1000.00"))


def test_a_statement_without_payments_is_a_statement():
    s = parse_statement(build_statement("1234567890", "TISI", date(2026, 11, 25), []))
    assert s.details == () and s.credit_count == 0 and s.credit_total == 0 and s.debit_count == 0
    assert s.effective_date == date(2026, 11, 25) and s.company_account == "1234567890"


def test_a_statement_reads_credits_and_debits_and_checks_its_totals():
    data = build_statement("1234567890", "TISI", date(2026, 11, 25),
                           [D, {**D, "ref1": "2", "amount": Decimal("250.25")}, {**D, "kind": "D"}])
    s = parse_statement(data)
    assert [d.kind for d in s.details] == ["C", "C", "D"] and [d.seq for d in s.details] == [2, 3, 4]
    assert (s.credit_count, s.credit_total, s.debit_count, s.debit_total) == (2, Decimal("1250.25"), 1,
                                                                               Decimal("1000.00"))
    assert s.details[0].paid_at == time(14, 30) and s.details[0].customer_name == "บริษัท ทดสอบ จำกัด"
    records = data.split(b"\r\n")
    trailer = records[-2] if records[-1] == b"" else records[-1]
    for start, end in ((21, 33), (34, 39), (40, 52), (53, 58)):  # each total of the trailer, one more
        field = trailer[start - 1:end]
        bumped = str(int(field) + 1).zfill(len(field)).encode()
        with pytest.raises(StatementError, match="trailer says"):
            parse_statement(data.replace(trailer, trailer[:start - 1] + bumped + trailer[end:]))


def _one_record_changed(start: int, end: int, text: bytes, record: int = 1) -> bytes:
    data = build_statement("1234567890", "TISI", date(2026, 11, 25), [D])
    lines = data.split(b"\r\n")
    line = lines[record]
    lines[record] = line[:start - 1] + text.ljust(end - start + 1)[:end - start + 1] + line[end:]
    return b"\r\n".join(lines)


@pytest.mark.parametrize("start,end,text,said", [
    (2, 7, b"00000x", "sequence number is not a number"),
    (2, 7, b"000009", "sequence number 9, expected 2"),
    (21, 28, b"2511202", "payment date is not DDMMYYYY"),
    (21, 28, b"31022026", "payment date is not a real date"),
    (29, 34, b"246000", "payment time is not HHMMSS"),
    (29, 34, b"236000", "payment time is not HHMMSS"),
    (29, 34, b"235960", "payment time is not HHMMSS"),
    (153, 153, b"X", "neither C nor D"),
    (11, 20, b"9999999999", "company account differs"),
    (8, 10, b"014", "bank code is not 006"),
    (164, 176, b"00000001000x0", "amount is not a number"),
    (1, 1, b"T", "record type"),
])
def test_each_refusal_of_the_statement_reader(start, end, text, said):
    with pytest.raises(StatementError, match=said) as refused:
        parse_statement(_one_record_changed(start, end, text))
    # What kind of problem it is (the console explains it in Thai), and on which line of the file.
    kind = next((k for prefix, k in (("bank code", Problem.BANK), ("record type", Problem.LAYOUT),
                                     ("sequence number 9", Problem.LAYOUT)) if said.startswith(prefix)), Problem.FIELD)
    assert refused.value.problem is kind and refused.value.line == 2, said


def test_statement_problems_without_a_line():
    with pytest.raises(StatementError) as short:
        parse_statement(b"")
    assert short.value.problem is Problem.LAYOUT and short.value.line is None
    good = build_statement("1234567890", "TISI", date(2026, 11, 25), [
        {"paid_on": date(2026, 11, 25), "paid_at": time(9, 0), "customer_name": "ก", "ref1": "2568110400000001",
         "ref2": "1", "kind": "C", "amount": Decimal("10.00")}])
    with pytest.raises(StatementError) as totals:
        parse_statement(good.replace(b"0000000001000", b"0000000002000", 1))
    assert totals.value.problem is Problem.TOTALS and totals.value.line is None
    with pytest.raises(StatementError) as encoding:
        parse_statement(_one_record_changed(35, 36, b"\x81\x81"))
    assert encoding.value.problem is Problem.ENCODING


def test_statement_framing_and_header_refusals():
    with pytest.raises(StatementError, match="at least a header and a trailer"):
        parse_statement(b"")
    one = build_statement("1234567890", "TISI", date(2026, 11, 25), []).split(b"\r\n")[0]
    with pytest.raises(StatementError, match="at least a header and a trailer"):
        parse_statement(one)
    with pytest.raises(StatementError, match="255 bytes"):
        parse_statement(b"H" + b" " * 254 + b"\r\n" + b"T" * 256)
    with pytest.raises(StatementError, match="effective date is not DDMMYYYY"):
        parse_statement(_one_record_changed(61, 68, b"2026-11-", record=0))
    be = _one_record_changed(61, 68, b"25112569", record=0)  # a Buddhist-era year is read as one
    assert parse_statement(be).effective_date == date(2026, 11, 25)
    krungthai = build_statement("1234567890", "TISI", date(2026, 11, 25), [D], framing="krungthai")
    compact = build_statement("1234567890", "TISI", date(2026, 11, 25), [D])
    assert [replace(d, line=0) for d in parse_statement(krungthai).details] == \
        [replace(d, line=0) for d in parse_statement(compact).details]
    assert parse_statement(krungthai).details[0].line == 3  # the file's own line, empty lines counted


# -- invoice rows -------------------------------------------------------------------------------
ROW = {"invoice_no": "2568110400012345", "ref2": "68110001", "license_no": "ท5137-2/10",
       "tax_id": VALID_BY_REMAINDER[3], "payer_name": "บริษัท ทดสอบ จำกัด", "fee_code": "LICENSE",
       "description": "ค่าธรรมเนียม", "amount": "1000.00",
       "due_date": (today_bangkok() + timedelta(days=30)).isoformat()}  # from the tests' clock: never expires


@pytest.mark.parametrize("fee_code", ["APPLICATION", "LICENSE", "ANNUAL", "INSPECTION", "CERTIFICATION",
                                      "TRANSLATION", "STANDARD_BOOK", "OTHER"])
def test_every_fee_code_is_taken(fee_code):
    assert validate_record({**ROW, "fee_code": fee_code}).fee_code == fee_code


@pytest.mark.parametrize("change,said", [
    ({"payer_name": 5}, "payer_name must be text"),
    ({"invoice_no": ["1"]}, "invoice_no must be text"),
    ({"invoice_no": "25681104-0001"}, "invoice_no must be 1-20"),
    ({"invoice_no": "1" * 21}, "invoice_no must be 1-20"),
    ({"ref2": ""}, "ref2 must be 1-20"),
    ({"license_no": "not a license"}, "license_no is not a license number"),
    ({"tax_id": VALID_BY_REMAINDER[3][:12] + "9"}, "tax_id must be 13 digits"),
    ({"payer_name": ""}, "payer_name must be 1-255"),
    ({"payer_name": "ก" * 256}, "payer_name must be 1-255"),
    ({"fee_code": "license"}, "fee_code must be one of"),
    ({"description": "x" * 2001}, "description is longer than 2000"),
    ({"amount": "0"}, "amount"),
    ({"amount": "1.001"}, "amount"),
    ({"due_date": "31/12/2026"}, "due_date must be an ISO date"),
    ({"due_date": "2569-12-31"}, "Buddhist-era"),
    ({"due_date": "2026-02-30"}, "due_date"),
    ({"payer_name": "a\x00b"}, "payer_name contains control characters"),
    ({"payer_branch": "123456"}, "payer_branch must be empty"),
    ({"payer_branch": "12a"}, "payer_branch must be empty"),
])
def test_each_invoice_row_refusal(change, said):
    with pytest.raises(RowError, match=said):
        validate_record({**ROW, **change})


def test_an_invoice_row_names_every_problem_and_keeps_what_is_right():
    with pytest.raises(RowError) as refused:
        validate_record({**ROW, "ref2": "", "fee_code": "X", "amount": "-1"})
    said = str(refused.value)
    assert "ref2" in said and "fee_code" in said and "amount" in said and said.count(";") == 2
    ok = validate_record({**ROW, "payer_name": "  บริษัท ทดสอบ จำกัด  ", "license_no": "", "payer_branch": "1",
                          "description": None})
    assert ok.payer_name == "บริษัท ทดสอบ จำกัด" and ok.license_no is None and ok.payer_branch == "00001"
    assert ok.amount == Decimal("1000.00") and ok.due_date == date.fromisoformat(ROW["due_date"]) and ok.description == ""
    assert normalize_branch("") is None and normalize_branch("00000") is None and normalize_branch("12345") == "12345"


# -- ETDA receipt XML: every field read back ------------------------------------------------------
def _receipt(**change) -> ReceiptXml:
    at = datetime(2026, 11, 25, 7, 30, tzinfo=timezone.utc)  # 14:30 in Bangkok
    return ReceiptXml(**{**dict(
        number="TISI-2570-000001", issued_at=at, paid_at=at, seller_name="สำนักงานมาตรฐานผลิตภัณฑ์อุตสาหกรรม",
        seller_tax_id="0994000158181", seller_branch="00000", seller_address=TISI_ADDRESS,
        buyer_name="บริษัท ทดสอบ จำกัด", buyer_tax_id=VALID_BY_REMAINDER[3], buyer_branch="00001",
        invoice_no="2568110400012345", license_no="ท5137-2/10", fee_code="LICENSE", fee_name="ค่าธรรมเนียมใบอนุญาต",
        amount=Decimal("1000.50"), channel="QR", bank_ref="KTB0001"), **change})


def test_every_etda_field_is_written_where_a_reader_finds_it():
    data = receipt_xml(_receipt())
    root = ET.fromstring(data)
    ns = {"rsm": RSM, "ram": RAM}
    assert root.tag == f"{{{RSM}}}Receipt_CrossIndustryInvoice"
    assert root.findtext("rsm:ExchangedDocument/ram:Name", namespaces=ns) == "ใบเสร็จรับเงิน"
    assert root.findtext("rsm:ExchangedDocument/ram:ID", namespaces=ns) == "TISI-2570-000001"
    product = "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedTradeProduct"
    assert root.findtext(f"{product}/ram:ID", namespaces=ns) == "LICENSE"
    assert root.findtext(f"{product}/ram:Name", namespaces=ns) == "ค่าธรรมเนียมใบอนุญาต (ท5137-2/10)"
    read = read_receipt_xml(data)
    assert read.number == "TISI-2570-000001" and read.amount == Decimal("1000.50") and read.invoice_no == \
        "2568110400012345"
    assert read.bank_ref == "KTB0001" and read.void_reason is None and read.type_code == "T01"
    assert read.seller_tax.startswith("0994000158181") and read.buyer_tax == VALID_BY_REMAINDER[3]
    void = read_receipt_xml(receipt_xml(_receipt(void_reason="ธนาคารยกเลิก / reversed")))
    assert void.void_reason == "ธนาคารยกเลิก / reversed"
    with pytest.raises(ValueError):
        read_receipt_xml(b"<x/>")
    with pytest.raises(ValueError):
        read_receipt_xml(b"not xml")


ETDA_RSM = "urn:etda:uncefact:data:standard:Receipt_CrossIndustryInvoice:2"
ETDA_RAM = "urn:etda:uncefact:data:standard:Receipt_ReusableAggregateBusinessInformationEntity:2"


def test_the_etda_document_is_in_etdas_namespaces_with_etdas_codes():
    """What ETDA's readers look for, written as ETDA's schema names it (v2.0, ER3-2560)."""
    root = ET.fromstring(receipt_xml(_receipt()))
    ns = {"rsm": ETDA_RSM, "ram": ETDA_RAM}
    assert root.tag == f"{{{ETDA_RSM}}}Receipt_CrossIndustryInvoice"
    guideline = root.find("rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID", ns)
    assert guideline.text == "ER3-2560" and guideline.get("schemeAgencyID") == "ETDA"
    assert guideline.get("schemeVersionID") == "v2.0"
    notes = {n.findtext("ram:Subject", namespaces=ns): n.findtext("ram:Content", namespaces=ns)
             for n in root.findall("rsm:ExchangedDocument/ram:IncludedNote", ns)}
    assert notes["PAYMENT_CHANNEL"] == "QR" and notes["BANK_REFERENCE"] == "KTB0001"
    assert notes["PAID_AT"] == "2026-11-25T14:30:00+07:00"  # Bangkok time
    currency = root.find("rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
                         "ram:InvoiceCurrencyCode", ns)
    assert currency.text == "THB" and currency.get("listID") == "ISO 4217 3A"
    agreement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
    seller = root.find(f"{agreement}/ram:SellerTradeParty", ns)
    assert seller.findtext("ram:PostalTradeAddress/ram:BuildingNumber", namespaces=ns) == "75/42"
    assert seller.findtext("ram:PostalTradeAddress/ram:StreetName", namespaces=ns) == "ถนนพระรามที่ 6"
    assert seller.findtext("ram:PostalTradeAddress/ram:CitySubDivisionName", namespaces=ns) == "103701"
    assert seller.findtext("ram:PostalTradeAddress/ram:PostcodeCode", namespaces=ns) == "10400"
    assert seller.findtext("ram:PostalTradeAddress/ram:CountryID", namespaces=ns) == "TH"
    assert seller.find("ram:SpecifiedTaxRegistration/ram:ID", ns).get("schemeID") == "TXID"
    buyer = root.find(f"{agreement}/ram:BuyerTradeParty", ns)
    assert buyer.find("ram:PostalTradeAddress/ram:LineOne", ns) is None  # no address given: none written
    # VALID_BY_REMAINDER[3] starts with 1: a person's national ID, NIDN, 13 digits, no branch
    person = buyer.find("ram:SpecifiedTaxRegistration/ram:ID", ns)
    assert (person.text, person.get("schemeID")) == (VALID_BY_REMAINDER[3], "NIDN")
    company = with_check_digit("010555012345")  # a juristic person's: TXID, tax ID + branch
    assert read_receipt_xml(receipt_xml(_receipt(buyer_tax_id=company))).buyer_tax == company + "00001"
    head = receipt_xml(_receipt(buyer_tax_id=company, buyer_branch=None))
    assert read_receipt_xml(head).buyer_tax == company + "00000"  # head office
    void = ET.fromstring(receipt_xml(_receipt(void_reason="reversed")))
    assert [n.findtext("ram:Subject", namespaces=ns) for n in void.findall("rsm:ExchangedDocument/ram:IncludedNote", ns)
            ][-1] == "VOID"


@pytest.mark.parametrize("data,said", [
    (b"not xml", "the embedded XML does not parse: "),
    (b"<x/>", "the embedded XML is not an ETDA receipt"),
    (f'<rsm:Receipt_CrossIndustryInvoice xmlns:rsm="{ETDA_RSM}"/>'.encode(), "the embedded XML has no ram:ID"),
])
def test_what_is_not_our_etda_receipt_is_said_exactly(data, said):
    with pytest.raises(ValueError) as refused:
        read_receipt_xml(data)
    assert str(refused.value).startswith(said)


def test_statement_fields_and_messages_read_exactly():
    data = build_statement("1234567890", "TISI PAY", date(2026, 11, 25), [D], service_code="94330001")
    s = parse_statement(data)
    assert s.company_name == "TISI PAY" and s.service_code == "94330001" and s.details[0].ref1 == "2568110400012345"
    with pytest.raises(StatementError, match=r"^line 2: payment date is not a real date"):
        parse_statement(_one_record_changed(21, 28, b"31022026"))
    trailer = data.split(b"\r\n")[2]
    for start, end, what in ((34, 39, "total debit count"), (53, 58, "total credit count")):
        broken = data.replace(trailer, trailer[:start - 1] + b"00000x" + trailer[end:])
        with pytest.raises(StatementError, match=f"^line 3: {what} is not a number"):
            parse_statement(broken)
    with pytest.raises(ValueError, match="is longer than 40 bytes"):
        build_statement("1234567890", "ก" * 41, date(2026, 11, 25), [])


# -- reminder schedules ---------------------------------------------------------------------------
@pytest.mark.parametrize("left,kind", [(8, None), (7, "remind7"), (2, "remind7"), (1, "remind1"), (0, "remind1"),
                                       (-1, "overdue"), (-7, "overdue"), (-8, None)])
def test_reminder_windows(left, kind):
    today = date(2026, 12, 1)
    due = reminder_due(today + timedelta(days=left), today, (7, 1))
    assert (due[0] if due else None) == kind
    if due:
        assert due[1] == left


def test_reminder_days_and_quiet_hours_parse_exactly():
    assert parse_reminder_days("1, 7,7") == (7, 1) and parse_reminder_days("") == () and parse_reminder_days("60") == (60,)
    for bad in ("61", "-1", "x", "1.5"):
        with pytest.raises(ValueError):
            parse_reminder_days(bad)
    quiet = QuietHours.parse("20:00-08:00")
    at = lambda hh, mm: datetime(2026, 12, 1, hh, mm, tzinfo=BANGKOK)  # noqa: E731
    assert quiet.contains(at(20, 0)) and quiet.contains(at(7, 59)) and not quiet.contains(at(8, 0))
    assert not quiet.contains(at(19, 59))
    assert quiet.release_at(at(21, 0)) == at(8, 0) + timedelta(days=1) and quiet.release_at(at(6, 0)) == at(8, 0)
    assert quiet.release_at(at(12, 0)) == at(12, 0)
    day = QuietHours.parse("12:00-13:00")
    assert day.contains(at(12, 0)) and not day.contains(at(13, 0)) and not day.contains(at(11, 59))
    assert QuietHours.parse("off") is None and QuietHours.parse("") is None
    for bad in ("20:00-20:00", "24:00-08:00", "8-9"):
        with pytest.raises(ValueError):
            QuietHours.parse(bad)
    assert ReminderKind.plain("remind7") == "7-day reminders" and ReminderKind.plain("overdue") == "overdue notices"
    assert ReminderKind.plain("new") == "new-invoice notices" and ReminderKind.before(7) == "remind7"
    office = OfficeHours.parse("Mon-Fri 08:30-16:30")
    assert office.first_day == 0 and office.last_day == 4 and office.start == time(8, 30) and office.end == time(16, 30)


@settings(max_examples=200)
@given(left=st.integers(-30, 90), days=st.sets(st.integers(0, 60), min_size=1, max_size=4))
def test_at_most_one_reminder_and_never_early(left, days):
    today = date(2026, 12, 1)
    due = reminder_due(today + timedelta(days=left), today, tuple(sorted(days, reverse=True)))
    if left > max(days):
        assert due is None
    elif left >= 0:
        assert due is not None and due[0] == f"remind{min(d for d in days if d >= left)}"


@pytest.mark.parametrize("text,first,last,start,end", [
    ("Mon-Fri 08:30-16:30", 0, 4, time(8, 30), time(16, 30)), ("sat 9:00-12:00", 5, 5, time(9), time(12)),
    ("Thu-Sun  10:00-18:00", 3, 6, time(10), time(18)), ("Sun-Tue 00:00-23:59", 6, 1, time(0), time(23, 59)),
])
def test_office_hours_read(text, first, last, start, end):
    office = OfficeHours.parse(text)
    assert (office.first_day, office.last_day, office.start, office.end) == (first, last, start, end)


@pytest.mark.parametrize("text,said", [
    ("Mon-Fri", "is not like"), ("Mon-Fri 24:00-25:00", "is not like"),
    ("Mon-Fre 08:30-16:30", "days are Mon"), ("Xyz 08:30-16:30", "days are Mon"),
    ("Mon-Fri 16:30-08:30", "must end after"), ("Mon-Fri 08:30-08:30", "must end after"), ("", "is not like"),
])
def test_office_hours_refused(text, said):
    with pytest.raises(ValueError, match=said):
        OfficeHours.parse(text)


def test_office_hours_days_contain_and_say():
    weekdays = OfficeHours.parse("Mon-Fri 08:30-16:30")
    assert weekdays.days() == [0, 1, 2, 3, 4] and OfficeHours.parse("Sat-Mon 09:00-12:00").days() == [5, 6, 0]
    assert OfficeHours.parse("Wed 09:00-12:00").days() == [2]
    at = lambda d, hh, mm: datetime(2026, 12, d, hh, mm, tzinfo=BANGKOK)  # noqa: E731  (7 December 2026: a Monday)
    assert weekdays.contains(at(7, 8, 30)) and weekdays.contains(at(11, 16, 29))
    assert not weekdays.contains(at(7, 8, 29)) and not weekdays.contains(at(11, 16, 30))
    assert not weekdays.contains(at(12, 10, 0)) and not weekdays.contains(at(13, 10, 0))  # the weekend
    assert weekdays.contains(datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc))  # 09:00 in Bangkok
    assert weekdays.describe("en") == "Mon–Fri 08:30–16:30"
    assert weekdays.describe("th") == "วันจันทร์–วันศุกร์ 08:30–16:30 น."
    assert OfficeHours.parse("Thu 09:00-12:00").describe("en") == "Thu 09:00–12:00"
    assert OfficeHours.parse("Sun 09:00-12:00").describe("th") == "วันอาทิตย์ 09:00–12:00 น."


def test_invoice_rows_at_their_edges():
    from bot.core.invoice_rows import REQUIRED_COLUMNS, missing_columns

    assert REQUIRED_COLUMNS == ("invoice_no", "ref2", "tax_id", "payer_name", "fee_code", "amount", "due_date")
    assert missing_columns(list(ROW)) == [] and missing_columns(None) == list(REQUIRED_COLUMNS)
    assert missing_columns([" invoice_no ", "ref2", "", "tax_id"]) == ["payer_name", "fee_code", "amount", "due_date"]
    longest = validate_record({**ROW, "payer_name": "ก" * 255, "description": "ข" * 2000, "payer_branch": "00000"})
    assert len(longest.payer_name) == 255 and len(longest.description) == 2000 and longest.payer_branch is None
    assert longest.as_dict()["invoice_no"] == ROW["invoice_no"] and longest.as_dict()["amount"] == Decimal("1000.00")
    assert validate_record({**ROW, "license_no": None, "payer_branch": None}).license_no is None


def test_reminder_rules_at_their_edges():
    assert parse_reminder_days("0") == (0,)  # on the due date itself
    with pytest.raises(ValueError, match="'61' is not a number of days from 0 to 60"):
        parse_reminder_days("7,61")
    with pytest.raises(ValueError, match="'8-20' is not HH:MM-HH:MM"):
        QuietHours.parse("8-20")
    assert ReminderKind.plain("remindx") == "remindx" and ReminderKind.plain("other") == "other"
    today = date(2026, 12, 1)
    assert reminder_due(today, today, (0,)) == ("remind0", 0)
    assert reminder_due(today + timedelta(days=1), today, (0,)) is None

