"""Flex Message templates: JSON files in templates/flex with {{placeholders}}.

Values are put into the parsed structure, never pasted into JSON text, so a payer name with
quotes or braces cannot break or inject anything. A string that is exactly "{{name}}" takes
the value whole (a list of rows, a footer box); a value of None removes that element.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_DROP = object()


@lru_cache(maxsize=None)
def _load(name: str) -> Any:
    return json.loads((TEMPLATE_DIR / "flex" / f"{name}.json").read_text(encoding="utf-8"))


def render(name: str, **values: Any) -> Any:
    return _fill(_load(name), values)  # _fill builds new containers: the cached template is never changed


def _fill(node: Any, values: dict) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, child in node.items():
            filled = _fill(child, values)
            if filled is not _DROP:
                out[key] = filled
        # A text component whose text was removed is removed with it.
        if out.get("type") == "text" and "text" not in out:
            return _DROP
        return out
    if isinstance(node, list):
        return [f for f in (_fill(c, values) for c in node) if f is not _DROP]
    if isinstance(node, str):
        whole = _PLACEHOLDER.fullmatch(node)
        if whole:
            value = values[whole.group(1)]
            return _DROP if value is None else value
        return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), node)
    return node
