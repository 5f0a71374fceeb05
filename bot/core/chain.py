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
from typing import Any, Callable

GENESIS = "0" * 64

# What each kind of link covers: its fields (each the row's column of that name) and their form.
# The one list: bot/data/chain.py turns it into the canonical text in Python (SQLite, `audit verify`)
# and into the PostgreSQL functions that link rows as they commit (content_sql below).
FIELDS: dict[str, dict[str, str]] = {
    "audit": {"id": "int", "at": "time", "invoice_id": "int", "action": "text", "from_status": "text",
              "to_status": "text", "actor": "text", "detail": "text"},
    "bank": {"id": "int", "received_at": "time", "command": "text", "bank_code": "text", "bank_ref": "text",
             "request_body": "text", "bank_timestamp": "text", "bank_signature": "text", "http_status": "int",
             "resp_code": "text", "response_body": "text", "replayed": "bool"},
    "statement": {"id": "int", "sha256": "text", "effective_date": "date", "company_account": "text",
                  "imported_at": "time", "balanced": "bool", "report": "text"},
    "receipt": {"id": "int", "payment_id": "int", "variant": "text", "number": "text", "amount": "amount",
                "sha256": "text", "created_at": "time"},
    "staff": {"id": "int", "at": "time", "account": "text", "action": "text", "target": "text", "detail": "text",
              "address": "text"},
}


def canonical_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # stored UTC; SQLite hands it back naive
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_amount(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def canonical(fields: dict[str, object]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_FORMS: dict[str, Callable[[Any], object]] = {"int": lambda v: v, "text": lambda v: v, "time": canonical_time, "bool": bool, "amount": canonical_amount,
          "date": lambda v: None if v is None else v.isoformat()}


def content(kind: str, row: object) -> str:
    """The canonical content of a row of that kind (anything with the fields as attributes)."""
    fields = {name: _FORMS[form](getattr(row, name)) for name, form in FIELDS[kind].items()}
    return canonical({"kind": kind, **fields})


# The same canonical text, as a PostgreSQL expression over the trigger's row NEW. Equal to
# content() byte for byte: PostgreSQL's JSON string escaping is Python's with ensure_ascii off
# (\" \\ \b \f \n \r \t, other controls as \u00xx), and `audit verify` recomputes every link
# in Python, so a difference could not pass unnoticed.
_SQL_FORMS = {
    "int": "coalesce(NEW.{0}::text, 'null')",
    "text": "coalesce(to_json(NEW.{0}::text)::text, 'null')",
    "time": """coalesce('"' || to_char(NEW.{0} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"', 'null')""",
    "bool": "CASE WHEN NEW.{0} THEN 'true' ELSE 'false' END",
    "date": """coalesce('"' || to_char(NEW.{0}, 'YYYY-MM-DD') || '"', 'null')""",
    # Stored as integer satang: 100000 → "1000.00".
    "amount": """coalesce('"' || to_char(NEW.{0}::numeric / 100, 'FM999999999990.00') || '"', 'null')""",
}


def content_sql(kind: str) -> str:
    parts = {"kind": "'" + json.dumps(kind) + "'"}
    parts.update({name: _SQL_FORMS[form].format(name) for name, form in FIELDS[kind].items()})
    pieces = [f"'{'{' if i == 0 else ','}{json.dumps(name)}:' || {parts[name]}" for i, name in enumerate(sorted(parts))]
    return " || ".join(pieces) + " || '}'"


def link_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()
