"""The audit chain's arithmetic, written down so that another program can re-check it (README,
"Audit chain"): each link's hash is SHA-256 over the previous link's hash (64 hex digits; 64
zeros for the first link) followed by the link's canonical content, both as UTF-8.

Canonical content is JSON with sorted keys and no spaces (non-ASCII characters as themselves);
amounts are strings with two decimals; times are UTC ISO-8601 with six decimals of seconds and
a "Z" ("2026-11-26T07:30:00.000000Z"). Pure: no database here.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from decimal import Decimal

GENESIS = "0" * 64


def canonical_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # stored UTC; SQLite hands it back naive
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_amount(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def canonical(fields: dict) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()
