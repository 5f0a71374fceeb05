"""The payments export as files a finance office opens: CSV (UTF-8 with the byte order mark
Excel needs for Thai) and XLSX (numbers as numbers, days as days, codes as text, a frozen header
row, a totals row). Days in the Buddhist era or the Gregorian calendar, as the officer chose.

Rows arrive ready to show (labels translated by the caller); this module only lays them out.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.core.cells import code_cell, neutralised
from bot.core.dates import buddhist_year, to_bangkok


class Era(StrEnum):
    BE = "be"  # พ.ศ.: what Thai offices write
    CE = "ce"


@dataclass(frozen=True)
class ExportRow:
    paid_at: datetime  # aware; shown in Bangkok
    invoice_no: str
    ref2: str | None
    license_no: str | None
    tax_id: str
    payer_name: str
    fee: str  # a label, translated
    amount: Decimal
    channel: str  # a label, translated
    bank_code: str
    bank_ref: str
    status: str  # a label, translated
    receipt_no: str | None


# Excel's Thai Buddhist calendar (calendar type 7 of locale th-TH): the year shown is the BE one.
_XLSX_DAY_TIME = {Era.BE: "[$-th-TH,107]dd/mm/yyyy hh:mm:ss", Era.CE: "yyyy-mm-dd hh:mm:ss"}
_XLSX_DAY = {Era.BE: "[$-th-TH,107]dd/mm/yyyy", Era.CE: "yyyy-mm-dd"}
_XLSX_AMOUNT = "#,##0.00"
_XLSX_WIDTHS = (20, 12, 20, 10, 14, 16, 36, 24, 14, 16, 10, 22, 18, 20)


def _day_text(moment: datetime, era: Era, with_time: bool) -> str:
    time_part = f" {moment:%H:%M:%S}" if with_time else ""
    if era is Era.BE:
        return f"{moment.day:02d}/{moment.month:02d}/{buddhist_year(moment)}{time_part}"
    return f"{moment:%Y-%m-%d}{time_part}"


def csv_chunks(header: list[str], rows: Iterable[ExportRow], era: Era, chunk: int = 64 * 1024) -> Iterator[str]:
    """The CSV, a piece at a time (an export of a month is streamed, never held whole)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")  # Excel reads UTF-8 (Thai) only with the byte order mark
    writer.writerow(header)
    for row in rows:
        local = to_bangkok(row.paid_at)
        writer.writerow([
            _day_text(local, era, True), _day_text(local, era, False), code_cell(row.invoice_no), code_cell(row.ref2),
            neutralised(row.license_no), code_cell(row.tax_id), neutralised(row.payer_name), neutralised(row.fee),
            f"{row.amount:.2f}", neutralised(row.channel), code_cell(row.bank_code), code_cell(row.bank_ref),
            neutralised(row.status), neutralised(row.receipt_no)])
        if out.tell() > chunk:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _text(sheet: WriteOnlyWorksheet, value: str | None) -> WriteOnlyCell:
    """Text, kept as text: a code keeps its zeros, and a payer's "=…" is never a formula."""
    cell = WriteOnlyCell(sheet, value or "")
    cell.data_type = "s"
    return cell


def _number(sheet: WriteOnlyWorksheet, value: object, number_format: str, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value)
    cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)
    return cell


def xlsx_bytes(header: list[str], rows: Iterable[ExportRow], era: Era, *, sheet_name: str,
               total_label: Callable[[int], str]) -> bytes:
    """One sheet: the header row frozen, a row per payment, a totals row (how many, and the amount
    under the amounts)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name[:31])
    sheet.freeze_panes = "A2"
    for i, width in enumerate(_XLSX_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    bold = Font(bold=True)
    heading = []
    for title in header:
        cell = _text(sheet, title)
        cell.font = bold
        heading.append(cell)
    sheet.append(heading)
    count, total = 0, Decimal("0")
    for row in rows:
        local = to_bangkok(row.paid_at).replace(tzinfo=None)  # Excel has no time zones: Bangkok time
        sheet.append([
            _number(sheet, local, _XLSX_DAY_TIME[era]), _number(sheet, local.date(), _XLSX_DAY[era]),
            _text(sheet, row.invoice_no), _text(sheet, row.ref2), _text(sheet, row.license_no), _text(sheet, row.tax_id),
            _text(sheet, row.payer_name), _text(sheet, row.fee), _number(sheet, row.amount, _XLSX_AMOUNT),
            _text(sheet, row.channel), _text(sheet, row.bank_code), _text(sheet, row.bank_ref), _text(sheet, row.status),
            _text(sheet, row.receipt_no)])
        count, total = count + 1, total + row.amount
    label = _text(sheet, total_label(count))
    label.font = bold
    sheet.append([label, *[None] * 7, _number(sheet, total, _XLSX_AMOUNT, bold=True)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
