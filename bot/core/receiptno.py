"""Receipt numbers: `<RECEIPT_PREFIX>-<fiscal year BE>-<6-digit running number>`, e.g.
TISI-2569-000123. The running number starts at 1 each fiscal year (1 October, Bangkok), has no
gaps and is never reused (the Ministry of Finance's receipt rules: numbers in running sequence,
a control register). Pure."""
from __future__ import annotations

import re

DEFAULT_PREFIX = "TISI"
SEQ_DIGITS = 6
PREFIX_RE = re.compile(r"^[A-Z0-9]{1,12}\Z")
NUMBER_RE = re.compile(r"^([A-Z0-9]{1,12})-([0-9]{4})-([0-9]{6,})\Z")


def receipt_number(prefix: str, fiscal_year: int, seq: int) -> str:
    if not PREFIX_RE.match(prefix):
        raise ValueError("a receipt prefix is 1-12 characters of A-Z and 0-9")
    if seq < 1:
        raise ValueError("running numbers start at 1")
    return f"{prefix}-{fiscal_year}-{seq:0{SEQ_DIGITS}d}"


def parse_receipt_number(text: str) -> tuple[str, int, int] | None:
    """(prefix, fiscal year, running number) of a well-formed number, else None."""
    m = NUMBER_RE.match((text or "").strip().upper())
    return (m.group(1), int(m.group(2)), int(m.group(3))) if m else None
