"""The bank's daily bill-payment statement: 256-byte fixed-width records (H, D..., T), TIS-620.

The layout is the Thai bill-payment one (field by field in docs/integrators.md), matched byte for byte by a file as received from Krungthai and by several independent parsers,
though not yet by Krungthai's own specification: everything about it lives in this module so
that a correction stays in one place. The framing is Krungthai's: records separated by LF or
CRLF, an empty line between records, no final newline (a compact file parses the same). Pure:
bytes in, records out.
"""
from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any

from .dates import gregorian_year
from .money import from_satang

RECORD_BYTES = 256
ENCODING = "cp874"  # TIS-620 with Windows extensions: the customer name is Thai


class Problem(enum.Enum):
    """What is wrong with a refused file, for the people who must fix it (said in their language
    by the console; the message says it exactly, in English, for the log and the command line)."""

    LAYOUT = enum.auto()  # not this layout: too short, a record of another length, type or order
    BANK = enum.auto()  # another bank's file
    FIELD = enum.auto()  # a field that is not what the layout says (a number, a date, a time, C or D)
    ENCODING = enum.auto()  # the text is not TIS-620
    TOTALS = enum.auto()  # the trailer's totals are not the records' (a file cut short or edited)


class StatementError(ValueError):
    """The file cannot be trusted as a whole; nothing of it is used."""

    def __init__(self, message: str, problem: Problem, line: int | None = None):
        super().__init__(message)
        self.problem, self.line = problem, line


@dataclass(frozen=True)
class Detail:
    line: int
    seq: int
    paid_on: date
    paid_at: time
    customer_name: str
    ref1: str
    ref2: str
    ref3: str
    branch: str
    teller: str
    kind: str  # C: credit (a payment); D: debit (a correction / reversal)
    transaction_code: str
    amount: Decimal


@dataclass(frozen=True)
class Statement:
    bank_code: str
    company_account: str
    company_name: str
    effective_date: date
    service_code: str  # header 69-76, e.g. 9433: which of the biller's services the file is for
    details: tuple[Detail, ...]
    credit_total: Decimal
    credit_count: int
    debit_total: Decimal
    debit_count: int


def _field(record: bytes, start: int, end: int) -> str:
    """1-based inclusive byte positions, as the layout is written."""
    return record[start - 1 : end].decode(ENCODING, errors="strict").strip()


def _number(record: bytes, start: int, end: int, what: str, line: int) -> int:
    text = _field(record, start, end)
    if not text.isdigit():
        raise StatementError(f"line {line}: {what} is not a number: {text!r}", Problem.FIELD, line)
    return int(text)


def _amount(record: bytes, start: int, end: int, what: str, line: int) -> Decimal:
    return from_satang(_number(record, start, end, what, line))  # 2 implied decimals


def _date(text: str, what: str, line: int) -> date:
    """DDMMYYYY; a Buddhist-era year (25xx) is accepted as well as a Gregorian one."""
    if len(text) != 8 or not text.isdigit():
        raise StatementError(f"line {line}: {what} is not DDMMYYYY: {text!r}", Problem.FIELD, line)
    year = gregorian_year(int(text[4:]))
    try:
        return date(year, int(text[2:4]), int(text[:2]))
    except ValueError:
        raise StatementError(f"line {line}: {what} is not a real date: {text!r}", Problem.FIELD, line) from None


def records(data: bytes) -> list[tuple[int, bytes]]:
    """(line number in the file, record) of every record: LF or CRLF, empty lines skipped. The
    line numbers are the file's, so that an operator finds a bad record in an editor."""
    out = []
    for number, line in enumerate(data.split(b"\n"), 1):
        if line.endswith(b"\r"):
            line = line[:-1]
        if line.strip(b" \t\r\x1a"):  # \x1a: the end-of-file mark some Windows tools append
            out.append((number, line))
    return out


def parse_statement(data: bytes, expected_bank_code: str = "006") -> Statement:
    found = records(data)
    if len(found) < 2:
        raise StatementError("a statement has at least a header and a trailer", Problem.LAYOUT)
    for index, (number, record) in enumerate(found, 1):
        if len(record) != RECORD_BYTES:
            raise StatementError(f"line {number}: {len(record)} bytes, every record has {RECORD_BYTES}", Problem.LAYOUT,
                                 number)
        kind = record[:1]
        expected = b"H" if index == 1 else b"T" if index == len(found) else b"D"
        if kind != expected:
            raise StatementError(f"line {number}: record type {kind!r}, expected {expected!r}", Problem.LAYOUT, number)
        seq = _number(record, 2, 7, "sequence number", number)
        if seq != index:
            raise StatementError(f"line {number}: sequence number {seq}, expected {index}", Problem.LAYOUT, number)
        if _field(record, 8, 10) != expected_bank_code:
            raise StatementError(f"line {number}: bank code is not {expected_bank_code}", Problem.BANK, number)
    (header_line, header), (trailer_line, trailer) = found[0], found[-1]
    account = _field(header, 11, 20)
    try:
        details = tuple(_detail(record, number, index, account)
                        for index, (number, record) in enumerate(found[1:-1], 2))
        company_name = _field(header, 21, 60)
    except UnicodeDecodeError as exc:
        raise StatementError(f"text is not TIS-620: {exc}", Problem.ENCODING) from None
    statement = Statement(
        bank_code=expected_bank_code,
        company_account=account,
        company_name=company_name,
        effective_date=_date(_field(header, 61, 68), "effective date", header_line),
        service_code=_field(header, 69, 76),
        details=details,
        debit_total=_amount(trailer, 21, 33, "total debit amount", trailer_line),
        debit_count=_number(trailer, 34, 39, "total debit count", trailer_line),
        credit_total=_amount(trailer, 40, 52, "total credit amount", trailer_line),
        credit_count=_number(trailer, 53, 58, "total credit count", trailer_line),
    )
    _check_totals(statement)
    return statement


def content_digest(data: bytes) -> str:
    """SHA-256 of the records alone: the same statement framed another way is the same file."""
    return hashlib.sha256(b"\n".join(record for _, record in records(data))).hexdigest()


def _detail(record: bytes, line: int, seq: int, account: str) -> Detail:
    if _field(record, 11, 20) != account:
        raise StatementError(f"line {line}: company account differs from the header's", Problem.FIELD, line)
    kind = _field(record, 153, 153)
    if kind not in ("C", "D"):
        raise StatementError(f"line {line}: kind of transaction {kind!r} is neither C nor D", Problem.FIELD, line)
    clock = _field(record, 29, 34)
    if len(clock) != 6 or not clock.isdigit() or int(clock[:2]) > 23 or int(clock[2:4]) > 59 or int(clock[4:]) > 59:
        raise StatementError(f"line {line}: payment time is not HHMMSS: {clock!r}", Problem.FIELD, line)
    return Detail(
        line=line, seq=seq, paid_on=_date(_field(record, 21, 28), "payment date", line),
        paid_at=time(int(clock[:2]), int(clock[2:4]), int(clock[4:])),
        customer_name=_field(record, 35, 84), ref1=_field(record, 85, 104), ref2=_field(record, 105, 124),
        ref3=_field(record, 125, 144), branch=_field(record, 145, 148), teller=_field(record, 149, 152), kind=kind,
        transaction_code=_field(record, 154, 156), amount=_amount(record, 164, 176, "amount", line),
    )


def _check_totals(s: Statement) -> None:
    credits = [d.amount for d in s.details if d.kind == "C"]
    debits = [d.amount for d in s.details if d.kind == "D"]
    if (len(credits), sum(credits, Decimal(0))) != (s.credit_count, s.credit_total):
        raise StatementError(f"trailer says {s.credit_count} credits of {s.credit_total}, the records add up to "
                             f"{len(credits)} of {sum(credits, Decimal(0))}", Problem.TOTALS)
    if (len(debits), sum(debits, Decimal(0))) != (s.debit_count, s.debit_total):
        raise StatementError(f"trailer says {s.debit_count} debits of {s.debit_total}, the records add up to "
                             f"{len(debits)} of {sum(debits, Decimal(0))}", Problem.TOTALS)


# -- writing (for tests and the demo: the same layout, the other way) -------------------------
def _pad(text: str, width: int, *, right: bool = False) -> bytes:
    raw = text.encode(ENCODING)
    if len(raw) > width:
        raise ValueError(f"{text!r} is longer than {width} bytes")
    return raw.rjust(width, b"0") if right else raw.ljust(width, b" ")


def build_statement(account: str, name: str, effective: date, details: list[dict[str, Any]], bank_code: str = "006", *,
                    service_code: str = "9433", framing: str = "compact") -> bytes:
    """A statement file from dicts with paid_on, paid_at, customer_name, ref1, ref2, kind, amount.

    `framing`: "compact" (CRLF after every record) or "krungthai" (as Krungthai writes the file:
    LF, an empty line between records, no final newline)."""
    rows = [b"H" + _pad("1", 6, right=True) + _pad(bank_code, 3) + _pad(account, 10) + _pad(name, 40)
            + _pad(effective.strftime("%d%m%Y"), 8) + _pad(service_code, 8) + b" " * 180]
    for i, d in enumerate(details, 2):
        rows.append(
            b"D" + _pad(str(i), 6, right=True) + _pad(bank_code, 3) + _pad(account, 10)
            + _pad(d["paid_on"].strftime("%d%m%Y"), 8) + _pad(d["paid_at"].strftime("%H%M%S"), 6)
            + _pad(d["customer_name"], 50) + _pad(d["ref1"], 20) + _pad(d["ref2"], 20) + _pad(d.get("ref3", ""), 20)
            + _pad(d.get("branch", "0001"), 4) + _pad(d.get("teller", "0001"), 4) + _pad(d["kind"], 1)
            + _pad(d.get("transaction_code", "CSH"), 3) + _pad("", 7)
            + _pad(str(int(d["amount"] * 100)), 13, right=True) + _pad("", 3) + b" " * 77
        )
    credits = [d["amount"] for d in details if d["kind"] == "C"]
    debits = [d["amount"] for d in details if d["kind"] == "D"]
    rows.append(b"T" + _pad(str(len(details) + 2), 6, right=True) + _pad(bank_code, 3) + _pad(account, 10)
                + _pad(str(int(sum(debits, Decimal(0)) * 100)), 13, right=True) + _pad(str(len(debits)), 6, right=True)
                + _pad(str(int(sum(credits, Decimal(0)) * 100)), 13, right=True) + _pad(str(len(credits)), 6, right=True)
                + b" " * 198)
    if framing == "krungthai":
        return b"\n\n".join(rows)
    return b"\r\n".join(rows) + b"\r\n"
