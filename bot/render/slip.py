"""The pay-in slip (ใบแจ้งการชำระเงิน): an A4 PDF for Krungthai branches and ATMs.

Two parts cut apart at the counter: the payer keeps the top one, the bank the bottom one. Each
carries the Institute, the biller ID, Ref1, Ref2, payer, fee, the due date in the Buddhist era,
the amount in figures and in Thai words, the Bank of Thailand bill-payment barcode (Code 128)
and the Thai QR. Thai is set in Sarabun (`document_font`) and shaped with HarfBuzz, so tone marks
and upper vowels sit where a reader expects them and the text copies out as written.

A slip depends only on the values in `SlipData`: the same values give the same bytes, which are
kept in a small LRU so a slip printed again costs no layout.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import segno
from barcode import Code128
from fpdf import FPDF

from bot.core.dates import format_long_date
from bot.core.i18n import N_, Translator
from bot.core.money import format_number, thai_baht_words
from bot.core.thaiqr import bill_payment_barcode, bill_payment_payload
from bot.render.pdftext import FONT, both, fitting, new_document

INSTITUTE_ADDRESS = N_("75/42 Rama VI Road, Ratchathewi, Bangkok 10400")

PAGE_W, MARGIN = 210.0, 12.0
PART_H = 118.0  # two parts and a cut line on 297 mm, with room below for the teller's stamp
MODULE_MM = 0.26  # a Code 128 module: ~110 mm for a typical slip, read by counter scanners
BAR_H = 12.0
QR_MM = 34.0
MAX_ROWS = 8  # label-value rows above the amount (the license row is the optional one)


@dataclass(frozen=True)
class SlipData:
    """Everything printed on a slip (and nothing else: it is the cache key)."""

    biller_id: str
    invoice_no: str
    ref2: str
    amount: Decimal
    due_date: date
    payer_name: str
    tax_id: str
    fee_name: str  # a catalog msgid (FEE_NAMES)
    license_no: str | None
    support_contact: str
    # The PDF's creation date: when the invoice was issued, so the bytes stay a function of the
    # invoice (the slip says nothing about when it was printed; the due date is what matters).
    issued_at: datetime


_CACHE: OrderedDict[SlipData, bytes] = OrderedDict()
_CACHE_MAX = 256  # ~45 KB each
_LOCK = threading.Lock()


def slip_pdf(data: SlipData) -> bytes:
    with _LOCK:
        pdf = _CACHE.get(data)
        if pdf is not None:
            _CACHE.move_to_end(data)
            return pdf
    pdf = render_slip(data)
    with _LOCK:
        _CACHE[data] = pdf
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)
    return pdf


def render_slip(data: SlipData) -> bytes:
    th, en = Translator("th"), Translator("en")
    doc = new_document()
    doc.set_margins(MARGIN, MARGIN, MARGIN)
    doc.set_title(th(N_("Pay-in slip")) + " " + data.invoice_no)
    doc.set_author(th(N_("Thai Industrial Standards Institute (TISI)")))
    doc.set_creator("TISI Pay")
    doc.set_creation_date(data.issued_at)
    doc.add_page()

    _part(doc, data, th, en, top=MARGIN - 2, part=N_("Payer's part"))
    cut = MARGIN - 2 + PART_H + 2
    doc.set_draw_color(120)
    doc.set_dash_pattern(dash=2, gap=1.5)
    doc.line(MARGIN, cut, PAGE_W - MARGIN, cut)
    doc.set_dash_pattern()
    doc.set_font(FONT, "", 9)
    doc.set_text_color(110)
    doc.set_xy(MARGIN, cut - 4)
    doc.cell(0, 4, both(th, en, N_("Cut here")), align="C")
    _part(doc, data, th, en, top=cut + 3, part=N_("Bank's part"), bank=True)
    return bytes(doc.output())


def _part(doc: FPDF, d: SlipData, th: Translator, en: Translator, *, top: float, part: str, bank: bool = False) -> None:
    right = PAGE_W - MARGIN
    doc.set_text_color(0)
    doc.set_draw_color(27, 79, 156)
    doc.set_line_width(0.3)
    doc.rect(MARGIN, top, right - MARGIN, PART_H - 4)

    # Header: who asks to be paid, and which copy this is.
    doc.set_fill_color(27, 79, 156)
    doc.rect(MARGIN, top, right - MARGIN, 17, style="F")
    doc.set_text_color(255)
    doc.set_xy(MARGIN + 3, top + 1.5)
    doc.set_font(FONT, "B", 14)
    doc.cell(120, 6, th(N_("Thai Industrial Standards Institute (TISI)")))
    doc.set_xy(MARGIN + 3, top + 7.5)
    doc.set_font(FONT, "", 10)
    doc.cell(120, 4, th(N_("Ministry of Industry")) + " · " + en(N_("Thai Industrial Standards Institute (TISI)")))
    doc.set_xy(MARGIN + 3, top + 12)
    doc.cell(120, 4, th(INSTITUTE_ADDRESS))
    doc.set_xy(right - 73, top + 2)
    doc.set_font(FONT, "B", 14)
    doc.cell(70, 6, th(N_("Pay-in slip")), align="R")
    doc.set_xy(right - 73, top + 8.5)
    doc.set_font(FONT, "", 10)
    doc.cell(70, 4, f"Bill Payment · {both(th, en, part)}", align="R")

    # Fields, two columns of label and value; the QR on the right.
    doc.set_text_color(0)
    rows = [
        (N_("Company code (biller ID)"), d.biller_id),
        (N_("Invoice no. (Ref.1)"), d.invoice_no),
        (N_("Ref.2"), d.ref2),
        (N_("Payer"), d.payer_name),
        (N_("Tax ID"), d.tax_id),
        (N_("Fee"), th(d.fee_name)),
    ]
    if d.license_no:
        rows.append((N_("License no."), d.license_no))
    rows.append((N_("Due date"), format_long_date(d.due_date, "th")))
    y = top + 20
    for label, value in rows:
        doc.set_xy(MARGIN + 3, y)
        doc.set_font(FONT, "", 10)
        doc.set_text_color(80)
        doc.cell(62, 5.6, fitting(doc, th, en, label, 61))
        doc.set_font(FONT, "B", 11)
        doc.set_text_color(0)
        doc.cell(85, 5.6, value[:64])
        y += 5.6

    # The amount, in figures and in words: the words are what a teller checks a cheque against.
    y = top + 20 + MAX_ROWS * 5.6 + 1.5  # the same place on every slip, license or not
    doc.set_fill_color(240, 244, 250)
    doc.rect(MARGIN + 2, y, right - MARGIN - QR_MM - 10, 15, style="F")
    doc.set_xy(MARGIN + 3, y + 1)
    doc.set_font(FONT, "", 10)
    doc.set_text_color(80)
    doc.cell(62, 6, both(th, en, N_("Amount")))
    doc.set_font(FONT, "B", 15)
    doc.set_text_color(0)
    doc.cell(60, 6, th(N_("%(amount)s baht"), amount=format_number(d.amount, "th")))
    doc.set_xy(MARGIN + 3, y + 7.5)
    doc.set_font(FONT, "B", 11)
    doc.cell(0, 6, f"({thai_baht_words(d.amount)})")

    _qr(doc, bill_payment_payload(d.biller_id, d.invoice_no, d.ref2, d.amount), right - QR_MM - 4, top + 21)
    doc.set_xy(right - QR_MM - 6, top + 21 + QR_MM)
    doc.set_font(FONT, "", 9)
    doc.cell(QR_MM + 4, 4, "Thai QR Payment", align="C")

    # The bank's barcode and its text, as the Bank of Thailand bill-payment standard prints it,
    # right under the amount.
    barcode_text = bill_payment_barcode(d.biller_id, d.invoice_no, d.ref2, d.amount)
    y += 15 + 4
    _barcode(doc, barcode_text, MARGIN + 4, y)
    doc.set_xy(MARGIN + 4, y + BAR_H + 0.5)
    doc.set_font(FONT, "", 9)
    doc.cell(140, 4, barcode_text.replace("\r", "  "))
    if bank:  # the teller's boxes, beside the barcode
        doc.set_xy(right - 62, y)
        doc.set_font(FONT, "", 10)
        for box in (N_("Cash"), N_("Cheque")):
            doc.rect(doc.get_x(), doc.get_y() + 1, 3.5, 3.5)
            doc.set_x(doc.get_x() + 5)
            doc.cell(24, 5.5, both(th, en, box))
        doc.set_xy(right - 62, y + 10)
        doc.cell(58, 5, th(N_("Received by")) + " ........................", align="L")

    # Where to pay.
    doc.set_xy(MARGIN + 3, y + BAR_H + 6)
    doc.set_font(FONT, "", 10)
    doc.multi_cell(right - MARGIN - 6, 4.4, th(N_("Pay at any Krungthai branch or ATM, in Krungthai NEXT, or scan the Thai QR with any bank app."))
                   + ("  " + th(N_("Contact")) + ": " + d.support_contact if d.support_contact else ""))


def _barcode(doc: FPDF, text: str, x: float, y: float) -> None:
    """Code 128 bars drawn as vector rectangles: sharp at any printer resolution."""
    modules = Code128(text).build()[0]
    doc.set_fill_color(0)
    run_start = None
    for i, bit in enumerate(modules + "0"):
        if bit == "1" and run_start is None:
            run_start = i
        elif bit != "1" and run_start is not None:
            doc.rect(x + run_start * MODULE_MM, y, (i - run_start) * MODULE_MM, BAR_H, style="F")
            run_start = None


def _qr(doc: FPDF, payload: str, x: float, y: float) -> None:
    """The Thai QR drawn as vector squares (with its 4-module quiet zone in the size)."""
    matrix = segno.make(payload, error="m", micro=False).matrix
    cell = QR_MM / (len(matrix) + 8)
    doc.set_fill_color(0)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                doc.rect(x + (4 + start) * cell, y + (4 + r) * cell, (c - start) * cell, cell, style="F")
            else:
                c += 1
