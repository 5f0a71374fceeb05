"""Every sentence comes from the catalogs: th is complete, and the compiled .mo match the .po."""
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bot.core.i18n import LOCALE_DIR, Translator

ROOT = Path(__file__).resolve().parents[1]


def _po(lang):
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def test_thai_catalog_is_complete_and_compiled():
    for lang in ("th", "en"):
        po = _po(lang)
        with open(LOCALE_DIR / lang / "LC_MESSAGES" / "messages.mo", "rb") as f:
            mo = read_mo(f)
        def plain(value):  # a plural message's forms: a tuple in the .po, a list in the .mo
            return tuple(value) if isinstance(value, (list, tuple)) else value

        po_map = {plain(m.id): plain(m.string) for m in po if m.id}
        mo_map = {plain(m.id): plain(m.string) for m in mo if m.id}
        assert po_map == mo_map, f"{lang}: messages.mo is stale; run pybabel compile -d locale"
        assert all(po_map.values()), f"{lang}: untranslated messages"


def test_every_message_in_the_code_is_in_the_catalog(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "t", "-k", "N_", "-k", "plural:1,2",
                    "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with open(pot, "rb") as f:
        extracted = {m.id for m in read_po(f) if m.id}
    th = {m.id for m in _po("th") if m.id}
    assert extracted - th == set(), "new messages need a Thai translation"


def test_placeholders_survive_translation():
    for m in _po("th"):
        if m.id:
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            wanted = sorted(re.findall(r"%\(\w+\)s", ids[-1]))  # the plural form names them all
            for string in strings:
                assert sorted(re.findall(r"%\(\w+\)s", string)) == wanted, m.id


def test_thai_is_default():
    assert Translator(None)("Unpaid") == "รอชำระ"
    assert Translator("xx")("Unpaid") == "รอชำระ"
    assert Translator("en")("Unpaid") == "Unpaid"
