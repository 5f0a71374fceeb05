"""Money: exact baht amounts as Decimal with at most two decimals; formatting through Babel."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import format_decimal
from num2words import num2words

# A plain decimal string: digits, optional point and 1-2 decimals. No sign, exponent or grouping.
_AMOUNT_RE = re.compile(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?\Z")
MAX_AMOUNT = Decimal("999999999999.99")
CENT = Decimal("0.01")


class MoneyError(ValueError):
    """An amount that is not a positive baht value with at most two decimals."""


def parse_amount(value: object) -> Decimal:
    """Parse a baht amount from a str or Decimal (never float), > 0, at most 2 decimals."""
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError("amount must be a decimal string, not a float")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError("amount must be finite")
        text = format(value, "f")
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise MoneyError("amount must be a decimal string")
    if not _AMOUNT_RE.match(text):
        raise MoneyError("amount must look like 1000.00 (at most 2 decimals, no sign or commas)")
    try:
        amount = Decimal(text).quantize(CENT)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid decimals
        raise MoneyError("amount is not a number") from exc
    if amount <= 0:
        raise MoneyError("amount must be greater than zero")
    if amount > MAX_AMOUNT:
        raise MoneyError("amount is too large")
    return amount


def to_satang(amount: Decimal) -> int:
    return int((amount * 100).to_integral_exact())


def from_satang(satang: int) -> Decimal:
    return (Decimal(satang) / 100).quantize(CENT)


@lru_cache(maxsize=4096)  # pure, and Babel's formatting is most of a card's cost
def format_number(amount: Decimal, lang: str) -> str:
    """1,234.50 with the grouping of the user's locale."""
    return format_decimal(amount, format="#,##0.00", locale=_babel_locale(lang))


def _babel_locale(lang: str) -> str:
    return "th_TH" if lang == "th" else "en_US"


def thai_baht_words(amount: Decimal) -> str:
    """The amount in Thai words as written on pay-in slips and cheques: หนึ่งพันบาทถ้วน,
    ยี่สิบเอ็ดบาทห้าสิบสตางค์ (num2words knows เอ็ด, ยี่ and ล้าน; we only guard the type)."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
        raise MoneyError("amount must be a non-negative Decimal")
    return str(num2words(amount.quantize(CENT), lang="th", to="currency"))
