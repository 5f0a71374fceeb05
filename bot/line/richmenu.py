"""The chat's rich menu: its image (drawn with the shipped Thai font), its six areas, and its
deployment through line-bot-sdk (create, upload the image, set as default, delete the old ones).

Every area sends what a user could type, so the menu needs no handler of its own: the parser
that reads typed messages reads the menu's too. The language button is a postback (one button
toggles th ⇄ en, which no single typed word could say).
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    PostbackAction,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
)
from PIL import Image, ImageDraw, ImageFont

from bot.core.i18n import N_, Translator
from bot.core.resources import FONT_DIR

WIDTH, HEIGHT = 2500, 1686  # LINE's large menu
COLUMNS, ROWS = 3, 2
MENU_NAME = "TISI Pay main menu"  # deploy replaces every menu of this name
MAX_IMAGE_BYTES = 1_000_000  # LINE refuses larger images
TOGGLE_LANGUAGE = "action=language&to=toggle"


@dataclass(frozen=True)
class Area:
    label: str  # msgid, drawn in Thai with the English beneath
    icon: str  # which picture _draw_icon makes
    text: str | None  # the message the area sends (as if typed), or None for the postback
    postback: str | None = None


AREAS = (
    Area(N_("Pay a fee"), "qr", "ชำระค่าธรรมเนียม"),
    Area(N_("Check status"), "search", "ตรวจสอบสถานะ"),
    Area(N_("My licenses"), "license", "ใบอนุญาตของฉัน"),
    Area(N_("Payment history"), "history", "ประวัติการชำระ"),
    Area(N_("Help"), "help", "วิธีใช้"),
    Area(N_("English/ภาษาไทย"), "language", None, TOGGLE_LANGUAGE),
)
COLORS = ("#1B4F9C", "#2363B8", "#1B4F9C", "#2363B8", "#1B4F9C", "#2363B8")


def bounds(index: int) -> tuple[int, int, int, int]:
    """x, y, width, height of an area: 3 x 2 cells covering the whole image, no pixel left out."""
    col, row = index % COLUMNS, index // COLUMNS
    x0, x1 = WIDTH * col // COLUMNS, WIDTH * (col + 1) // COLUMNS
    y0, y1 = HEIGHT * row // ROWS, HEIGHT * (row + 1) // ROWS
    return x0, y0, x1 - x0, y1 - y0


def menu_request() -> RichMenuRequest:
    th = Translator("th")
    areas = []
    for i, area in enumerate(AREAS):
        x, y, w, h = bounds(i)
        if area.postback:
            action = PostbackAction(label=th(area.label)[:20], data=area.postback, displayText=th(area.label))
        else:
            action = MessageAction(label=th(area.label)[:20], text=area.text)
        areas.append(RichMenuArea(bounds=RichMenuBounds(x=x, y=y, width=w, height=h), action=action))
    return RichMenuRequest(size=RichMenuSize(width=WIDTH, height=HEIGHT), selected=True, name=MENU_NAME,
                           chatBarText="เมนู / Menu", areas=areas)


def build_image() -> bytes:
    """The menu as a PNG: Thai label, English beneath, an icon; shaped by Pillow's raqm layout."""
    th, en = Translator("th"), Translator("en")
    image = Image.new("RGB", (WIDTH, HEIGHT), "#FFFFFF")
    draw = ImageDraw.Draw(image)
    big = _font("Laksaman-Bold.ttf", 110)
    small = _font("Laksaman.ttf", 72)
    for i, area in enumerate(AREAS):
        x, y, w, h = bounds(i)
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=COLORS[i])
        draw.rectangle((x, y, x + w - 1, y + h - 1), outline="#FFFFFF", width=6)
        cx = x + w // 2
        _draw_icon(draw, area.icon, cx, y + int(h * 0.33), min(w, h) // 5)
        thai = th(area.label)
        english = en(area.label)
        draw.text((cx, y + int(h * 0.66)), thai, font=_fit(draw, thai, big, w * 0.88), fill="#FFFFFF", anchor="mm")
        if english != thai:
            draw.text((cx, y + int(h * 0.82)), english, font=_fit(draw, english, small, w * 0.88), fill="#D6E4F7",
                      anchor="mm")
    out = io.BytesIO()
    image.convert("P", palette=Image.Palette.ADAPTIVE, colors=64).save(out, format="PNG", optimize=True)
    data = out.getvalue()
    if len(data) > MAX_IMAGE_BYTES:  # pragma: no cover - guarded by a test
        raise RuntimeError(f"rich menu image is {len(data)} bytes; LINE takes at most {MAX_IMAGE_BYTES}")
    return data


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: float) -> ImageFont.FreeTypeFont:
    """The font, made smaller until the text fits the cell."""
    while draw.textlength(text, font=font) > width and font.size > 40:
        font = font.font_variant(size=font.size - 6)
    return font


def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), size, layout_engine=ImageFont.Layout.RAQM)


def _draw_icon(draw: ImageDraw.ImageDraw, icon: str, cx: int, cy: int, r: int) -> None:
    """Simple white pictures, drawn rather than taken from an emoji font the package cannot ship."""
    white, line = "#FFFFFF", max(8, r // 8)
    if icon == "qr":
        step = r * 2 // 5
        for dx, dy in ((-1, -1), (1, -1), (-1, 1)):
            bx, by = cx + dx * step * 1.2, cy + dy * step * 1.2
            draw.rectangle((bx - step, by - step, bx + step, by + step), outline=white, width=line)
            draw.rectangle((bx - step // 3, by - step // 3, bx + step // 3, by + step // 3), fill=white)
        draw.rectangle((cx + step // 2, cy + step // 2, cx + step * 2, cy + step * 2), fill=white)
    elif icon == "search":
        draw.ellipse((cx - r, cy - r, cx + r // 2, cy + r // 2), outline=white, width=line)
        draw.line((cx + r // 3, cy + r // 3, cx + r, cy + r), fill=white, width=line * 2)
    elif icon == "license":
        draw.rectangle((cx - r * 3 // 4, cy - r, cx + r * 3 // 4, cy + r), outline=white, width=line)
        for k in range(3):
            yy = cy - r // 2 + k * r // 2
            draw.line((cx - r // 2, yy, cx + r // 2, yy), fill=white, width=line)
    elif icon == "history":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=white, width=line)
        draw.line((cx, cy, cx, cy - r * 2 // 3), fill=white, width=line)
        draw.line((cx, cy, cx + r // 2, cy), fill=white, width=line)
    elif icon == "help":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=white, width=line)
        draw.text((cx, cy), "?", font=_font("Laksaman-Bold.ttf", r * 3 // 2), fill=white, anchor="mm")
    elif icon == "language":
        draw.text((cx, cy), "ก / A", font=_font("Laksaman-Bold.ttf", r), fill=white, anchor="mm")


@dataclass
class Deployed:
    rich_menu_id: str
    deleted: list[str]
    image_bytes: int


def deploy(api_url: str, data_api_url: str, access_token: str) -> Deployed:
    """Create the menu, upload its image, make it the default, then delete the menus it replaces
    (ours, by name): if any step fails before the switch, the old menu stays in place. The image
    goes to LINE's content host (`data_api_url`): the API host refuses it."""
    with ApiClient(Configuration(host=api_url, access_token=access_token)) as client, \
            ApiClient(Configuration(host=data_api_url, access_token=access_token)) as data_client:
        api, blob = MessagingApi(client), MessagingApiBlob(data_client)
        image = build_image()
        new_id = api.create_rich_menu(menu_request()).rich_menu_id
        try:
            blob.set_rich_menu_image(new_id, body=image, _headers={"Content-Type": "image/png"})
            api.set_default_rich_menu(new_id)
        except Exception:
            api.delete_rich_menu(new_id)  # no half-made menu left behind
            raise
        old = [m.rich_menu_id for m in api.get_rich_menu_list().richmenus
               if m.name == MENU_NAME and m.rich_menu_id != new_id]
        for rich_menu_id in old:
            api.delete_rich_menu(rich_menu_id)
        return Deployed(new_id, old, len(image))
