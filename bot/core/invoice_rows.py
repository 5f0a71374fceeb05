"""Validation of one invoice record (CSV row or API item), CONTRACT section 4. Pure."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Mapping

from .money import MoneyError, parse_amount
from .taxid import is_valid_tax_id
from .textparse import normalize_license

FEE_CODES = frozenset(
    {"APPLICATION", "LICENSE", "ANNUAL", "INSPECTION", "CERTIFICATION", "TRANSLATION", "STANDARD_BOOK", "OTHER"}
)
REQUIRED_COLUMNS = ("invoice_no", "ref2", "tax_id", "payer_name", "fee_code", "amount", "due_date")
OPTIONAL_COLUMNS = ("license_no", "description")
_REF_RE = re.compile(r"^[0-9A-Z]{1,20}$")
_ISO_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab and line ends are allowed


class RowError(ValueError):
    """Why a record was rejected; the message is shown to operators as is."""


@dataclass(frozen=True)
class InvoiceData:
    invoice_no: str
    ref2: str
    license_no: str | None
    tax_id: str
    payer_name: str
    fee_code: str
    description: str
    amount: Decimal
    due_date: date

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def missing_columns(header: list[str] | None) -> list[str]:
    present = {h.strip() for h in header or [] if h}
    return [c for c in REQUIRED_COLUMNS if c not in present]


def validate_record(record: Mapping[str, object]) -> InvoiceData:
    """Check every field of one invoice; raise RowError naming the first problem."""

    def text(name: str) -> str:
        value = record.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise RowError(f"{name} must be text")
        if _CONTROL_RE.search(value):  # NUL and other control characters: PostgreSQL refuses NUL, slips print junk
            raise RowError(f"{name} contains control characters")
        return value.strip()

    invoice_no = text("invoice_no")
    if not _REF_RE.match(invoice_no):
        raise RowError("invoice_no must be 1-20 characters of 0-9 and A-Z")
    ref2 = text("ref2")
    if not _REF_RE.match(ref2):
        raise RowError("ref2 must be 1-20 characters of 0-9 and A-Z")
    license_raw = text("license_no")
    license_no = None
    if license_raw:
        license_no = normalize_license(license_raw)
        if license_no is None:
            raise RowError("license_no is not a license number like ท5137-2/10")
    tax_id = text("tax_id")
    if not is_valid_tax_id(tax_id):
        raise RowError("tax_id must be 13 digits with a valid check digit")
    payer_name = text("payer_name")
    if not payer_name or len(payer_name) > 255:
        raise RowError("payer_name must be 1-255 characters")
    fee_code = text("fee_code")
    if fee_code not in FEE_CODES:
        raise RowError(f"fee_code must be one of {', '.join(sorted(FEE_CODES))}")
    description = text("description")
    if len(description) > 2000:
        raise RowError("description is longer than 2000 characters")
    raw_amount = record.get("amount")
    if isinstance(raw_amount, str):
        raw_amount = raw_amount.strip()
    try:
        amount = parse_amount(raw_amount)
    except MoneyError as exc:
        raise RowError(f"amount: {exc}") from None
    due_raw = text("due_date")
    if not _ISO_DATE_RE.match(due_raw):
        raise RowError("due_date must be an ISO date YYYY-MM-DD")
    try:
        due_date = date.fromisoformat(due_raw)
    except ValueError:
        raise RowError("due_date is not a real date") from None
    return InvoiceData(invoice_no, ref2, license_no, tax_id, payer_name, fee_code, description, amount, due_date)
