"""What the codes read from a photo say (README, "Photos"). Pure: the decoding of the image
is elsewhere; this turns decoded texts into one answer, never a guess.

- Our bill payment: a Thai QR with tag 30 (AID A000000677010112) or the Bank of Thailand
  bill-payment barcode (`|biller␍ref1␍ref2␍satang`), carrying our BILLER_ID.
- A bank e-slip's "mini QR": tag 00 (00 = 000001, 01 = sending bank, 02 = transaction reference),
  tag 51 = TH, tag 91 = CRC-16/CCITT-FALSE over everything up to "9104" (some banks drop its
  leading zeros). It proves nothing by itself: only a key to look a payment up by.
- Anything else that decodes (PromptPay to a person, another biller, a web link): not ours.
Several codes of one invoice (a slip's QR and barcode) are one answer; codes of two invoices,
or two e-slips, are ambiguous: "could not read", never one of them.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from .money import from_satang
from .thaiqr import BILL_PAYMENT_AID, QrPayloadError, crc16_ccitt_false, parse_tlv, verify_crc

ESLIP_API_TYPE = "000001"


class PhotoOutcome(enum.StrEnum):
    """What a photo was found to be (kept with the read; the answer follows from it)."""

    OUR_BILL = "our_bill"  # one of our invoices (QR or barcode)
    ESLIP = "eslip"  # a bank transfer slip's mini QR
    NOT_OURS = "not_ours"  # someone else's QR or barcode
    UNREADABLE = "unreadable"  # nothing decoded
    AMBIGUOUS = "ambiguous"  # codes of different invoices or slips in one photo
    REFUSED = "refused"  # too large, not an image, corrupt: not read at all
    GONE = "gone"  # LINE no longer has the content (404, 410: unsent)
    NOT_FETCHED = "not_fetched"  # LINE's content host kept failing (5xx, no answer): not read, for now


@dataclass(frozen=True)
class Bill:
    biller_id: str
    ref1: str
    ref2: str | None
    amount: Decimal | None
    source: str  # "qr" or "barcode"


@dataclass(frozen=True)
class Eslip:
    bank_code: str
    trans_ref: str


@dataclass(frozen=True)
class Verdict:
    outcome: PhotoOutcome
    bill: Bill | None = None  # OUR_BILL: the invoice; with two sources the amounts agree or the QR wins
    eslip: Eslip | None = None
    amounts: tuple[Decimal, ...] = ()  # every amount our codes carried (a barcode may differ from the invoice)


def read_bill(text: str) -> Bill | None:
    """A bill payment from a Thai QR payload or a bill-payment barcode text, else None."""
    if text.startswith("|"):
        parts = text[1:].split("\r")
        if len(parts) == 4 and parts[0].isdigit() and parts[3].isdigit():
            return Bill(parts[0], parts[1], parts[2] or None, from_satang(int(parts[3])), "barcode")
        return None
    if not verify_crc(text):
        return None
    try:
        fields = parse_tlv(text)
        merchant = parse_tlv(fields.get("30", ""))
    except QrPayloadError:
        return None
    if merchant.get("00") != BILL_PAYMENT_AID or "01" not in merchant or "02" not in merchant:
        return None
    try:
        amount = Decimal(fields["54"]) if "54" in fields else None
    except ArithmeticError:
        return None
    return Bill(merchant["01"], merchant["02"], merchant.get("03"), amount, "qr")


def read_eslip(text: str) -> Eslip | None:
    """A bank e-slip's mini QR with a good CRC, else None."""
    try:
        fields = parse_tlv(text)
    except QrPayloadError:
        return None
    if fields.get("51") != "TH" or "91" not in fields or not text.endswith(fields["91"]):
        return None
    crc = fields["91"].upper()
    if not 1 <= len(crc) <= 4 or crc.zfill(4) != crc16_ccitt_false(text[: len(text) - len(fields["91"])]):
        return None
    try:
        inner = parse_tlv(fields.get("00", ""))
    except QrPayloadError:
        return None
    if inner.get("00") != ESLIP_API_TYPE or not inner.get("01") or not inner.get("02"):
        return None
    return Eslip(inner["01"], inner["02"])


def judge(texts: list[str], biller_id: str) -> Verdict:
    """One answer from every text decoded in one photo."""
    if not texts:
        return Verdict(PhotoOutcome.UNREADABLE)
    bills = [b for b in (read_bill(t) for t in texts) if b is not None]
    ours = [b for b in bills if b.biller_id == biller_id]
    if ours:
        invoices = {(b.ref1, b.ref2) for b in ours}
        if len(invoices) > 1:
            return Verdict(PhotoOutcome.AMBIGUOUS)
        qr = next((b for b in ours if b.source == "qr"), ours[0])
        return Verdict(PhotoOutcome.OUR_BILL, bill=qr,
                       amounts=tuple(sorted({b.amount for b in ours if b.amount is not None})))
    slips = {s for s in (read_eslip(t) for t in texts) if s is not None}
    if len(slips) > 1:
        return Verdict(PhotoOutcome.AMBIGUOUS)
    if slips:
        return Verdict(PhotoOutcome.ESLIP, eslip=slips.pop())
    return Verdict(PhotoOutcome.NOT_OURS)
