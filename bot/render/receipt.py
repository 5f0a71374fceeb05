"""The receipt (ใบเสร็จรับเงิน): an A4 PDF/A-3U in Thai with English beside the headings, carrying
its own data as ETDA receipt XML (an associated file, /AFRelationship /Alternative). Signing is
`bot.render.pades`; numbering, storing and serving are `bot.ledger.receipts`.

A receipt depends only on `ReceiptData`: the creation date is when the receipt was issued (or
voided), so the same receipt renders to the same bytes before it is signed.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from fpdf import FPDF

from bot.core.dates import format_datetime_local, format_long_date, to_bangkok
from bot.core.etda import FILE_NAME, TISI_ADDRESS, IssuerAddress, ReceiptXml, receipt_xml
from bot.core.i18n import N_, Translator
from bot.core.money import format_number, thai_baht_words
from bot.render.pdftext import FONT, both, new_document

INSTITUTE_NAME = N_("Thai Industrial Standards Institute (TISI)")
INSTITUTE_ADDRESS = N_("75/42 Rama VI Road, Ratchathewi, Bangkok 10400")
PAGE_W, MARGIN = 210.0, 16.0
BLUE = (27, 79, 156)


@dataclass(frozen=True)
class ReceiptData:
    number: str
    issued_at: datetime
    paid_at: datetime
    seller_tax_id: str
    payer_name: str
    payer_tax_id: str
    payer_branch: str | None  # None: head office
    invoice_no: str
    ref2: str
    license_no: str | None
    fee_code: str
    fee_name: str  # a catalog msgid
    description: str
    amount: Decimal
    channel: str  # a catalog msgid of the channel's name
    channel_code: str
    bank_ref: str
    voided_at: datetime | None = None
    void_reason: str | None = None
    sample: bool = False  # signed with a test certificate: SAMPLE across the face
    seller_address: IssuerAddress = TISI_ADDRESS  # for the XML (the page prints the catalog's)
    payer_address: str | None = None
    payer_postcode: str | None = None

    def void(self, at: datetime, reason: str) -> "ReceiptData":
        return replace(self, voided_at=at, void_reason=reason)

    def xml(self) -> bytes:
        th = Translator("th")
        return receipt_xml(ReceiptXml(
            number=self.number, issued_at=self.issued_at, paid_at=self.paid_at,
            seller_name=th(INSTITUTE_NAME), seller_tax_id=self.seller_tax_id, seller_branch="00000",
            seller_address=self.seller_address, buyer_name=self.payer_name, buyer_tax_id=self.payer_tax_id,
            buyer_branch=self.payer_branch, invoice_no=self.invoice_no, license_no=self.license_no,
            fee_code=self.fee_code, fee_name=th(self.fee_name), amount=self.amount, channel=self.channel_code,
            bank_ref=self.bank_ref, void_reason=self.void_reason, buyer_address=self.payer_address,
            buyer_postcode=self.payer_postcode))


def render_receipt(data: ReceiptData) -> bytes:
    th, en = Translator("th"), Translator("en")
    doc = new_document(compliance="PDF/A-3U")
    doc.set_margins(MARGIN, MARGIN, MARGIN)
    title = th(N_("Receipt")) + " " + data.number
    doc.set_title(title + (" (" + th(N_("Void")) + ")" if data.voided_at else ""))
    doc.set_author(th(INSTITUTE_NAME))
    doc.set_subject(th(N_("Receipt")) + " · " + data.invoice_no)
    doc.set_creator("TISI Pay")
    doc.set_lang("th-TH")
    doc.set_creation_date(data.voided_at or data.issued_at)
    doc.embed_file(bytes=data.xml(), basename=FILE_NAME, mime_type="text/xml",
                   desc="ETDA e-Receipt (ER3-2560, T01)", associated_file_relationship="Alternative",
                   modification_date=data.voided_at or data.issued_at)
    doc.add_page()
    _header(doc, data, th, en)
    y = _parties(doc, data, th, en, 62)
    y = _lines(doc, data, th, en, y + 6)
    y = _payment(doc, data, th, en, y + 6)
    _closing(doc, data, th, en, y + 8)
    if data.voided_at:
        _void_mark(doc, data, th, en)
    if data.sample:
        _sample_mark(doc, th, en)
    return bytes(doc.output())


def _label_value(doc: FPDF, x: float, y: float, label: str, value: str, *, w_label: float = 66,
                 w_value: float = 120, bold: bool = True) -> None:
    doc.set_xy(x, y)
    doc.set_font(FONT, "", 10)
    doc.set_text_color(80)
    doc.cell(w_label, 6, label)
    doc.set_font(FONT, "B" if bold else "", 11)
    doc.set_text_color(0)
    doc.cell(w_value, 6, value)


def _header(doc: FPDF, d: ReceiptData, th: Translator, en: Translator) -> None:
    right = PAGE_W - MARGIN
    doc.set_fill_color(*BLUE)
    doc.rect(0, 0, PAGE_W, 34, style="F")
    doc.set_text_color(255)
    doc.set_xy(MARGIN, 7)
    doc.set_font(FONT, "B", 15)
    doc.cell(120, 7, th(INSTITUTE_NAME))
    doc.set_xy(MARGIN, 14)
    doc.set_font(FONT, "", 10)
    doc.cell(120, 5, th(N_("Ministry of Industry")) + " · " + en(INSTITUTE_NAME))
    doc.set_xy(MARGIN, 19.5)
    doc.cell(120, 5, th(INSTITUTE_ADDRESS))
    doc.set_xy(MARGIN, 25)
    doc.cell(120, 5, f"{both(th, en, N_('Tax ID'))} {d.seller_tax_id} · {th(N_('Head office'))}")
    doc.set_xy(right - 70, 7)
    doc.set_font(FONT, "B", 20)
    doc.cell(70, 9, th(N_("Receipt")), align="R")
    doc.set_xy(right - 70, 16)
    doc.set_font(FONT, "", 11)
    doc.cell(70, 5, en(N_("Receipt")), align="R")
    doc.set_text_color(0)
    _label_value(doc, right - 96, 38, both(th, en, N_("Receipt no.")), d.number, w_label=40, w_value=56)
    # the day the money was received (Bangkok), whose fiscal year the number carries
    _label_value(doc, right - 96, 44, both(th, en, N_("Date")), format_long_date(to_bangkok(d.paid_at).date(), "th"),
                 w_label=40, w_value=56)


def _parties(doc: FPDF, d: ReceiptData, th: Translator, en: Translator, y: float) -> float:
    x = MARGIN
    doc.set_draw_color(*BLUE)
    doc.set_xy(x, y)
    doc.set_font(FONT, "B", 11)
    doc.set_text_color(*BLUE)
    doc.cell(0, 6, both(th, en, N_("Received from")))
    y += 7
    branch = th(N_("Head office")) if d.payer_branch is None else th(N_("Branch %(branch)s"), branch=d.payer_branch)
    for label, value in ((N_("Name"), d.payer_name), (N_("Tax ID"), d.payer_tax_id), (N_("Branch"), branch)):
        _label_value(doc, x, y, both(th, en, label), value[:80])
        y += 6
    return y


def _lines(doc: FPDF, d: ReceiptData, th: Translator, en: Translator, y: float) -> float:
    x, right = MARGIN, PAGE_W - MARGIN
    widths = (12, 98, 38, right - x - 148)
    heads = (N_("No."), N_("Description"), N_("Invoice no."), N_("Amount (baht)"))
    doc.set_fill_color(*BLUE)
    doc.set_text_color(255)
    doc.set_font(FONT, "B", 9.5)
    doc.set_xy(x, y)
    for w in widths:
        doc.cell(w, 12, "", fill=True)
    for i, (w, head, align) in enumerate(zip(widths, heads, ("C", "L", "L", "R"))):
        left = x + sum(widths[:i])
        doc.set_xy(left + 1, y + 1)
        doc.cell(w - 2, 5, th(head), align=align)
        doc.set_xy(left + 1, y + 6)
        doc.set_font(FONT, "", 8.5)
        doc.cell(w - 2, 5, en(head), align=align)
        doc.set_font(FONT, "B", 9.5)
    y += 12
    doc.set_text_color(0)
    fee = th(d.fee_name) + (" · " + th(N_("License no.")) + " " + d.license_no if d.license_no else "")
    cells = ("1", fee, d.invoice_no, format_number(d.amount, "th"))
    doc.set_font(FONT, "", 10.5)
    doc.set_xy(x, y)
    for w, text, align in zip(widths, cells, ("C", "L", "L", "R")):
        doc.cell(w, 8, text[:70], border="B", align=align)
    y += 8
    if d.description:
        doc.set_xy(x + widths[0], y)
        doc.set_font(FONT, "", 9)
        doc.set_text_color(80)
        doc.multi_cell(widths[1], 4.5, d.description[:300])
        y = max(y + 5, doc.get_y())
    doc.set_text_color(0)
    y += 2
    doc.set_fill_color(240, 244, 250)
    doc.rect(x, y, right - x, 17, style="F")
    doc.set_xy(x + 2, y + 1.5)
    doc.set_font(FONT, "B", 11)
    doc.cell(110, 6, both(th, en, N_("Total")))
    doc.set_font(FONT, "B", 14)
    doc.set_xy(x + 110, y + 1.5)
    doc.cell(right - x - 112, 6, th(N_("%(amount)s baht"), amount=format_number(d.amount, "th")), align="R")
    doc.set_xy(x + 2, y + 9)
    doc.set_font(FONT, "B", 11)
    doc.cell(right - x - 4, 6, f"({thai_baht_words(d.amount)})", align="R")
    return y + 17


def _payment(doc: FPDF, d: ReceiptData, th: Translator, en: Translator, y: float) -> float:
    x = MARGIN
    doc.set_xy(x, y)
    doc.set_font(FONT, "B", 11)
    doc.set_text_color(*BLUE)
    doc.cell(0, 6, both(th, en, N_("Payment")))
    y += 7
    rows = ((N_("Paid on"), format_datetime_local(d.paid_at, "th")),
            (N_("Channel"), th(d.channel) + " (Krungthai)"),
            (N_("Bank reference"), d.bank_ref),
            (N_("Invoice no. (Ref.1)"), d.invoice_no),
            (N_("Ref.2"), d.ref2))
    for label, value in rows:
        _label_value(doc, x, y, both(th, en, label), value[:80])
        y += 6
    return y


def _closing(doc: FPDF, d: ReceiptData, th: Translator, en: Translator, y: float) -> None:
    x, right = MARGIN, PAGE_W - MARGIN
    doc.set_xy(x, y)
    doc.set_font(FONT, "B", 13)
    doc.set_text_color(0)
    doc.cell(right - x, 7, th(N_("Payment received in full.")), align="C")
    doc.set_xy(x, y + 7)
    doc.set_font(FONT, "", 10)
    doc.cell(right - x, 5, en(N_("Payment received in full.")), align="C")
    doc.set_xy(x, y + 18)
    doc.set_font(FONT, "", 9)
    doc.set_text_color(80)
    doc.multi_cell(right - x, 4.6, th(N_(
        "This receipt is an electronic document signed digitally by the Thai Industrial Standards Institute; "
        "it needs no handwritten signature. Any change to the file breaks the signature. The receipt's data is "
        "attached to this file as ETDA e-Receipt XML.")) + "\n" + en(N_(
        "This receipt is an electronic document signed digitally by the Thai Industrial Standards Institute; "
        "it needs no handwritten signature. Any change to the file breaks the signature. The receipt's data is "
        "attached to this file as ETDA e-Receipt XML.")))


def _void_mark(doc: FPDF, d: ReceiptData, th: Translator, en: Translator) -> None:
    """ยกเลิก across the page, and why and when under the heading."""
    doc.set_text_color(200, 30, 30)
    with doc.local_context(fill_opacity=0.35, stroke_opacity=0.35):
        with doc.rotation(angle=35, x=PAGE_W / 2, y=160):
            doc.set_font(FONT, "B", 96)
            doc.set_xy(0, 140)
            doc.cell(PAGE_W, 40, th(N_("Void")), align="C")
            doc.set_font(FONT, "B", 40)
            doc.set_xy(0, 178)
            doc.cell(PAGE_W, 16, en(N_("Void")).upper(), align="C")
    doc.set_xy(MARGIN, 51)
    doc.set_font(FONT, "B", 10.5)
    # wrapped inside the page; the parties start at 62 mm, so two lines at most
    doc.multi_cell(PAGE_W - 2 * MARGIN, 5, th(N_("Void since %(when)s: %(reason)s"),
                                             when=format_datetime_local(d.voided_at or d.issued_at, "th"),
                                             reason=d.void_reason or ""),
                   max_line_height=5, new_x="LMARGIN", new_y="NEXT")
    doc.set_text_color(0)


def _sample_mark(doc: FPDF, th: Translator, en: Translator) -> None:
    """Signed with a test certificate: a sample, said across the face and along the foot."""
    doc.set_text_color(120, 120, 120)
    with doc.local_context(fill_opacity=0.22, stroke_opacity=0.22):
        with doc.rotation(angle=-35, x=PAGE_W / 2, y=150):
            doc.set_font(FONT, "B", 44)
            doc.set_xy(0, 128)
            doc.cell(PAGE_W, 20, th(N_("SAMPLE — not a receipt")), align="C")
            doc.set_font(FONT, "B", 30)
            doc.set_xy(0, 150)
            doc.cell(PAGE_W, 14, en(N_("SAMPLE — not a receipt")), align="C")
    doc.set_xy(MARGIN, 285)
    doc.set_font(FONT, "B", 9)
    doc.set_text_color(200, 30, 30)
    doc.cell(PAGE_W - 2 * MARGIN, 5, both(th, en, N_("SAMPLE — not a receipt")) + " · "
             + both(th, en, N_("signed with a test certificate")), align="C")
    doc.set_text_color(0)
