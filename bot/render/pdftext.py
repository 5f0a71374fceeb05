"""What every document we print shares: Sarabun, Thai shaped with HarfBuzz, text that copies out
as written, and headings in Thai with the English beside them."""
from __future__ import annotations

import logging

from fpdf import FPDF

from bot.core.i18n import Translator
from bot.core.resources import document_font

FONT = "Sarabun"
# fontTools logs every table it prunes when fpdf2 subsets a font: 66 INFO lines a PDF, 200,000 in a
# 10-minute soak. Its warnings still show.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def new_document(*, compliance: str | None = None) -> FPDF:
    doc = FPDF(orientation="P", unit="mm", format="A4", enforce_compliance=compliance)
    doc.set_auto_page_break(False)
    doc.add_font(FONT, "", str(document_font("Regular")))
    doc.add_font(FONT, "B", str(document_font("Bold")))
    doc.set_text_shaping(use_shaping_engine=True, script="thai", language="tha")
    return doc


class _NoText(int):
    """A Unicode value that fpdf2 writes as an empty ToUnicode destination (`<code> <>`)."""

    def __format__(self, spec: str) -> str:
        return ""


def map_glyph_halves(doc: FPDF) -> None:
    """HarfBuzz's Thai shaper draws SARA AM (ำ) as two glyphs, nikhahit and sara aa; fpdf2 gives
    the cluster's text ("ำ") to the first and leaves the second out of the ToUnicode map, so a
    reader falls back to its character code and copied text read "ชำ:ระ". Mapped to no text,
    the second half copies as nothing and "ชำระ" copies as written (pypdf and pdfminer; a reader
    that ignores an empty mapping still shows its code). Call it last, before output."""
    for font in doc.fonts.values():
        subset = getattr(font, "subset", None)
        for glyph, _code in subset.items() if subset is not None else ():
            if glyph is not None and glyph.unicode == ():
                glyph.unicode = (_NoText(0),)


def both(th: Translator, en: Translator, msgid: str) -> str:
    """"ไทย / English" (the Thai alone when the catalogs agree)."""
    thai, english = th(msgid), en(msgid)
    return thai if thai == english else f"{thai} / {english}"


def fitting(doc: FPDF, th: Translator, en: Translator, msgid: str, width: float) -> str:
    """Thai and English when both fit the column, else the Thai alone."""
    text = both(th, en, msgid)
    return text if doc.get_string_width(text) <= width else th(msgid)
