"""The registry that maps a LINE event (and message content) type to its handler, and what a
handler is given. Unknown event types fall through to nothing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy.orm import Session

from bot.core.i18n import Translator
from bot.data.models import LineUser
from bot.render.messages import Links

Messages = list[dict]


@dataclass
class ChatContext:
    """What a handler may use: the open transaction, the user (if any), their language, links."""

    session: Session
    user: LineUser | None
    links: Links
    reminder_days: tuple[int, ...] = (7, 1)  # said in the consent sentence of a subscription

    @property
    def t(self) -> Translator:
        return Translator(self.user.language if self.user else None)


Handler = Callable[[object, ChatContext], Messages]


class Registry:
    def __init__(self) -> None:
        self._handlers: dict[tuple[type, type | None], Handler] = {}

    def on(self, event_type: type, content_type: type | None = None) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self._handlers[(event_type, content_type)] = fn
            return fn

        return register

    def find(self, event: object) -> Handler | None:
        content = getattr(event, "message", None)
        for key in ((type(event), type(content)), (type(event), None)):
            if key in self._handlers and (key[1] is None or content is not None):
                return self._handlers[key]
        return None


registry = Registry()
