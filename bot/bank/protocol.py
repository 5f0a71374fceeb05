"""The bank's bill-payment messages (docs/integrators.md, "Signed JSON"): authentication and validation. Pure."""
from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.core.money import MoneyError, parse_amount
from bot.core.refs import BANK_REF_RE, BILLER_ID_RE
from bot.core.signing import bank_signature

MAX_CLOCK_SKEW = 300  # seconds, either way
COMMANDS = ("inquiry", "payment", "reversal")
CHANNELS = ("QR", "MOBILE", "ATM", "BRANCH", "COUNTER")

OK = "0000"
NOT_FOUND = "1001"
ALREADY_PAID = "1002"
AMOUNT_DIFFERS = "1003"
EXPIRED = "1004"
CANCELLED = "1005"
UNKNOWN_PAYMENT = "1006"
BAD_AUTH = "2001"
BAD_REQUEST = "2002"
INTERNAL = "9999"

MESSAGES = {
    OK: "success",
    NOT_FOUND: "invoice not found",
    ALREADY_PAID: "invoice already paid",
    AMOUNT_DIFFERS: "amount differs from the amount due",
    EXPIRED: "invoice expired",
    CANCELLED: "invoice cancelled",
    UNKNOWN_PAYMENT: "reversal of an unknown payment; kept and applied if the payment arrives",
    BAD_AUTH: "signature missing or wrong, or timestamp out of range",
    BAD_REQUEST: "malformed body or field",
    INTERNAL: "internal error",
}
HTTP_STATUS = {BAD_AUTH: 401, BAD_REQUEST: 400, INTERNAL: 500}

_BANK_CODE_RE = re.compile(r"^[0-9]{3}\Z")
REF_RE = re.compile(r"^[0-9A-Z]{1,20}\Z")
_TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}\Z")


class Refused(Exception):
    """A request refused before any business rule: carries the respCode and a detail."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class BankCommand:
    command: str
    bank_code: str
    bank_ref: str
    biller_id: str
    ref1: str
    ref2: str
    amount: Decimal | None  # optional for inquiry only
    channel: str
    transacted_at: datetime


MAX_BODY = 64 * 1024


def check_before_authentication(body: bytes) -> None:
    """What is refused before the signature is even computed: a body over the size limit, or
    one that is not UTF-8 text without NUL (no bank message is either, and no database column
    could keep it as sent). Nothing refused here is stored."""
    if len(body) > MAX_BODY:
        raise Refused(BAD_REQUEST, "body too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(BAD_REQUEST, "body is not UTF-8") from None
    if "\x00" in text:
        raise Refused(BAD_REQUEST, "body holds a NUL character")


def check_headers(timestamp: str | None, signature: str | None, now: float) -> None:
    """What can be refused from the headers alone, before the body is read: no signature, or a
    timestamp out of range (a replay, or a forgery)."""
    if not timestamp or not signature or not _TIMESTAMP_RE.match(timestamp):
        raise Refused(BAD_AUTH, "X-Bank-Timestamp and X-Bank-Signature are required")
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW:
        raise Refused(BAD_AUTH, "timestamp out of range")


def authenticate(secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float) -> None:
    check_headers(timestamp, signature, now)
    assert timestamp is not None and signature is not None  # refused above otherwise
    expected = bank_signature(secret, timestamp, body)
    if not hmac.compare_digest(expected, signature.strip().lower()[:128].encode("ascii", "replace").decode()):
        raise Refused(BAD_AUTH, "signature does not match")


def parse_command(body: bytes, our_biller_id: str) -> BankCommand:
    try:
        data = json.loads(body.decode("utf-8"), parse_float=_no_float, parse_constant=_no_float)
    except (UnicodeDecodeError, json.JSONDecodeError, _FloatSeen):
        raise Refused(BAD_REQUEST, "body is not a JSON object without JSON numbers") from None
    except RecursionError:  # nested deeper than the parser goes: malformed, not our error (9999 would make the bank retry)
        raise Refused(BAD_REQUEST, "body is nested too deeply") from None
    if not isinstance(data, dict):
        raise Refused(BAD_REQUEST, "body must be a JSON object")

    def field(name: str, pattern: re.Pattern[str] | None = None, choices: tuple[str, ...] | None = None) -> str:
        value = data.get(name)
        if not isinstance(value, str):
            raise Refused(BAD_REQUEST, f"{name} must be a string")
        if pattern is not None and not pattern.match(value):
            raise Refused(BAD_REQUEST, f"{name} has the wrong format")
        if choices is not None and value not in choices:
            raise Refused(BAD_REQUEST, f"{name} must be one of {', '.join(choices)}")
        return value

    command = field("command", choices=COMMANDS)
    bank_code = field("bankCode", _BANK_CODE_RE)
    bank_ref = field("bankRef", BANK_REF_RE)
    biller_id = field("billerId", BILLER_ID_RE)
    if biller_id != our_biller_id:
        raise Refused(BAD_REQUEST, "billerId is not this biller")
    ref1 = field("ref1", REF_RE)
    ref2 = field("ref2", REF_RE)
    raw_amount = None if command == "inquiry" and data.get("amount") is None else field("amount")
    amount = None
    if raw_amount is not None:
        try:
            amount = parse_amount(raw_amount)
        except MoneyError as exc:
            raise Refused(BAD_REQUEST, f"amount: {exc}") from None
    channel = field("channel", choices=CHANNELS)
    raw_time = field("transDateTime")
    try:
        transacted_at = datetime.fromisoformat(raw_time)
    except ValueError:
        raise Refused(BAD_REQUEST, "transDateTime must be ISO 8601") from None
    if transacted_at.tzinfo is None:
        raise Refused(BAD_REQUEST, "transDateTime must carry a UTC offset")
    return BankCommand(command, bank_code, bank_ref, biller_id, ref1, ref2, amount, channel, transacted_at)


class _FloatSeen(ValueError):
    pass


def _no_float(value: str):
    # 1000.0 as a JSON number has already lost the difference between 1000.0 and 1000.00.
    raise _FloatSeen(value)


def answer(code: str, tranx_id: str, detail: str | None = None, **extra: str) -> tuple[int, bytes]:
    message = f"{MESSAGES[code]}: {detail}" if detail else MESSAGES[code]
    body = {"respCode": code, "respMsg": message, "tranxId": tranx_id, **extra}
    return HTTP_STATUS.get(code, 200), json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
