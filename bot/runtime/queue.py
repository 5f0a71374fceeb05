"""What the worker loop asks of a queue (the inbox's replies, the outbox's pushes), and the
signal a queue gives to have a step run again. Kept apart from the loop so that the queues and
the loop do not import each other."""
from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from bot.core.delivery import Outcome


class RetryStep(Exception):
    """Raised by a queue inside a step: roll the step back and run it again at once (not an outage)."""


Job = TypeVar("Job")


class WorkQueue(Protocol[Job]):
    """`Job`: what the queue claims, sends and records (a reply, a push, a photo, a receipt)."""

    name: str  # also the NOTIFY payload that wakes it
    senders: int
    max_inflight: int
    batch: int
    lease: float  # seconds a claim is ours

    def claim(self, session: Session, limit: int) -> list[Job]: ...
    def handle_claimed(self, session: Session, ids: list[int]) -> list[Job]: ...
    def release(self, session: Session, ids: list[int]) -> None: ...
    def send(self, job: Job) -> Outcome: ...
    def record(self, session: Session, results: list[tuple[Job, Outcome]]) -> float | None: ...
    def next_due_in(self) -> float | None: ...
    def maintain(self, session: Session) -> None: ...
    def close(self) -> None: ...


class LocalQueue:
    """The parts of a WorkQueue that a queue claiming only by itself leaves empty: nothing is
    stored already leased to it (the inbox's web hand-off), and by default nothing to maintain or
    close. The photo and receipt queues start from it."""

    def handle_claimed(self, session: Session, ids: list[int]) -> list[Any]:
        return []

    def release(self, session: Session, ids: list[int]) -> None:
        pass

    def maintain(self, session: Session) -> None:
        pass

    def close(self) -> None:
        pass
