"""What the photo pool read in the photos users sent (bot/runtime/photos.py), as the chat asks it."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.data.models import PhotoRead


def of_message(session: Session, message_id: str) -> PhotoRead | None:
    return session.scalar(select(PhotoRead).where(PhotoRead.message_id == message_id))


def answered_before_in_set(session: Session, read: PhotoRead) -> bool:
    """Another photo of the same set (sent together), naming the same invoice, already answered."""
    if not read.image_set:
        return False
    earlier = select(PhotoRead.id).where(PhotoRead.image_set == read.image_set, PhotoRead.user_id == read.user_id,
                                         PhotoRead.invoice_no == read.invoice_no, PhotoRead.id != read.id,
                                         PhotoRead.answered_at.is_not(None)).limit(1)
    return session.scalar(earlier) is not None
