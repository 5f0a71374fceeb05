"""The core (Thai text, QR payloads, money, dates, tokens, CSV rows) imports no Flask, LINE SDK
or database: it can be reused and tested on its own."""
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
