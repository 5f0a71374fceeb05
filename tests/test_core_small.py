"""The small rules of the pure core, pinned one by one (issue 34): client addresses behind proxies,
masked names, identifier shapes, signed tokens, signatures (RFC 4231 vectors), delivery outcomes
and back-off, one-line errors, the audit chain's canonical text, languages and resources."""
from __future__ import annotations

import base64
import ipaddress
import json
import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import chain, clientip, delivery, errors, i18n, masking, refs, resources, signing, tokens

# -- client addresses ------------------------------------------------------------------------------
PROXIES = clientip.parse_networks("10.0.0.0/8, 192.168.1.1, fd00::/8")


def ip(text: str):
    return ipaddress.ip_address(text)


def test_networks_are_parsed_and_a_bad_one_is_named():
    assert [str(n) for n in PROXIES] == ["10.0.0.0/8", "192.168.1.1/32", "fd00::/8"]
    assert clientip.parse_networks("") == () and clientip.parse_networks(" , ") == ()
    assert str(clientip.parse_networks("10.1.2.3/8")[0]) == "10.0.0.0/8"  # host bits allowed
    with pytest.raises(ValueError, match="'nonsense' is not an IP address or CIDR"):
        clientip.parse_networks("10.0.0.0/8,nonsense")


@pytest.mark.parametrize("peer, forwarded, client", [
    ("203.0.113.9", None, "203.0.113.9"),  # no header
    ("203.0.113.9", "1.2.3.4", "203.0.113.9"),  # an untrusted peer's header is ignored
    ("10.0.0.5", "1.2.3.4", "1.2.3.4"),  # a trusted proxy names the client
    ("10.0.0.5", "1.2.3.4, 10.9.9.9", "1.2.3.4"),  # two proxies of ours
    ("10.0.0.5", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the first untrusted hop from the right, not a forged left one
    ("10.0.0.5", "10.1.1.1, 10.2.2.2", "10.1.1.1"),  # every hop trusted: the leftmost
    ("10.0.0.5", "1.2.3.4, garbage", None),  # a mangled chain names nobody
    ("10.0.0.5", " , ", "10.0.0.5"),  # empty hops only
    ("10.0.0.5", "", "10.0.0.5"),
    ("192.168.1.1", "2001:db8::1", "2001:db8::1"),
    ("192.168.1.2", "1.2.3.4", "192.168.1.2"),  # next to the trusted single address, not it
    ("not an address", "1.2.3.4", None),
    (None, None, None),
    ("::ffff:10.0.0.5", "1.2.3.4", "::ffff:10.0.0.5"),  # IPv6 never matches an IPv4 network
])
def test_the_client_is_the_first_untrusted_hop(peer, forwarded, client):
    got = clientip.client_address(peer, forwarded, PROXIES)
    assert got == (ip(client) if client else None)


def test_allowed_networks():
    nets = clientip.parse_networks("203.0.113.0/24")
    assert clientip.allowed(ip("203.0.113.7"), nets) and not clientip.allowed(ip("203.0.114.7"), nets)
    assert not clientip.allowed(None, nets) and clientip.allowed(None, ())  # none configured: anyone
    assert not clientip.allowed(ip("::1"), nets)


# -- masked names ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, masked", [
    ("บริษัท ไทยอุตสาหกรรมเหล็ก จำกัด", "บริษัท ไทยอุตส********** จำกัด"),  # 16 clusters, 6 kept
    ("นางสาว สมศรี", "นางสาว สม**"),
    ("ABC Co., Ltd.", "A** Co., Ltd."),
    ("A", "A"), ("AB", "A*"), ("ABCD", "AB**"), ("ABCDEFG", "ABC****"),
    ("ผู้ใหญ่", "ผู้ใ**"),  # a consonant keeps its marks: 4 clusters, 2 kept
    ("  บจก.   ทดสอบ  ", "บจก. ทด***"),
])
def test_names_are_masked_by_clusters_keeping_legal_forms(name, masked):
    assert masking.mask_name(name) == masked


def test_masking_keeps_a_third_rounded_up_and_never_reveals_the_rest():
    for n in range(1, 30):
        word = "ก" * n
        out = masking.mask_name(word)
        assert len(out) == n and out.count("ก") == max(1, (n + 2) // 3)


# -- identifier shapes ------------------------------------------------------------------------------
def test_identifier_shapes():
    assert refs.is_biller_id("099999999999990") and not refs.is_biller_id("09999999999999")
    assert not refs.is_biller_id("0999999999999901") and not refs.is_biller_id("09999999999999a")
    assert not refs.is_biller_id(99999999999999) and not refs.is_biller_id("099999999999990\n")
    assert refs.is_ref("A") and refs.is_ref("0" * 20) and not refs.is_ref("0" * 21) and not refs.is_ref("")
    assert not refs.is_ref("abc") and not refs.is_ref("AB C") and not refs.is_ref(12) and not refs.is_ref("AB\n")
    assert refs.BANK_REF_RE.match("K_1-a") and not refs.BANK_REF_RE.match("x" * 65) and refs.BANK_REF_RE.match("x" * 64)


# -- signed tokens ---------------------------------------------------------------------------------
def test_tokens_round_trip_and_refuse_tampering():
    pid = tokens.new_public_id()
    assert len(pid) == 16 and tokens.new_public_id() != pid
    token = tokens.make_token("secret", "qr", pid)
    assert tokens.read_token("secret", "qr", token) == pid
    assert tokens.read_token("other", "qr", token) is None  # another key
    assert tokens.read_token("secret", "track", token) is None  # another purpose
    head, tag = token.split(".")
    flipped = tag[:-1] + ("A" if tag[-1] != "A" else "B")
    assert tokens.read_token("secret", "qr", f"{head}.{flipped}") is None
    assert tokens.read_token("secret", "qr", "") is None and tokens.read_token("secret", "qr", None) is None
    assert tokens.read_token("secret", "qr", token + "\n") is None
    assert len(tag) == 22  # 16 bytes of HMAC-SHA256


def test_token_tags_are_hmac_sha256_of_purpose_and_id():
    """Known answer: HMAC-SHA256("k", "qr:abcdefghijklmnop"), first 16 bytes, base64url."""
    token = tokens.make_token("k", "qr", "abcdefghijklmnop")
    assert token == "abcdefghijklmnop.H32GlE92DOK4OGPxPQ5y4g"  # computed with hmac by hand


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", min_size=16, max_size=32))
def test_any_public_id_round_trips(pid):
    assert tokens.read_token("s", "p", tokens.make_token("s", "p", pid)) == pid


# -- signatures: RFC 4231 test case 2 -------------------------------------------------------------
RFC4231_KEY, RFC4231_DATA = "Jefe", b"what do ya want for nothing?"
RFC4231_MAC = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_line_signature_is_base64_of_hmac_sha256():
    assert signing.line_signature(RFC4231_KEY, RFC4231_DATA) == base64.b64encode(bytes.fromhex(RFC4231_MAC)).decode()


def test_bank_signature_is_hex_hmac_of_timestamp_dot_body():
    # "what do ya want " + "." + "for nothing?" is not the vector: the dot is part of the message
    assert signing.bank_signature(RFC4231_KEY, "what do ya want for nothing", b"?") != RFC4231_MAC
    assert signing.bank_signature(RFC4231_KEY, "what", b"do ya want for nothing?") != RFC4231_MAC
    # HMAC-SHA256("s", '1700000000.{"a":1}'), lowercase hex, computed with hmac by hand
    assert signing.bank_signature("s", "1700000000", b'{"a":1}') == \
        "ab7bd212df57f3ef4ea3c17d4a1a71d8981ef595d4cd699b62517c68d89192a2"
    assert signing.bank_signature(RFC4231_KEY, "what do ya want for nothing?"[:-1], b"")[:8] != RFC4231_MAC[:8]
    assert signing.bank_signature(RFC4231_KEY, "", b"") != signing.bank_signature(RFC4231_KEY, "", b".")


# -- delivery outcomes and back-off ------------------------------------------------------------------
@pytest.mark.parametrize("status, retry", [(400, False), (401, False), (404, False), (409, False), (428, False),
                                           (429, True), (499, False), (500, True), (503, True), (0, True)])
def test_which_refusals_are_worth_retrying(status, retry):
    out = delivery.Outcome.from_status(status, "x" * 600, retry_after=3.0)
    assert (out.delivered, out.retry, out.status, out.retry_after) == (False, retry, status, 3.0)
    assert len(out.detail) == 500 and not out.unknown


def test_no_answer_may_or_may_not_have_been_sent():
    sent = delivery.Outcome.no_answer(TimeoutError())
    assert (sent.delivered, sent.retry, sent.status, sent.detail, sent.unknown) == (False, True, 0, "TimeoutError", True)
    assert delivery.Outcome.no_answer(ConnectionRefusedError(), sent=False).unknown is False
    ok = delivery.Outcome.ok(202)
    assert (ok.delivered, ok.retry, ok.status) == (True, False, 202)
    assert delivery.Outcome.ok().status == 200
    assert delivery.Outcome.from_status(500, " boom ").describe() == "500  boom"
    assert delivery.Outcome(False, True, 0).describe() == "0" and len(delivery.Outcome(False, False, 1, "x" * 2000)
                                                                       .describe()) == 1000


def test_backoff_doubles_within_jitter_caps_and_yields_to_retry_after():
    random.seed(7)
    for attempts, full in ((0, 1), (1, 1), (2, 2), (3, 4), (5, 16), (11, 600), (40, 600)):
        for _ in range(20):
            d = delivery.backoff(attempts)
            assert full / 2 <= d <= full, (attempts, d)
    assert 5 <= delivery.backoff(1, base=10) <= 10
    assert delivery.backoff(1, retry_after=30.0) == 30.0  # the receiver's longer wait wins
    assert delivery.backoff(3, retry_after=0.5) >= 2  # a shorter one does not shorten ours
    assert delivery.backoff(3, retry_after=0.0) >= 2


def test_retry_after_in_seconds():
    assert delivery.parse_retry_after("12") == 12.0 and delivery.parse_retry_after(3) == 3.0
    assert delivery.parse_retry_after("-4") == 0.0 and delivery.parse_retry_after(None) is None
    assert delivery.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert delivery.parse_retry_after("0.5") == 0.5


# -- one-line errors ----------------------------------------------------------------------------
def test_an_error_in_one_line_names_the_drivers_error():
    wrapped = RuntimeError("wrapper text")
    wrapped.orig = ConnectionError("connection refused\nDETAIL: more")
    assert errors.one_line(wrapped) == "ConnectionError: connection refused"
    assert errors.one_line(ValueError("")) == "ValueError: "
    assert errors.one_line(ValueError("  x  ")) == "ValueError: x"
    assert errors.one_line(ValueError("y" * 500)) == ("ValueError: " + "y" * 500)[:200]
    assert len(errors.one_line(ValueError("y" * 500), limit=50)) == 50


# -- the audit chain's canonical text -----------------------------------------------------------------
def test_canonical_forms():
    assert chain.GENESIS == "0" * 64
    assert chain.canonical_time(datetime(2026, 11, 26, 14, 30, tzinfo=timezone(timedelta(hours=7)))) == \
        "2026-11-26T07:30:00.000000Z"
    assert chain.canonical_time(datetime(2026, 11, 26, 7, 30, 0, 5)) == "2026-11-26T07:30:00.000005Z"  # naive: UTC
    assert chain.canonical_time(None) is None
    assert chain.canonical_amount(Decimal("1000")) == "1000.00" and chain.canonical_amount(None) is None
    assert chain.canonical({"b": 1, "a": "ไทย"}) == '{"a":"ไทย","b":1}'


def test_link_content_and_hash_as_the_readme_says():
    row = SimpleNamespace(id=7, payment_id=3, variant="issued", number="TISI-2570-000001", amount=Decimal("1000.5"),
                          sha256="ab", created_at=datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc))
    text = chain.content("receipt", row)
    assert json.loads(text) == {"kind": "receipt", "id": 7, "payment_id": 3, "variant": "issued",
                                "number": "TISI-2570-000001", "amount": "1000.50", "sha256": "ab",
                                "created_at": "2026-12-07T03:00:00.000000Z"}
    assert text.startswith('{"amount":"1000.50","created_at"')
    statement = SimpleNamespace(id=1, sha256="x", effective_date=date(2026, 12, 7), company_account="1",
                                imported_at=None, balanced=1, report="")
    assert '"effective_date":"2026-12-07"' in chain.content("statement", statement)
    assert '"balanced":true' in chain.content("statement", statement)
    import hashlib

    assert chain.link_hash(chain.GENESIS, text) == hashlib.sha256((chain.GENESIS + text).encode()).hexdigest()
    assert chain.link_hash("a", "ไ") == hashlib.sha256("aไ".encode("utf-8")).hexdigest()


def test_the_postgresql_form_names_every_field_in_sorted_order():
    for kind, fields in chain.FIELDS.items():
        sql = chain.content_sql(kind)
        names = ["kind", *fields]
        positions = [sql.index(json.dumps(name) + ":") for name in sorted(names)]
        assert positions == sorted(positions) and sql.startswith("'{") and sql.endswith("'}'")
        assert sql.count("NEW.") == len(fields)


# -- languages and resources --------------------------------------------------------------------------
def test_languages():
    assert i18n.supported("en") == "en" and i18n.supported("th") == "th"
    assert i18n.supported("fr") == "th" and i18n.supported(None) == "th"
    th, en = i18n.Translator("th"), i18n.Translator("en")
    assert th("Receipt") == "ใบเสร็จรับเงิน" and en("Receipt") == "Receipt"
    assert en("Branch %(branch)s", branch="00012") == "Branch 00012"
    assert th("Receipt", unused=1) == "ใบเสร็จรับเงิน"
    assert i18n.Translator("xx").lang == "th" and i18n.N_("x") == "x"


def test_resources_are_found():
    assert (resources.resource_dir("locale") / "th" / "LC_MESSAGES").is_dir()
    assert resources.resource_dir("templates").is_dir()
    assert resources.document_font().name == "Sarabun-Regular.ttf" and resources.document_font().is_file()
    assert resources.document_font("Bold").name == "Sarabun-Bold.ttf"


# -- Thai QR: the edges of its fields and of the TLV reader --------------------------------------------
from bot.core import thaiqr  # noqa: E402

BILLER = "099999999999990"


def test_a_tlv_value_holds_at_most_99_characters():
    assert thaiqr.tlv("62", "x" * 99) == "6299" + "x" * 99
    assert thaiqr.tlv("00", "") == "0000"
    with pytest.raises(thaiqr.QrPayloadError, match=r"^tag 62 value longer than 99 characters$"):
        thaiqr.tlv("62", "x" * 100)


@pytest.mark.parametrize("biller, ref1, ref2, said", [
    ("09999999999999", "A1", "B2", "biller ID must be 15 digits"),
    (BILLER, "a1", "B2", "ref1 must be 1-20 of 0-9 A-Z"),
    (BILLER, None, "B2", "ref1 must be 1-20 of 0-9 A-Z"),  # only Ref2 may be left out
    (BILLER, "A1", "b 2", "ref2 must be 1-20 of 0-9 A-Z"),
    (BILLER, "A1", "", "ref2 must be 1-20 of 0-9 A-Z"),
])
def test_what_cannot_go_into_a_bill_payment_is_refused_and_named(biller, ref1, ref2, said):
    for make in (thaiqr.bill_payment_payload, thaiqr.bill_payment_barcode):
        with pytest.raises(thaiqr.QrPayloadError, match=f"^{said}$"):
            make(biller, ref1, ref2, "10.00")


def test_without_ref2_the_barcode_keeps_its_empty_line_and_the_qr_has_no_tag_03():
    assert thaiqr.bill_payment_barcode(BILLER, "A1", None, "10.00") == f"|{BILLER}\rA1\r\r1000"
    merchant = thaiqr.parse_tlv(thaiqr.parse_tlv(thaiqr.bill_payment_payload(BILLER, "A1", None, "10.00"))["30"])
    assert set(merchant) == {"00", "01", "02"}
    with pytest.raises(thaiqr.QrPayloadError, match="^amount must be greater than zero$"):
        thaiqr.bill_payment_barcode(BILLER, "A1", None, "0")


def test_tag_54_holds_13_characters():
    payload = thaiqr.bill_payment_payload(BILLER, "A1", "B2", "9999999999.99")
    assert thaiqr.parse_tlv(payload)["54"] == "9999999999.99"
    with pytest.raises(thaiqr.QrPayloadError, match="^amount too large for tag 54$"):
        thaiqr.bill_payment_payload(BILLER, "A1", "B2", "10000000000.00")
    assert thaiqr.bill_payment_barcode(BILLER, "A1", "B2", "10000000000.00").endswith("\r1000000000000")


@pytest.mark.parametrize("payload, said", [
    ("000", "truncated TLV header"), ("0001A002", "truncated TLV header"),
    ("00XY", "bad TLV length"), ("000512", "truncated TLV value"),
])
def test_a_broken_tlv_is_refused_and_named(payload, said):
    with pytest.raises(thaiqr.QrPayloadError, match=f"^{said}$"):
        thaiqr.parse_tlv(payload)


def test_tlv_edges_read_exactly():
    assert thaiqr.parse_tlv("0000") == {"00": ""} and thaiqr.parse_tlv("") == {}
    assert thaiqr.parse_tlv("0002AB0101C") == {"00": "AB", "01": "C"}


def test_the_crc_is_checked_on_its_last_eight_characters():
    good = thaiqr.bill_payment_payload(BILLER, "A1", "B2", "10.00")
    assert thaiqr.verify_crc(good) and thaiqr.verify_crc(good[:-4] + good[-4:].lower())
    assert not thaiqr.verify_crc(good[:-1] + ("0" if good[-1] != "0" else "1"))
    assert not thaiqr.verify_crc("6304ABCD"[:7]) and thaiqr.verify_crc("6304" + thaiqr.crc16_ccitt_false("6304"))
    assert not thaiqr.verify_crc(good.replace("6304", "6305"))
    assert not thaiqr.verify_crc("6305" + thaiqr.crc16_ccitt_false("6305"))  # a right CRC under another tag


# -- money ------------------------------------------------------------------------------------------
from bot.core import money  # noqa: E402


@pytest.mark.parametrize("value, said", [
    (1.5, "amount must be a decimal string, not a float"),
    (True, "amount must be a decimal string, not a float"),  # a bool is an int to Python, not an amount
    (Decimal("NaN"), "amount must be finite"), (Decimal("Infinity"), "amount must be finite"),
    (object(), "amount must be a decimal string"), (None, "amount must be a decimal string"),
    ("1,000", r"amount must look like 1000.00 \(at most 2 decimals, no sign or commas\)"),
    ("-5", "amount must look like"), ("1e3", "amount must look like"), ("10.001", "amount must look like"),
    ("01", "amount must look like"), ("1000000000000", "amount must look like"),  # 13 digits
    ("0", "amount must be greater than zero"), ("0.00", "amount must be greater than zero"),
    (Decimal("-1"), "amount must look like"), (0, "amount must be greater than zero"),
])
def test_what_is_not_an_amount_is_refused_and_named(value, said):
    with pytest.raises(money.MoneyError, match=f"^{said}"):
        money.parse_amount(value)


@pytest.mark.parametrize("value, amount", [
    ("1000", "1000.00"), (" 10.5 ", "10.50"), (Decimal("1000.5"), "1000.50"), (5, "5.00"), ("0.01", "0.01"),
    ("999999999999.99", "999999999999.99"), (Decimal("12.30"), "12.30"),
])
def test_amounts_are_exact_with_two_decimals(value, amount):
    parsed = money.parse_amount(value)
    assert isinstance(parsed, Decimal) and str(parsed) == amount


def test_satang_both_ways():
    assert money.to_satang(Decimal("1000.50")) == 100050 and money.to_satang(Decimal("0.01")) == 1
    assert money.from_satang(100050) == Decimal("1000.50") and str(money.from_satang(7)) == "0.07"


def test_numbers_are_grouped_and_thai_words_written():
    assert money.format_number(Decimal("1234567.5"), "th") == "1,234,567.50"
    assert money.format_number(Decimal("1234567.5"), "en") == "1,234,567.50"
    assert money._babel_locale("th") == "th_TH" and money._babel_locale("en") == "en_US"
    assert money.thai_baht_words(Decimal("21.50")) == "ยี่สิบเอ็ดบาทห้าสิบสตางค์"
    assert money.thai_baht_words(Decimal("1000")) == "หนึ่งพันบาทถ้วน"
    assert money.thai_baht_words(Decimal("0")) == "ศูนย์บาทถ้วน"
    for bad in (1.0, Decimal("-0.01"), Decimal("NaN"), "10"):
        with pytest.raises(money.MoneyError, match="^amount must be a non-negative Decimal$"):
            money.thai_baht_words(bad)


# -- masking, delivery, i18n, resources and cells: their edges --------------------------------------
@pytest.mark.parametrize("form", ["บริษัท", "จำกัด", "(มหาชน)", "มหาชน", "ห้างหุ้นส่วนจำกัด", "ห้างหุ้นส่วนสามัญ",
                                  "หจก.", "บจก.", "บมจ.", "นาย", "นาง", "นางสาว", "Co.,", "Co.", "Ltd.", "Ltd",
                                  "Limited", "Company", "Inc.", "PLC.", "Part.,", "Mr.", "Mrs.", "Ms."])
def test_every_legal_form_and_title_is_kept_whole(form):
    assert masking.mask_name(f"{form} สมบูรณ์") == f"{form} สม***"  # ส ม บู ร ณ์: 5 clusters, 2 kept


def test_a_spacing_mark_stays_with_its_letter():
    assert masking.mask_name("ab\u0903cd") == "ab\u0903**"  # 4 clusters (b with its visarga), 2 kept


def test_an_outcome_without_detail_describes_its_status_alone():
    assert delivery.Outcome.from_status(503).describe() == "503"
    assert delivery.Outcome.from_status(503).detail == ""


def test_a_missing_compiled_catalog_is_an_error_not_english(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    with pytest.raises(RuntimeError, match=r"^compiled catalog for 'th' not found under "):
        i18n.translations.__wrapped__("th")


def test_plural_forms():
    en, th = i18n.Translator("en"), i18n.Translator("th")
    assert en.plural("The last payment", "The last %(count)s payments", 1) == "The last payment"
    assert en.plural("The last payment", "The last %(count)s payments", 2) == "The last 2 payments"
    assert th.plural("The last payment", "The last %(count)s payments", 2) == "การชำระล่าสุด 2 รายการ"


def test_the_rich_menus_font_ships_in_the_package():
    assert (resources.FONT_DIR / "Laksaman.ttf").is_file() and resources.FONT_DIR.name == "fonts"


def test_spreadsheet_cells():
    from bot.core import cells

    for formula in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx"):
        assert cells.neutralised(formula) == "'" + formula
    assert cells.neutralised("ok") == "ok" and cells.neutralised(None) == ""
    assert cells.code_cell("006") == '="006"' and cells.code_cell("2568110400012345") == '="2568110400012345"'
    assert cells.code_cell("123456789012") == '="123456789012"'  # 12 digits: past what a spreadsheet keeps
    assert cells.code_cell("12345678901") == "12345678901"  # 11 digits without a leading zero: a number is fine
    assert cells.code_cell(None) == "" and cells.code_cell("") == ""
    assert cells.code_cell("=006") == "'=006" and cells.code_cell("๐๐๖") == "๐๐๖"  # Thai digits are not ASCII


# -- the chain's canonical text of every kind, as README's "Audit chain" lists its fields --------------
T = datetime(2026, 11, 25, 7, 30, tzinfo=timezone.utc)
TZ = "2026-11-25T07:30:00.000000Z"


@pytest.mark.parametrize("kind, row, expected", [
    ("audit", dict(id=1, at=T, invoice_id=2, action="paid", from_status="unpaid", to_status="paid", actor="bank",
                   detail='{"amount":"1000.00"}'),
     {"kind": "audit", "id": 1, "at": TZ, "invoice_id": 2, "action": "paid", "from_status": "unpaid",
      "to_status": "paid", "actor": "bank", "detail": '{"amount":"1000.00"}'}),
    ("bank", dict(id=3, received_at=T, command="payment", bank_code="006", bank_ref="K1", request_body="{}",
                  bank_timestamp="1700000000", bank_signature="ab", http_status=200, resp_code="0000",
                  response_body='{"respCode":"0000"}', replayed=0),
     {"kind": "bank", "id": 3, "received_at": TZ, "command": "payment", "bank_code": "006", "bank_ref": "K1",
      "request_body": "{}", "bank_timestamp": "1700000000", "bank_signature": "ab", "http_status": 200,
      "resp_code": "0000", "response_body": '{"respCode":"0000"}', "replayed": False}),
    ("statement", dict(id=4, sha256="cd", effective_date=date(2026, 11, 25), company_account="123", imported_at=T,
                       balanced=True, report="[]"),
     {"kind": "statement", "id": 4, "sha256": "cd", "effective_date": "2026-11-25", "company_account": "123",
      "imported_at": TZ, "balanced": True, "report": "[]"}),
    ("receipt", dict(id=5, payment_id=6, variant="void", number="TISI-2570-000001", amount=Decimal("1000"),
                     sha256="ef", created_at=T),
     {"kind": "receipt", "id": 5, "payment_id": 6, "variant": "void", "number": "TISI-2570-000001",
      "amount": "1000.00", "sha256": "ef", "created_at": TZ}),
    ("staff", dict(id=7, at=T, account="somchai", action="exported", target="payments", detail="", address="10.0.0.1"),
     {"kind": "staff", "id": 7, "at": TZ, "account": "somchai", "action": "exported", "target": "payments",
      "detail": "", "address": "10.0.0.1"}),
])
def test_each_kind_of_link_holds_exactly_its_fields(kind, row, expected):
    text = chain.content(kind, SimpleNamespace(**row))
    assert json.loads(text) == expected
    assert text == json.dumps(expected, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    empty = chain.content(kind, SimpleNamespace(**{k: None for k in row}))
    assert all(v is None or v is False for k, v in json.loads(empty).items() if k != "kind")


# -- dates: the era boundary and the clock ----------------------------------------------------------
def test_the_era_turns_at_2400():
    from bot.core import dates

    assert dates.looks_buddhist(2400) and not dates.looks_buddhist(2399)
    assert dates.gregorian_year(2400) == 1857 and dates.gregorian_year(2399) == 2399
    assert dates.gregorian_year(2569) == 2026 and dates.gregorian_year(2026) == 2026


def test_now_is_aware_utc():
    from bot.core import dates

    now = dates.utcnow()
    assert isinstance(now, datetime) and now.utcoffset() == timedelta(0)
    assert dates.today_bangkok(datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc)) == date(2027, 1, 1)


# -- invoice rows: what each refusal says, and the edges ---------------------------------------------
from bot.core.invoice_rows import RowError, validate_record  # noqa: E402

ROW = {"invoice_no": "2569120700000001", "ref2": "00000001", "tax_id": "0105561000003", "payer_name": "บริษัท ก จำกัด",
       "fee_code": "LICENSE", "description": "", "amount": "10.00", "due_date": "2027-01-31"}


def _refused(**change) -> str:
    with pytest.raises(RowError) as refused:
        validate_record({**ROW, **change})
    return str(refused.value)


def test_each_invoice_row_refusal_says_exactly_what():
    assert _refused(payer_name=5) == "payer_name must be text; payer_name must be 1-255 characters"
    assert _refused(payer_name="a\x00b") == "payer_name contains control characters; payer_name must be 1-255 characters"
    assert _refused(amount="0") == "amount: amount must be greater than zero"
    assert _refused(fee_code="X") == ("fee_code must be one of ANNUAL, APPLICATION, CERTIFICATION, INSPECTION, LICENSE, "
                                      "OTHER, STANDARD_BOOK, TRANSLATION")
    assert _refused(due_date="2569-12-31") == ("due_date 2569-12-31 looks like a Buddhist-era year; write the Gregorian "
                                               "year (BE − 543): 2026-12-31")


def test_invoice_row_edges_that_pass():
    assert validate_record({**ROW, "payer_name": "ก"}).payer_name == "ก"  # one character is a name
    assert validate_record({**ROW, "amount": Decimal("10")}).amount == Decimal("10.00")  # an API's Decimal
    assert validate_record({**ROW, "amount": " 10.5 "}).amount == Decimal("10.50")
    at_most = validate_record({**ROW, "payer_address": "ก" * 256, "payer_postcode": "10110"})
    assert len(at_most.payer_address) == 256
    for fee in ("TRANSLATION", "STANDARD_BOOK", "APPLICATION", "ANNUAL", "INSPECTION", "CERTIFICATION", "OTHER"):
        assert validate_record({**ROW, "fee_code": fee}).fee_code == fee
