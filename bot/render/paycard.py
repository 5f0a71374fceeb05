"""The saved QR (`/qr/<token>.png?download=1`): a payment card, as Thai banks' own "save QR"
images look — the Thai QR with, under it, who is paid, the amount, the invoice number and the due
date, so that a saved picture still says what it pays when it is opened in a bank app's gallery
scan weeks later. Drawn with Pillow (raqm shaping) in the documents' font; the same values give
the same bytes."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

import segno
from PIL import Image, ImageDraw, ImageFont

from bot.core.dates import format_long_date
from bot.core.i18n import N_, Translator
from bot.core.money import format_number
from bot.core.resources import document_font

WIDTH = 1080
QR_PX = 720  # scanned from a screen or a print at arm's length
BLUE, GREY, INK = "#1B4F9C", "#5F6B7A", "#101418"


@dataclass(frozen=True)
class PayCard:
    payload: str  # the Thai QR
    amount: Decimal
    invoice_no: str
    ref2: str
    due_date: date
    lang: str = "th"


def card_lines(card: PayCard) -> list[tuple[str, str]]:
    """(style, text) of every line under the QR, top to bottom: what the picture says."""
    t = Translator(card.lang)
    return [
        ("label", t("Pay to")),
        ("payee", t("Thai Industrial Standards Institute (TISI)")),
        ("amount", t("%(amount)s baht", amount=format_number(card.amount, card.lang))),
        ("detail", f'{t("Invoice no. (Ref.1)")} {card.invoice_no}'),
        ("detail", f'{t("Ref.2")} {card.ref2}'),
        ("detail", t("Pay by %(date)s", date=format_long_date(card.due_date, card.lang))),
        ("note", t("Scan with Krungthai NEXT or any Thai bank app")),
    ]


STYLES = {  # font weight, size, colour, space above
    "label": ("Regular", 34, GREY, 28),
    "payee": ("Bold", 40, INK, 6),
    "amount": ("Bold", 76, BLUE, 22),
    "detail": ("Regular", 36, INK, 10),
    "note": ("Regular", 30, GREY, 30),
}


@lru_cache(maxsize=512)
def payment_card_png(card: PayCard) -> bytes:
    t = Translator(card.lang)
    lines = card_lines(card)
    height = 150 + 60 + QR_PX + 30 + sum(STYLES[s][1] + STYLES[s][3] + 14 for s, _ in lines) + 60
    image = Image.new("RGB", (WIDTH, height), "#FFFFFF")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 150), fill=BLUE)
    draw.text((WIDTH // 2, 58), "Thai QR Payment", font=_font("Bold", 52), fill="#FFFFFF", anchor="mm")
    draw.text((WIDTH // 2, 112), t("Bill payment"), font=_font("Regular", 34), fill="#D6E4F7", anchor="mm")
    qr = _qr_image(card.payload)
    image.paste(qr, ((WIDTH - qr.width) // 2, 150 + 60 + (QR_PX - qr.height) // 2))
    y = 150 + 60 + QR_PX + 30
    for style, text in lines:
        weight, size, colour, above = STYLES[style]
        y += above
        font = _fit(draw, text, _font(weight, size), WIDTH - 120)
        draw.text((WIDTH // 2, y), text, font=font, fill=colour, anchor="mt")
        y += size + 14
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _qr_image(payload: str) -> Image.Image:
    buffer = io.BytesIO()
    code = segno.make(payload, error="m", micro=False)
    code.save(buffer, kind="png", scale=1, border=4)
    small = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    side = QR_PX // small.width * small.width  # whole pixels per module: every module the same size
    return small.resize((side, side), Image.Resampling.NEAREST)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: float) -> ImageFont.FreeTypeFont:
    while draw.textlength(text, font=font) > width and font.size > 20:
        font = font.font_variant(size=font.size - 2)
    return font


@lru_cache(maxsize=16)
def _font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(document_font(weight)), size, layout_engine=ImageFont.Layout.RAQM)


# Marked for the catalogs (used through `t` above).
_MESSAGES = (N_("Pay to"), N_("Pay by %(date)s"), N_("Scan with Krungthai NEXT or any Thai bank app"),
             N_("Bill payment"))
