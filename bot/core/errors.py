"""An exception in one line, for logs that must stay one line per event (outages, refusals). Pure."""
from __future__ import annotations


def one_line(exc: BaseException, limit: int = 200) -> str:
    """'OperationalError: connection refused': the driver's own error when a library wrapped it
    (SQLAlchemy keeps it as `.orig`), its first line only."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return f"{type(orig).__name__}: {text.splitlines()[0] if text else ''}"[:limit]
