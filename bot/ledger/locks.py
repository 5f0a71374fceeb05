"""How a chat answer reads the invoices it shows (the one rule both the lookups and a batch's
look-ahead follow)."""
from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select

_Q = TypeVar("_Q", bound=Select[Any])


def for_answer(query: _Q) -> _Q:
    """Read invoices as a chat answer does before recording who asked: FOR SHARE, so a payment
    of them (which takes FOR UPDATE, then reads who asked) waits for this answer's watch to
    commit, or this read waits for the payment and sees it paid. Either way a user who was shown
    an invoice unpaid is among those the paid notice goes to. (SQLite: one writer at a time
    already.) Fresh values, not the session's copies from earlier in the batch."""
    return query.with_for_update(read=True).execution_options(populate_existing=True)
