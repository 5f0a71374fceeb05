"""The Thai voice of docs/thai-style.md, where a machine can check it: every Thai catalog entry
addresses the user as ท่าน, ends no sentence with a gendered particle, never speaks as ผม or
ดิฉัน, spells แชท one way and asks with กรุณา."""
from __future__ import annotations

import re

from babel.messages.pofile import read_po

from bot.core.i18n import LOCALE_DIR


def _thai() -> dict[str, str]:
    with open(LOCALE_DIR / "th" / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    out = {}
    for m in catalog:
        if m.id:
            key = m.id if isinstance(m.id, str) else m.id[0]
            out[key] = m.string if isinstance(m.string, str) else " ".join(m.string)
    return out


RULES = {
    "addresses the user as คุณ (ท่าน)": re.compile(r"(?<!ขอบ)คุณ(?!ภาพ|สมบัติ)"),
    "ends with a particle (ครับ, ค่ะ, คะ)": re.compile(r"(ครับ|ค่ะ|คะ)(?=$|[\s/.!:)])"),
    "speaks as a person (ผม, ดิฉัน)": re.compile(r"(?<![ก-ฮ])(ผม|ดิฉัน)(?=คือ|จะ|ขอ|ได้|ไม่)"),
    "spells แชต (แชท)": re.compile(r"แชต"),
    "asks with โปรด (กรุณา)": re.compile(r"โปรด(?!ักส์)"),
}


def test_every_thai_entry_follows_the_style_guide():
    broken = [(rule, msgid[:60], text[:80]) for msgid, text in _thai().items() for rule, pattern in RULES.items()
              if pattern.search(text)]
    assert broken == []


def test_each_rule_catches_what_it_is_for():
    samples = {
        "addresses the user as คุณ (ท่าน)": ("ใบอนุญาตของคุณ", "ขอบคุณที่ใช้บริการ"),
        "ends with a particle (ครับ, ค่ะ, คะ)": ("ส่งใหม่อีกครั้งครับ", "ข้อความ \"ขอใบเสร็จ\""),
        "speaks as a person (ผม, ดิฉัน)": ("ผมคือ TISI Pay", "ใบอนุญาตของผมมีอะไรบ้าง"),
        "spells แชต (แชท)": ("ในแชตนี้", "ในแชทนี้"),
        "asks with โปรด (กรุณา)": ("โปรดตรวจสอบ", "กรุณาตรวจสอบ"),
    }
    for rule, (bad, good) in samples.items():
        assert RULES[rule].search(bad) and not RULES[rule].search(good), rule
