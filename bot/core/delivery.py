"""What one delivery attempt came to, for every kind of outbound call (LINE reply, LINE push,
loading animation, upstream callback), and when to try again."""
from __future__ import annotations

import random
from dataclasses import dataclass

BACKOFF_BASE = 1.0  # seconds before the second attempt
BACKOFF_CAP = 600.0


@dataclass(frozen=True)
class Outcome:
    """The answer to one attempt."""

    delivered: bool  # accepted (for a push: 200, or 409 = the retry key was already accepted)
    retry: bool  # worth trying again later: 5xx, 429, timeouts, refused connections
    status: int  # HTTP status, 0 when no answer came
    detail: str = ""  # the receiver's answer, or the exception's name
    retry_after: float | None = None  # the receiver's Retry-After, when it said one
    # No answer, and the request may have reached the receiver (a timeout after sending, a reset
    # connection): it may have been accepted. False for a refused connection: nothing was sent.
    unknown: bool = False

    @classmethod
    def ok(cls, status: int = 200) -> "Outcome":
        return cls(delivered=True, retry=False, status=status)

    @classmethod
    def not_sent(cls, why: str) -> "Outcome":
        """Nothing was sent and nothing will be: there is nothing to send, or no point any more."""
        return cls(delivered=False, retry=False, status=0, detail=why[:500])

    @classmethod
    def failed_here(cls, why: str) -> "Outcome":
        """Our side failed before anything was sent (the database, the reader): try again later."""
        return cls(delivered=False, retry=True, status=0, detail=why[:500])

    @classmethod
    def from_status(cls, status: int, detail: str = "", retry_after: float | None = None) -> "Outcome":
        """A refusal: retried when the receiver may accept it later."""
        retry = status == 0 or status == 429 or status >= 500
        return cls(delivered=False, retry=retry, status=status, detail=detail[:500], retry_after=retry_after)

    @classmethod
    def no_answer(cls, exc: BaseException, *, sent: bool = True) -> "Outcome":
        """Timeouts, refused or reset connections: nobody said no. `sent`: the request may have
        got there (its outcome is unknown), unlike a connection that was never made."""
        return cls(delivered=False, retry=True, status=0, detail=type(exc).__name__, unknown=sent)

    def describe(self) -> str:
        return f"{self.status} {self.detail}".strip()[:1000]


def backoff(attempts: int, retry_after: float | None = None, *, base: float | None = None) -> float:
    """Exponential backoff with full jitter in the upper half; the receiver's Retry-After wins when longer."""
    start = BACKOFF_BASE if base is None else base
    delay = min(BACKOFF_CAP, start * 2 ** max(0, attempts - 1))
    delay = random.uniform(delay / 2, delay)
    return max(delay, retry_after) if retry_after is not None else delay


def parse_retry_after(value: str | float | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is not used by LINE)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None
