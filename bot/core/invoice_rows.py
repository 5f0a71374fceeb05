"""Validation of one invoice record (CSV row or API item), columns in docs/integrators.md. Pure."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Mapping

from .dates import BE_OFFSET, looks_buddhist
from .money import MoneyError, parse_amount
from .refs import is_ref
from .taxid import is_valid_tax_id
from .textparse import normalize_license

FEE_CODES = frozenset(
    {"APPLICATION", "LICENSE", "ANNUAL", "INSPECTION", "CERTIFICATION", "TRANSLATION", "STANDARD_BOOK", "OTHER"}
)
REQUIRED_COLUMNS = ("invoice_no", "ref2", "tax_id", "payer_name", "fee_code", "amount", "due_date")
_ISO_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
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
    payer_branch: str | None = None  # None: head office (สำนักงานใหญ่); else the 5-digit branch number
    # For the receipt's ETDA XML, which takes a Thai address only with its postcode: both or neither
    payer_address: str | None = None
    payer_postcode: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def missing_columns(header: list[str] | None) -> list[str]:
    present = {h.strip() for h in header or [] if h}
    return [c for c in REQUIRED_COLUMNS if c not in present]


def validate_record(record: Mapping[str, object]) -> InvoiceData:
    """Check every field of one invoice; raise RowError naming every problem it has."""
    problems: list[str] = []

    def text(name: str) -> str:
        value = record.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            problems.append(f"{name} must be text")
            return ""
        if _CONTROL_RE.search(value):  # NUL and other control characters: PostgreSQL refuses NUL, slips print junk
            problems.append(f"{name} contains control characters")
            return ""
        return value.strip()

    def check(ok: bool, problem: str) -> None:
        if not ok:
            problems.append(problem)

    invoice_no = text("invoice_no")
    check(is_ref(invoice_no), "invoice_no must be 1-20 characters of 0-9 and A-Z")
    ref2 = text("ref2")
    check(is_ref(ref2), "ref2 must be 1-20 characters of 0-9 and A-Z")
    license_raw = text("license_no")
    license_no = normalize_license(license_raw) if license_raw else None
    check(not license_raw or license_no is not None, "license_no is not a license number like ท5137-2/10")
    tax_id = text("tax_id")
    check(is_valid_tax_id(tax_id), "tax_id must be 13 digits with a valid check digit")
    payer_name = text("payer_name")
    check(0 < len(payer_name) <= 255, "payer_name must be 1-255 characters")
    fee_code = text("fee_code")
    check(fee_code in FEE_CODES, f"fee_code must be one of {', '.join(sorted(FEE_CODES))}")
    description = text("description")
    check(len(description) <= 2000, "description is longer than 2000 characters")
    raw_amount = record.get("amount")
    if isinstance(raw_amount, str):
        raw_amount = raw_amount.strip()
    amount = None
    try:
        amount = parse_amount(raw_amount)
    except MoneyError as exc:
        problems.append(f"amount: {exc}")
    due_date = _due_date(text("due_date"), problems)
    payer_branch = normalize_branch(text("payer_branch"))
    check(payer_branch is not _BAD_BRANCH, "payer_branch must be empty (head office) or a branch number of 1-5 digits")
    payer_address = " ".join(text("payer_address").split()) or None
    check(payer_address is None or len(payer_address) <= 256, "payer_address is longer than 256 characters")
    payer_postcode = text("payer_postcode") or None
    check(payer_postcode is None or re.fullmatch(r"[1-9][0-9]{4}", payer_postcode) is not None,
          "payer_postcode must be a Thai postcode of 5 digits")
    check((payer_address is None) == (payer_postcode is None),
          "payer_address and payer_postcode go together: give both or neither")
    if problems or amount is None or due_date is None or not (payer_branch is None or isinstance(payer_branch, str)):
        raise RowError("; ".join(problems))
    return InvoiceData(invoice_no, ref2, license_no, tax_id, payer_name, fee_code, description, amount, due_date,
                       payer_branch, payer_address, payer_postcode)


_BAD_BRANCH = object()
HEAD_OFFICE = "00000"  # the Revenue Department's branch number of a head office


def normalize_branch(raw: str) -> str | None | object:
    """'' or 00000 → None (head office); '1' or '00001' → '00001'; anything else → _BAD_BRANCH."""
    if not raw:
        return None
    if not re.fullmatch(r"[0-9]{1,5}", raw):
        return _BAD_BRANCH
    branch = raw.zfill(5)
    return None if branch == HEAD_OFFICE else branch


def _due_date(raw: str, problems: list[str]) -> date | None:
    if not _ISO_DATE_RE.match(raw):
        problems.append("due_date must be an ISO date YYYY-MM-DD")
        return None
    if looks_buddhist(int(raw[:4])):
        # 2569-12-31 would be shown as 31 ธันวาคม 3112 with a payable QR: refuse and say why.
        fixed = f"{int(raw[:4]) - BE_OFFSET}{raw[4:]}"
        problems.append(f"due_date {raw} looks like a Buddhist-era year; write the Gregorian year (BE − 543): {fixed}")
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append("due_date is not a real date")
        return None
