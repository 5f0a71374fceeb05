"""Thai QR Payment bill-payment payload (EMVCo MPM + Bank of Thailand tag 30)."""
from __future__ import annotations

import binascii
from decimal import Decimal

from .money import MoneyError, parse_amount, to_satang
from .refs import is_biller_id, is_ref

BILL_PAYMENT_AID = "A000000677010112"
CURRENCY_THB = "764"
COUNTRY_TH = "TH"
POI_DYNAMIC = "12"  # point of initiation: one QR per bill, amount included (static "11" is not used)



class QrPayloadError(ValueError):
    """An input that cannot go into a payable Thai QR."""


def tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise QrPayloadError(f"tag {tag} value longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def crc16_ccitt_false(data: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), 4 uppercase hex digits, zero-padded."""
    return f"{binascii.crc_hqx(data.encode('ascii'), 0xFFFF):04X}"


def _checked(biller_id: str, ref1: str, ref2: str | None, amount: Decimal | str) -> Decimal:
    """The amount of a valid bill payment; the rules are the same for the QR and the barcode."""
    if not is_biller_id(biller_id):
        raise QrPayloadError("biller ID must be 15 digits")
    for name, ref in (("ref1", ref1), ("ref2", ref2)):
        if ref is None and name == "ref2":
            continue
        if not is_ref(ref):
            raise QrPayloadError(f"{name} must be 1-20 of 0-9 A-Z")
    try:
        return parse_amount(amount)
    except MoneyError as exc:
        raise QrPayloadError(str(exc)) from exc


def bill_payment_barcode(biller_id: str, ref1: str, ref2: str | None, amount: Decimal | str) -> str:
    """The Bank of Thailand bill-payment barcode text (printed as Code 128 on pay-in slips):
    `|` + biller ID + CR + Ref1 + CR + Ref2 + CR + amount in satang, no decimal point.

    Branch tellers and ATMs scan it; it carries the same fields as the QR's tag 30."""
    value = _checked(biller_id, ref1, ref2, amount)
    return "|" + "\r".join((biller_id, ref1, ref2 or "", str(to_satang(value))))


def bill_payment_payload(biller_id: str, ref1: str, ref2: str | None, amount: Decimal | str) -> str:
    """Dynamic (tag 01 = 12) bill-payment payload for one invoice and its exact amount."""
    value = _checked(biller_id, ref1, ref2, amount)
    amount_text = f"{value:.2f}"
    if len(amount_text) > 13:
        raise QrPayloadError("amount too large for tag 54")
    merchant = tlv("00", BILL_PAYMENT_AID) + tlv("01", biller_id) + tlv("02", ref1)
    if ref2:
        merchant += tlv("03", ref2)
    body = (
        tlv("00", "01")
        + tlv("01", POI_DYNAMIC)
        + tlv("30", merchant)
        + tlv("53", CURRENCY_THB)
        + tlv("54", amount_text)
        + tlv("58", COUNTRY_TH)
        + "6304"
    )
    return body + crc16_ccitt_false(body)


def parse_tlv(payload: str) -> dict[str, str]:
    """Split one TLV level into {tag: value}; raises on leftovers or bad lengths."""
    fields: dict[str, str] = {}
    i = 0
    while i < len(payload):
        if i + 4 > len(payload):
            raise QrPayloadError("truncated TLV header")
        tag, length = payload[i : i + 2], payload[i + 2 : i + 4]
        if not length.isdigit():
            raise QrPayloadError("bad TLV length")
        n = int(length)
        value = payload[i + 4 : i + 4 + n]
        if len(value) != n:
            raise QrPayloadError("truncated TLV value")
        fields[tag] = value
        i += 4 + n
    return fields


def verify_crc(payload: str) -> bool:
    if len(payload) < 8 or payload[-8:-4] != "6304":
        return False
    return crc16_ccitt_false(payload[:-4]) == payload[-4:].upper()
