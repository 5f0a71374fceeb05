"""The day's close (ปิดยอดประจำวัน) as finance prints and files it: an A4 PDF in Thai with the English
beside the headings, set in Sarabun so that it copies out as written, signed like the receipts
(`bot.render.pades`). Also the words for each figure of a close, shared with the console's page."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from bot.core.dates import format_datetime_local, format_long_date
from bot.core.i18n import N_, Translator
from bot.core.money import format_number
from bot.render.messages import CHANNEL_NAMES, FEE_NAMES, OUTCOME_NAMES
from bot.render.pdftext import FONT, both, new_document
from bot.render.receipt import BLUE, INSTITUTE_NAME, MARGIN, PAGE_W

if TYPE_CHECKING:
    from bot.ledger.dayclose import Change, DayClose, MoneyLine

TITLE = N_("Day's close")
SIGNATURE_REASON = "ปิดยอดประจำวัน / Day's close"
FIGURE_NAMES = {
    "payments": N_("Payments received"), "reversals": N_("Reversals"), "doubles": N_("Double payments to refund"),
    "differences": N_("Differences with the bank's statement"),
}


def figure_name(key: str, t: Translator) -> str:
    """A figure of the close by its key (fee:<code>, channel:<code>, receipts:<prefix-year>, …)."""
    kind, _, code = key.partition(":")
    if kind == "fee":
        return t("Fee: %(name)s", name=t(FEE_NAMES[code]) if code in FEE_NAMES else code)
    if kind == "channel":
        return t("Channel: %(name)s", name=t(CHANNEL_NAMES[code]) if code in CHANNEL_NAMES else code)
    if kind == "receipts":
        return t("Receipts %(numbering)s", numbering=code)
    return t(FIGURE_NAMES[kind]) if kind in FIGURE_NAMES else key


def figure_value(key: str, value: Any, t: Translator) -> str:
    """A figure's value as stored with a close, for reading: counts and baht, numbers, lists."""
    if value is None:
        return t("not imported") if key == "differences" else "–"
    kind = key.partition(":")[0]
    if kind in ("payments", "fee", "channel"):
        count, total = value
        return t("count %(count)s, %(amount)s baht", count=count, amount=format_number(Decimal(total), t.lang))
    if kind == "receipts":
        first, last, count, gaps = value
        text = t("%(first)s to %(last)s (%(count)s)", first=first, last=last, count=count)
        return text + (" · " + t("missing: %(numbers)s", numbers=", ".join(gaps)) if gaps else "")
    if isinstance(value, list):
        return ", ".join(value) if value else t("none")
    return str(value)


def changes_text(changes: Iterable[Change], t: Translator) -> list[str]:
    return [t("%(figure)s: %(before)s → %(after)s", figure=figure_name(c.key, t),
              before=figure_value(c.key, c.before, t), after=figure_value(c.key, c.after, t)) for c in changes]


def render_day_close(close: DayClose, printed_at: datetime, *, sample: bool = False) -> bytes:
    """The close of one day, as it stands at `printed_at` (said on it, with the last close)."""
    th, en = Translator("th"), Translator("en")
    doc = new_document()
    doc.set_margins(MARGIN, MARGIN, MARGIN)
    doc.set_auto_page_break(True, margin=18)
    day = format_long_date(close.day, "th")
    doc.set_title(f"{th(TITLE)} {day}")
    doc.set_author(th(INSTITUTE_NAME))
    doc.set_creator("TISI Pay")
    doc.set_lang("th-TH")
    doc.set_creation_date(printed_at)
    doc.add_page()
    _header(doc, close, printed_at, th, en)
    _takings(doc, close, th, en)
    _receipts(doc, close, th, en)
    _money_lines(doc, th, en, N_("Reversals and voided receipts"), close.reversals, voided=True)
    _money_lines(doc, th, en, N_("Double payments to refund"), close.doubles, voided=False)
    _differences(doc, close, th, en)
    _closing(doc, close, th, en)
    if sample:
        doc.ln(4)
        _paragraph(doc, both(th, en, N_("SAMPLE — signed with a test certificate")), color=(200, 30, 30), bold=True)
    return bytes(doc.output())


def _header(doc: FPDF, close: DayClose, printed_at: datetime, th: Translator, en: Translator) -> None:
    doc.set_fill_color(*BLUE)
    doc.rect(0, 0, PAGE_W, 28, style="F")
    doc.set_text_color(255)
    doc.set_xy(MARGIN, 6)
    doc.set_font(FONT, "B", 14)
    doc.cell(110, 7, th(INSTITUTE_NAME))
    doc.set_xy(MARGIN, 13)
    doc.set_font(FONT, "", 10)
    doc.cell(110, 5, en(INSTITUTE_NAME))
    doc.set_xy(PAGE_W - MARGIN - 80, 6)
    doc.set_font(FONT, "B", 18)
    doc.cell(80, 9, th(TITLE), align="R")
    doc.set_xy(PAGE_W - MARGIN - 80, 15)
    doc.set_font(FONT, "", 11)
    doc.cell(80, 5, en(TITLE), align="R")
    doc.set_text_color(0)
    doc.set_xy(MARGIN, 33)
    doc.set_font(FONT, "B", 13)
    doc.cell(0, 7, th(N_("Day: %(day)s (Bangkok time)"), day=format_long_date(close.day, "th")),
             new_x="LMARGIN", new_y="NEXT")
    doc.set_font(FONT, "", 9.5)
    doc.cell(0, 5, th(N_("Printed on %(when)s"), when=format_datetime_local(printed_at, "th")),
             new_x="LMARGIN", new_y="NEXT")


def _heading(doc: FPDF, th: Translator, en: Translator, msgid: str) -> None:
    doc.ln(4)
    doc.set_font(FONT, "B", 11.5)
    doc.set_text_color(*BLUE)
    doc.cell(0, 7, both(th, en, msgid), new_x="LMARGIN", new_y="NEXT")
    doc.set_text_color(0)


def _paragraph(doc: FPDF, text: str, *, color: tuple[int, int, int] = (0, 0, 0), bold: bool = False) -> None:
    doc.set_font(FONT, "B" if bold else "", 10)
    doc.set_text_color(*color)
    doc.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
    doc.set_text_color(0)


def _table(doc: FPDF, heads: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int],
           aligns: Sequence[str], *, total: Sequence[str] | None = None) -> None:
    doc.set_font(FONT, "", 9.5)
    head_style = FontFace(family=FONT, emphasis="BOLD", color=255, fill_color=BLUE)
    with doc.table(col_widths=widths, text_align=tuple(aligns), headings_style=head_style, line_height=6,
                   first_row_as_headings=True, borders_layout="HORIZONTAL_LINES") as table:
        table.row(heads)
        for cells in rows:
            table.row(cells)
        if total is not None:
            row = table.row(style=FontFace(family=FONT, emphasis="BOLD"))
            for cell in total:
                row.cell(cell)


def _takings(doc: FPDF, close: DayClose, th: Translator, en: Translator) -> None:
    takings = close.takings
    for title, first_head, lines, names in (
            (N_("Takings by fee"), N_("Fee"), takings.by_fee, FEE_NAMES),
            (N_("Takings by channel"), N_("Channel"), takings.by_channel, CHANNEL_NAMES)):
        _heading(doc, th, en, title)
        rows = [(th(names[code]) if code in names else code, str(count), format_number(total, "th"))
                for code, count, total in lines]
        if not rows:
            _paragraph(doc, both(th, en, N_("No payments on this day.")))
            continue
        _table(doc, (both(th, en, first_head), both(th, en, N_("Payments")), both(th, en, N_("Baht"))), rows,
               (100, 30, 48), ("LEFT", "RIGHT", "RIGHT"),
               total=(both(th, en, N_("Total")), str(takings.count), format_number(takings.total, "th")))


def _receipts(doc: FPDF, close: DayClose, th: Translator, en: Translator) -> None:
    _heading(doc, th, en, N_("Receipts issued"))
    if not close.receipts:
        _paragraph(doc, both(th, en, N_("No receipt was issued on this day.")))
        return
    rows = [(run.first, run.last, str(run.count), ", ".join(run.gaps) if run.gaps else th(N_("none")))
            for run in close.receipts]
    _table(doc, (both(th, en, N_("First number")), both(th, en, N_("Last number")), both(th, en, N_("Count")),
                 both(th, en, N_("Gaps"))), rows, (48, 48, 22, 60), ("LEFT", "LEFT", "RIGHT", "LEFT"))


def _money_lines(doc: FPDF, th: Translator, en: Translator, title: str, lines: Sequence[MoneyLine], *,
                 voided: bool) -> None:
    _heading(doc, th, en, title)
    if not lines:
        _paragraph(doc, th(N_("none")))
        return
    rows = [(line.invoice_no, line.bank_ref, format_datetime_local(line.paid_at, "th"), format_number(line.amount, "th"))
            + ((line.receipt_no or "–",) if voided else ()) for line in lines]
    heads = (both(th, en, N_("Invoice no.")), th(N_("Bank reference")), th(N_("Paid on")), th(N_("Baht")))
    total = sum((line.amount for line in lines), Decimal("0"))
    if voided:
        _table(doc, heads + (th(N_("Receipt voided")),), rows, (40, 34, 38, 28, 38),
               ("LEFT", "LEFT", "LEFT", "RIGHT", "LEFT"),
               total=(f"{th(N_('Total'))} ({len(lines)})", "", "", format_number(total, "th"), ""))
    else:
        _table(doc, heads, rows, (50, 40, 48, 40), ("LEFT", "LEFT", "LEFT", "RIGHT"),
               total=(f"{th(N_('Total'))} ({len(lines)})", "", "", format_number(total, "th")))


def _differences(doc: FPDF, close: DayClose, th: Translator, en: Translator) -> None:
    _heading(doc, th, en, N_("Differences with the bank's statement"))
    if close.statement_id is None:
        _paragraph(doc, th(N_("The bank's statement of this day has not been imported yet.")))
        return
    if not close.differences:
        _paragraph(doc, th(N_("The bank's statement agrees with every payment of the day.")))
        return
    rows = [(th(OUTCOME_NAMES[d.outcome]), d.ref1, d.line or "–",
             format_number(d.amount, "th") if d.amount is not None else "–") for d in close.differences]
    _table(doc, (th(N_("Outcome")), th(N_("Invoice no. (Ref.1)")), th(N_("Statement line")), th(N_("Baht"))), rows,
           (70, 48, 24, 36), ("LEFT", "LEFT", "RIGHT", "RIGHT"))


def _closing(doc: FPDF, close: DayClose, th: Translator, en: Translator) -> None:
    _heading(doc, th, en, N_("Close"))
    last = close.last_closing
    if last is None:
        _paragraph(doc, th(N_("This day has not been closed yet.")))
        return
    _paragraph(doc, th(N_("Closed on %(when)s by %(name)s."), when=format_datetime_local(last.at, "th"), name=last.by))
    changes = close.changes()
    if changes:
        _paragraph(doc, th(N_("Changed since its close:")), color=(200, 30, 30), bold=True)
        for line in changes_text(changes, th):
            _paragraph(doc, "• " + line)
    doc.ln(2)
    _paragraph(doc, th(N_("This document is signed digitally by the Thai Industrial Standards Institute; any change "
                          "to the file breaks the signature.")), color=(80, 80, 80))
