"""Add messages to the catalogs and compile them: `python tools/catalog_add.py FILE.json`, where
the file maps each English message id to its Thai text (English is the id itself). Existing ids
get the new Thai text; an id mapped to null is taken out (a message the code no longer says)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

LOCALE = Path(__file__).resolve().parents[1] / "locale"


def add(messages: dict[str, str | None]) -> None:
    for lang in ("th", "en"):
        path = LOCALE / lang / "LC_MESSAGES" / "messages.po"
        with open(path, "rb") as f:
            catalog = read_po(f, locale=lang)
        for msgid, thai in messages.items():
            if thai is None:
                if msgid in catalog:
                    del catalog[msgid]
                continue
            string = thai if lang == "th" else msgid
            if msgid in catalog:
                catalog[msgid].string = string
            else:
                catalog.add(msgid, string)
        with open(path, "wb") as f:
            write_po(f, catalog, width=100)
        with open(path.with_suffix(".mo"), "wb") as f:
            write_mo(f, catalog)


if __name__ == "__main__":
    add(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))
