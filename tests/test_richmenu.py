"""The rich menu: its image, `tisi-pay richmenu deploy` through line-bot-sdk to the fake LINE API
(create, upload, default, the old one deleted), and what each of its six areas answers."""
from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner
from PIL import Image

from bot.line.richmenu import (
    AREAS,
    HEIGHT,
    MENU_NAME,
    WIDTH,
    bounds,
    build_image,
    menu_request,
)
from tests.conftest import fresh, make_env, sample_event


def test_image_is_a_large_menu_png_under_a_megabyte():
    data = build_image()
    assert data.startswith(b"\x89PNG") and len(data) < 1_000_000
    image = Image.open(io.BytesIO(data))
    assert image.size == (2500, 1686)
    # each cell carries its label: white text on the blue, not an empty tile
    rgb = image.convert("RGB")
    for i in range(len(AREAS)):
        x, y, w, h = bounds(i)
        label_band = rgb.crop((x + 40, y + int(h * 0.58), x + w - 40, y + int(h * 0.74)))
        assert sum(label_band.convert("L").histogram()[231:]) > 2000, i


def test_areas_tile_the_image_exactly():
    cells = [bounds(i) for i in range(len(AREAS))]
    assert len(cells) == 6 and sum(w * h for _, _, w, h in cells) == WIDTH * HEIGHT
    request = menu_request()
    labels = [a.action.label for a in request.areas]
    assert labels == ["ชำระค่าธรรมเนียม", "ตรวจสอบสถานะ", "ใบอนุญาตของฉัน", "ประวัติการชำระ", "วิธีใช้", "English / ภาษาไทย"]
    assert all(len(label) <= 20 for label in labels)


def _deploy(env):
    from bot.cli import cli

    return CliRunner().invoke(cli, ["richmenu", "deploy"], env=env, catch_exceptions=False)


@pytest.fixture
def env(fake_line, tmp_path):
    return make_env(f"sqlite:///{tmp_path}/x.db", fake_line.url)


def test_deploy_creates_uploads_sets_default_and_replaces_without_orphans(env, fake_line):
    first = _deploy(env)
    assert first.exit_code == 0, first.output
    [menu_id] = fake_line.rich_menus
    assert fake_line.default_rich_menu == menu_id and menu_id in first.output
    menu = fake_line.rich_menus[menu_id]
    assert menu["name"] == MENU_NAME and Image.open(io.BytesIO(menu["image"])).size == (2500, 1686)
    second = _deploy(env)
    assert second.exit_code == 0 and f"deleted 1 older: {menu_id}" in second.output
    [new_id] = fake_line.rich_menus  # the first is gone
    assert new_id != menu_id and fake_line.default_rich_menu == new_id


def test_a_failed_deploy_leaves_the_old_menu_in_place(env, fake_line, monkeypatch):
    assert _deploy(env).exit_code == 0
    [old] = fake_line.rich_menus
    small = io.BytesIO()
    Image.new("RGB", (100, 100)).save(small, format="PNG")
    monkeypatch.setattr("bot.line.richmenu.build_image", lambda: small.getvalue())  # LINE refuses a wrong-size image
    result = _deploy(env)
    assert result.exit_code == 1 and "LINE answered 400" in result.output
    assert list(fake_line.rich_menus) == [old] and fake_line.default_rich_menu == old


def test_deploy_without_configuration_names_what_is_missing(tmp_path):
    from bot.cli import cli

    result = CliRunner().invoke(cli, ["richmenu", "deploy"], env={"LINE_CHANNEL_ACCESS_TOKEN": ""})
    assert result.exit_code == 2 and "LINE_CHANNEL_ACCESS_TOKEN" in result.output


def test_every_area_gets_its_answer(line, seed):
    from tests.conftest import invoice_row

    seed(invoice_row(1, license_no="ท5137-2/10"))
    answers = {}
    for area in menu_request().areas:
        action = area.action
        if action.type == "message":
            answers[action.label] = json.dumps(line.say(action.text), ensure_ascii=False)
        else:
            event = fresh(sample_event("postback"))
            event["postback"] = {"data": action.data}
            line.post([event])
            answers[action.label] = json.dumps(line.reply_to(event["replyToken"]), ensure_ascii=False)
    assert "16 หลัก" in answers["ชำระค่าธรรมเนียม"] and "16 หลัก" in answers["ตรวจสอบสถานะ"]
    assert "ท่านยังไม่ได้เปิดการแจ้งเตือนใบอนุญาตใด" in answers["ใบอนุญาตของฉัน"]
    assert "ยังไม่มีการชำระ" in answers["ประวัติการชำระ"]
    assert "ตัวอย่าง" in answers["วิธีใช้"]
    assert "Language set to English" in answers["English / ภาษาไทย"]
    event = fresh(sample_event("postback"))
    event["postback"] = {"data": menu_request().areas[-1].action.data}
    line.post([event])
    assert "ภาษาไทย" in json.dumps(line.reply_to(event["replyToken"]), ensure_ascii=False)  # and back
