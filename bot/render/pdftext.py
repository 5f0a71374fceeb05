"""What every document we print shares: Sarabun, Thai shaped with HarfBuzz, text that copies out
as written, and headings in Thai with the English beside them."""
from __future__ import annotations

import logging

from fpdf import FPDF
from fpdf.fonts import TTFFont

from bot.core.i18n import Translator
from bot.core.resources import document_font
from bot.render.thaitext import ThaiFont, copyable_font

FONT = "Sarabun"
# fontTools logs every table it prunes when fpdf2 subsets a font: 66 INFO lines a PDF, 200,000 in a
# 10-minute soak. Its warnings still show.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def new_document(*, compliance: str | None = None) -> FPDF:
    doc = FPDF(orientation="P", unit="mm", format="A4", enforce_compliance=compliance)
    doc.set_auto_page_break(False)
    for style, weight in (("", "Regular"), ("B", "Bold")):
        original = document_font(weight)
        doc.add_font(FONT, style, str(copyable_font(original)))
        added = doc.fonts[FONT.lower() + style]
        assert isinstance(added, TTFFont)  # a file's font, not one of the PDF's core fonts
        ThaiFont.adopt(added, original)
    doc.set_text_shaping(use_shaping_engine=True, script="thai", language="tha")
    return doc


def both(th: Translator, en: Translator, msgid: str) -> str:
    """"ไทย / English" (the Thai alone when the catalogs agree)."""
    thai, english = th(msgid), en(msgid)
    return thai if thai == english else f"{thai} / {english}"


def fitting(doc: FPDF, th: Translator, en: Translator, msgid: str, width: float) -> str:
    """Thai and English when both fit the column, else the Thai alone."""
    text = both(th, en, msgid)
    return text if doc.get_string_width(text) <= width else th(msgid)
