"""The registry that maps a LINE event (and message content) type to its handler, and what a
handler is given. Unknown event types fall through to nothing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from bot.core.i18n import Translator
from bot.core.schedule import OfficeHours
from bot.core.textparse import written_in
from bot.render.messages import Links

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.data.models import LineUser
    from bot.ledger.batch import Batch

Messages = list[dict]


@dataclass
class ChatContext:
    """What a handler may use: the open transaction, the user (if any), their language, links,
    and the batch of chat events it is one of (the ledger functions that read ahead take it)."""

    session: Session
    user: LineUser | None
    links: Links
    reminder_days: tuple[int, ...] = (7, 1)  # said in the consent sentence of a subscription
    language: str | None = None  # this message's language, when it decides (see `follow_language`)
    office_hours: OfficeHours | None = None  # told to a user who asks for a person
    support_contact: str = ""
    batch: Batch | None = None  # what the worker read ahead for its batch of events (bot.ledger.batch)

    @property
    def t(self) -> Translator:
        return Translator(self.language or (self.user.language if self.user else None))

    def follow_language(self, message: str) -> None:
        """A user who never chose a language is answered in the language of the message, and
        later pushes follow the last one seen; a user who chose keeps their choice."""
        if self.user is not None and self.user.language_chosen:
            return
        found = written_in(message)
        if found is None:
            return
        self.language = found
        if self.user is not None and self.user.language != found:
            self.user.language = found

    def choose_language(self, lang: str) -> None:
        self.language = lang
        if self.user is not None:
            self.user.language = lang  # kept per user
            self.user.language_chosen = True


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
