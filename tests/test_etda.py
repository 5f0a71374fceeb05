"""The receipt's XML checked by ETDA's own tools: the v2.0 Receipt XSD and Schematron
(tests/fixtures/etda, unchanged from ETDA's published set)."""
from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal

import pdfplumber
import pytest

from bot.config import Settings
from bot.core.etda import TISI_ADDRESS, issuer_address_from, read_receipt_xml
from bot.core.invoice_rows import RowError, validate_record
from bot.render.receipt import render_receipt
from tests.conftest import TAX_ID, make_env
from tests.etda_validate import EXAMPLE, problems
from tests.test_pdf_text import NAMES, receipt

AT = datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc)
PERSON = "1101700203451"  # a national ID (does not start with 0): NIDN, 13 digits


def test_etdas_own_example_passes_and_a_broken_one_does_not():
    """The validator is not vacuous: ETDA's example passes, and losing a required element or a
    field a Schematron rule wants is reported."""
    example = EXAMPLE.read_bytes()
    assert problems(example) == []
    no_creation = example.replace(b"<ram:CreationDateTime>2006-05-04T15:30:00.0</ram:CreationDateTime>", b"")
    assert any(p.startswith("XSD") and "CreationDateTime" in p for p in problems(no_creation))
    no_quantity = example.replace(b'<ram:BilledQuantity unitCode="BX">2</ram:BilledQuantity>', b"")
    assert any("RCT-GoodsDetail-013" in p for p in problems(no_quantity))


@pytest.mark.parametrize("variant", ["company", "branch", "person", "with address", "void", "long name"])
def test_every_kind_of_receipt_passes_etdas_xsd_and_schematron(variant):
    data = receipt(NAMES[0], Decimal("1234.50"))
    data = {
        "company": data,
        "branch": replace(data, payer_branch="00012"),
        "person": replace(data, payer_tax_id=PERSON, payer_name="นายสมชาย ใจดี"),
        "with address": replace(data, payer_address="99/1 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพมหานคร",
                                payer_postcode="10110"),
        "void": data.void(AT, "ธนาคารกลับรายการชำระเงิน"),
        "long name": replace(data, payer_name="ก" * 255, description="ข" * 2000),
    }[variant]
    assert problems(data.xml()) == []


def test_the_xml_reads_back_field_by_field():
    data = replace(receipt(NAMES[2], Decimal("36000")), payer_branch="00012").void(AT, "reversed")
    back = read_receipt_xml(data.xml())
    assert back.number == data.number and back.type_code == "T01" and back.amount == Decimal("36000")
    assert back.seller_tax == data.seller_tax_id + "00000" and back.buyer_tax == data.payer_tax_id + "00012"
    assert back.invoice_no == data.invoice_no and back.bank_ref == data.bank_ref and back.void_reason == "reversed"
    person = read_receipt_xml(replace(data, payer_tax_id=PERSON).xml())
    assert person.buyer_tax == PERSON  # NIDN: the national ID alone


def test_the_seller_address_is_etdas_structured_one_from_settings():
    xml = receipt(NAMES[0], Decimal("1")).xml().decode()
    for part in ("<ram:PostcodeCode>10400</ram:PostcodeCode>", "<ram:CityName>1037</ram:CityName>",
                 "<ram:CitySubDivisionName>103701</ram:CitySubDivisionName>",
                 "<ram:CountrySubDivisionID>10</ram:CountrySubDivisionID>", "<ram:BuildingNumber>75/42</ram:BuildingNumber>"):
        assert part in xml
    other = issuer_address_from("1 | | 500101 | 5001 | 50 | 50200")  # Chiang Mai, no street
    assert other.street is None and other.postcode == "50200"
    assert problems(replace(receipt(NAMES[0], Decimal("1")), seller_address=other).xml()) == []
    assert issuer_address_from("") == TISI_ADDRESS
    for bad, why in (("1|x|10370|1037|10|10400", "sub-district"), ("1|x|103701|1037|10", "six parts"),
                     ("|x|103701|1037|10|10400", "building number"), ("1|x|103701|1037|10|1040O", "postcode")):
        with pytest.raises(ValueError, match=why):
            issuer_address_from(bad)


def test_issuer_settings_are_checked():
    env = make_env("sqlite:///x.db", "http://127.0.0.1:9")
    assert Settings.from_env(env).issuer_tax_id == env["BILLER_ID"][:13]
    ok = Settings.from_env({**env, "RECEIPT_ISSUER_TAX_ID": "0999999999991",
                            "RECEIPT_ISSUER_ADDRESS": "1 | | 500101 | 5001 | 50 | 50200"})
    assert ok.issuer_tax_id == "0999999999991" and ok.receipt_issuer_address.province_code == "50"
    with pytest.raises(Exception, match="RECEIPT_ISSUER_TAX_ID must be 13 digits with a valid check digit"):
        Settings.from_env({**env, "RECEIPT_ISSUER_TAX_ID": "0999999999999"})
    with pytest.raises(Exception, match="RECEIPT_ISSUER_ADDRESS: six parts"):
        Settings.from_env({**env, "RECEIPT_ISSUER_ADDRESS": "75/42 Rama VI"})


def test_the_demo_tax_id_passes_the_check_digit():
    from bot.config import DEMO_ISSUER_TAX_ID
    from bot.core.taxid import is_valid_tax_id
    from bot.dev.demo import demo_environment

    assert is_valid_tax_id(DEMO_ISSUER_TAX_ID)
    assert demo_environment("127.0.0.1", 5000)["RECEIPT_ISSUER_TAX_ID"] == DEMO_ISSUER_TAX_ID


ROW = {"invoice_no": "2569120700000001", "ref2": "00000001", "tax_id": TAX_ID, "payer_name": "บริษัท ก จำกัด",
       "fee_code": "LICENSE", "description": "", "amount": "10.00", "due_date": "2099-01-31"}


def test_payer_address_and_postcode_are_optional_and_go_together():
    assert validate_record(ROW).payer_address is None
    both = validate_record({**ROW, "payer_address": " 99/1  ถนนสุขุมวิท ", "payer_postcode": "10110"})
    assert (both.payer_address, both.payer_postcode) == ("99/1 ถนนสุขุมวิท", "10110")
    for extra, why in (({"payer_address": "99/1"}, "go together"), ({"payer_postcode": "10110"}, "go together"),
                       ({"payer_address": "x", "payer_postcode": "1011"}, "5 digits"),
                       ({"payer_address": "x" * 257, "payer_postcode": "10110"}, "longer than 256")):
        with pytest.raises(RowError, match=why):
            validate_record({**ROW, **extra})


def test_a_long_void_reason_wraps_inside_the_page():
    reason = ("The bank reversed the payment (reversal KTB-REV-000123 of 8 December 2026, requested by the "
              "payer's bank after a duplicate debit on the account)")
    pdf = render_receipt(receipt(NAMES[0], Decimal("1")).void(AT, reason))
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        page = doc.pages[0]
        inked = [c for c in page.chars if c["text"].strip() and c["upright"]]
        assert inked and max(c["x1"] for c in inked) <= page.width - 16 * 72 / 25.4 + 1
        text = " ".join(page.extract_text().split())
    assert "duplicate debit on the account)" in text


def test_the_attachment_the_unit_and_the_line_are_as_documented():
    """docs/integrators.md names them: `ETDA-receipt.xml`, one line (LineID 1) of quantity 1 C62."""
    from bot.core.etda import FILE_NAME

    assert FILE_NAME == "ETDA-receipt.xml"
    data = replace(receipt(NAMES[0], Decimal("10")), license_no=None, fee_name="License fee")
    xml = data.xml().decode()
    assert '<ram:BilledQuantity unitCode="C62">1</ram:BilledQuantity>' in xml
    assert "<ram:LineID>1</ram:LineID>" in xml
    assert "<ram:Name>ค่าธรรมเนียมใบอนุญาต</ram:Name>" in xml or "<ram:Name>License fee</ram:Name>" in xml
    assert "License fee (" not in xml and "ค่าธรรมเนียมใบอนุญาต (" not in xml  # no license: no brackets


def test_a_buyer_address_longer_than_etda_takes_is_cut_at_256():
    from bot.core.etda import ReceiptXml, receipt_xml  # noqa: F401

    data = replace(receipt(NAMES[0], Decimal("10")), payer_address="ก" * 300, payer_postcode="10110")
    xml = data.xml().decode()
    assert "<ram:LineOne>" + "ก" * 256 + "</ram:LineOne>" in xml


@pytest.mark.parametrize("bad, said", [
    ("1|x|10370|1037|10|10400", "the sub-district code must be 6 digits"),
    ("1|x|103701|137|10|10400", "the district code must be 4 digits"),
    ("1|x|103701|1037|1|10400", "the province code must be 2 digits"),
    ("1|x|103701|1037|10|1040", "the postcode must be 5 digits"),
    ("1|x|๑๐๓๗๐๑|1037|10|10400", "the sub-district code must be 6 digits"),  # Thai digits are not ETDA's
])
def test_issuer_address_refusals_say_exactly_what(bad, said):
    with pytest.raises(ValueError) as refused:
        issuer_address_from(bad)
    assert str(refused.value) == said
