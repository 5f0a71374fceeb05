"""Spreadsheet cells that stay text: what a spreadsheet would run as a formula is neutralised
(OWASP, "CSV Injection"), and long digit strings keep their digits."""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")  # read as a formula (or DDE) by Excel, LibreOffice, Sheets


def neutralised(value: str | None) -> str:
    """A cell of someone else's text (a payer's name, a reference): a leading quote makes a
    spreadsheet show it as written instead of evaluating it."""
    text = value or ""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def code_cell(value: str | None) -> str:
    """A code of digits that a spreadsheet must not turn into a number (006 → 6, a 16-digit
    invoice number → 2.56811E+15): written as the text formula ="…", which we make only of
    digits, so nothing of anyone else's can ride in it. Anything else is neutralised text."""
    text = value or ""
    if text.isdigit() and text.isascii() and (len(text) > 11 or text.startswith("0")):
        return f'="{text}"'
    return neutralised(text)
