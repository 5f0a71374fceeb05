"""Partly mask a payer's name for chat: enough to recognise, not enough to harvest."""
from __future__ import annotations

import unicodedata

# Words of a company's legal form carry no personal data and help recognition.
_KEEP = {
    "บริษัท", "จำกัด", "(มหาชน)", "มหาชน", "ห้างหุ้นส่วนจำกัด", "ห้างหุ้นส่วนสามัญ", "หจก.", "บจก.",
    "บมจ.", "นาย", "นาง", "นางสาว", "co.,", "co.", "ltd.", "ltd", "limited", "company", "inc.", "plc.",
    "part.,", "mr.", "mrs.", "ms.",
}


def _clusters(word: str) -> list[str]:
    """Split into characters with their combining marks (Thai vowels above/below, tones)."""
    out: list[str] = []
    for ch in word:
        if out and unicodedata.category(ch) in ("Mn", "Mc"):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def mask_name(name: str) -> str:
    words = []
    for word in name.split():
        if word.lower() in _KEEP:
            words.append(word)
            continue
        cl = _clusters(word)
        keep = max(1, (len(cl) + 2) // 3)
        words.append("".join(cl[:keep]) + "*" * (len(cl) - keep))
    return " ".join(words)
