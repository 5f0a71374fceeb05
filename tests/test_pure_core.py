"""The core (Thai text, QR payloads, money, dates, tokens, CSV rows) imports no Flask, LINE SDK
or database: it can be reused and tested on its own."""
import json
import subprocess
import sys


def test_core_imports_no_flask_sdk_or_database():
    code = (
        "import sys, pkgutil, importlib, bot.core as c\n"
        "for m in pkgutil.iter_modules(c.__path__): importlib.import_module('bot.core.' + m.name)\n"
        "bad = sorted({n.split('.')[0] for n in sys.modules} & {'flask', 'werkzeug', 'linebot', 'sqlalchemy', 'psycopg', 'alembic'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_flex_templates_fill_placeholders_and_drop_what_is_none():
    from bot.render.templates import _load, render

    before = json.dumps(_load("receipt"), sort_keys=True)
    rows = [render("row", label="ก", value='{"x"} {{y}}')]
    bubble = render("receipt", header_color="#123456", title="T", fee_name=None, amount="1 บาท", rows=rows, note="n",
                    footer=None)
    assert "footer" not in bubble  # a whole-value placeholder of None drops its key
    header = bubble["header"]["contents"]
    assert [c["text"] for c in header] == ["T"]  # the fee name's text component is gone with its text
    assert bubble["header"]["backgroundColor"] == "#123456"
    assert bubble["body"]["contents"][1]["contents"] == rows  # a whole-value placeholder takes the list
    assert rows[0]["contents"][1]["text"] == '{"x"} {{y}}'  # values are never re-read as templates
    assert json.dumps(_load("receipt"), sort_keys=True) == before  # the cached template is untouched
    again = render("receipt", header_color="#000000", title="U", fee_name="F", amount="2", rows=[], note="m",
                   footer={"type": "box"})
    assert again["header"]["contents"][1]["text"] == "F" and bubble["header"]["backgroundColor"] == "#123456"
    assert again["footer"] == {"type": "box"}


def test_production_code_never_imports_the_dev_folder():
    code = ("import sys, bot.factory, bot.cli, bot.runtime.worker, bot.ledger.reminders, bot.ledger.audit, bot.line.richmenu, bot.render.slip\n"
            "loaded = sorted(m for m in sys.modules if m.startswith('bot.dev'))\n"
            "assert not loaded, loaded\n")
    subprocess.run([sys.executable, "-c", code], check=True)
