"""Conversations with staff ("ติดต่อเจ้าหน้าที่"): opened from the chat, answered and closed from the
console. Staff answers and the closing word reach the user as pushes through the outbox (one per
answer, whatever retries happen). Opened, answered and closed times are kept."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.dates import utcnow
from bot.core.i18n import Translator
from bot.core.schedule import OfficeHours
from bot.data.db import insert_ignore, must_get
from bot.data.models import Conversation, ConversationMessage, InboxEvent, Invoice, LineUser, Watch
from bot.data.states import NoticeChannel, Speaker, StaffAction
from bot.data.wakeup import notify_workers
from bot.ledger import staff
from bot.ledger.batch import Batch
from bot.ledger.notices import OUTBOX, enqueue
from bot.render.messages import text

MAX_TEXT = 2000  # a staff answer; LINE takes 5,000 characters per text message
RECENT = 20


class ConversationError(ValueError):
    """A console action on a conversation that cannot be done (closed, unknown, empty answer)."""


def waiting(session: Session) -> int:
    """Open conversations no one has answered yet (the console's menu shows the count)."""
    return session.scalar(select(func.count()).select_from(Conversation).where(
        Conversation.closed_at.is_(None), Conversation.answered_at.is_(None))) or 0


def open_for(session: Session, user: LineUser, batch: Batch | None = None) -> Conversation | None:
    if batch is not None and user.id not in batch.maybe_open_conversation:
        return None  # known for the whole batch of chat events: none is open
    return session.scalar(select(Conversation).where(Conversation.line_user_id == user.id,
                                                     Conversation.closed_at.is_(None)))


def open_conversation(session: Session, user: LineUser, now: datetime | None = None,
                      batch: Batch | None = None) -> tuple[Conversation, bool]:
    """The user's open conversation, and whether it is new. One open per user, enforced by the
    database (two workers handling two "ติดต่อเจ้าหน้าที่" at once open one)."""
    now = now or utcnow()
    if batch is not None:
        batch.maybe_open_conversation.add(user.id)
    new_id = insert_ignore(session, Conversation, line_user_id=user.id, opened_at=now, last_user_at=now)
    found = open_for(session, user, batch)
    if found is None:  # inserted or found just now, in this transaction: it cannot be
        raise LookupError(f"no open conversation for user {user.id} after opening one")
    return found, new_id is not None


def add_user_message(session: Session, conversation: Conversation, message: str, *, answered_by_bot: bool,
                     now: datetime | None = None) -> None:
    now = now or utcnow()
    session.add(ConversationMessage(conversation_id=conversation.id, at=now, speaker=Speaker.USER,
                                    text=message[:MAX_TEXT * 2], answered_by_bot=answered_by_bot))
    conversation.last_user_at = now


# `closed_by` of a conversation the user ended in the chat (staff's closes carry the staff name)
ENDED_BY_USER = "user"


def end_by_user(session: Session, user: LineUser, now: datetime | None = None, batch: Batch | None = None) -> bool:
    """`จบการสนทนา` / `end chat`: the user's open conversation closed by them; False if none was open."""
    conversation = open_for(session, user, batch)
    if conversation is None:
        return False
    conversation.closed_at, conversation.closed_by = now or utcnow(), ENDED_BY_USER
    return True


def acknowledge(session: Session, conversation: Conversation, now: datetime,
                office_hours: OfficeHours | None = None) -> bool:
    """Whether a message about to be passed to staff is acknowledged: the first one of the
    conversation, and the first one written outside office hours (the answer comes later then)."""
    passed = list(session.scalars(select(ConversationMessage.at).where(
        ConversationMessage.conversation_id == conversation.id, ConversationMessage.speaker == Speaker.USER,
        ConversationMessage.answered_by_bot.is_(False))))
    if not passed:
        return True
    if office_hours is None:
        return False
    return not office_hours.contains(now) and all(office_hours.contains(at) for at in passed)


def _open_by_id(session: Session, conversation_id: int) -> tuple[Conversation, LineUser]:
    query = select(Conversation).where(Conversation.id == conversation_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    conversation = session.scalar(query)
    if conversation is None:
        raise ConversationError("unknown")
    if conversation.closed_at is not None:
        raise ConversationError("closed")
    return conversation, must_get(session, LineUser, conversation.line_user_id)


def reply(session: Session, conversation_id: int, staff_name: str, answer: str, *, address: str = "") -> int:
    """A staff answer, pushed to the user through the outbox; the message's id."""
    answer = answer.strip()
    if not answer:
        raise ConversationError("empty")
    if len(answer) > MAX_TEXT:
        raise ConversationError("too_long")
    conversation, user = _open_by_id(session, conversation_id)
    now = utcnow()
    message = ConversationMessage(conversation_id=conversation.id, at=now, speaker=Speaker.STAFF,
                                  staff_name=staff_name, text=answer, answered_by_bot=False)
    session.add(message)
    session.flush()
    conversation.answered_at = conversation.answered_at or now
    t = Translator(user.language)
    body = [text(t("TISI staff:") + "\n" + answer)]
    enqueue(session, channel=NoticeChannel.LINE, event_key=f"staff-reply:{message.id}", to=user.user_id,
            body=json.dumps(body, ensure_ascii=False))
    notify_workers(session, OUTBOX)
    staff.record(session, staff_name, StaffAction.CONVERSATION_REPLIED, target=f"conversation {conversation.id}",
                 address=address, message_id=message.id, length=len(answer))
    return message.id


def close(session: Session, conversation_id: int, staff_name: str, *, address: str = "") -> None:
    """Close it and tell the user that the bot answers everything again."""
    conversation, user = _open_by_id(session, conversation_id)
    conversation.closed_at, conversation.closed_by = utcnow(), staff_name
    t = Translator(user.language)
    body = [text(t("Your conversation with TISI staff is closed. I answer your messages again: type an invoice "
                   "or license number, or \"help\". To reach staff again, type \"talk to staff\"."))]
    enqueue(session, channel=NoticeChannel.LINE, event_key=f"conversation-closed:{conversation.id}",
            to=user.user_id, body=json.dumps(body, ensure_ascii=False))
    notify_workers(session, OUTBOX)
    staff.record(session, staff_name, StaffAction.CONVERSATION_CLOSED, target=f"conversation {conversation.id}",
                 address=address)


@dataclass(frozen=True)
class Summary:
    conversation: Conversation
    user_id: str
    messages: int
    last_text: str


def listing(session: Session, *, closed: bool, limit: int = 50) -> list[Summary]:
    """Open ones: those nobody answered yet first, then the longest waiting. Closed: the latest."""
    query = select(Conversation, LineUser.user_id).join(LineUser, LineUser.id == Conversation.line_user_id)
    if closed:
        query = query.where(Conversation.closed_at.is_not(None)).order_by(Conversation.closed_at.desc())
    else:
        query = query.where(Conversation.closed_at.is_(None)).order_by(
            Conversation.answered_at.is_not(None), Conversation.last_user_at)
    rows = session.execute(query.limit(limit)).all()
    ids = [c.id for c, _ in rows]
    counts: dict[int, int] = {cid: n for cid, n in session.execute(
        select(ConversationMessage.conversation_id, func.count()).where(ConversationMessage.conversation_id.in_(ids))
        .group_by(ConversationMessage.conversation_id))} if ids else {}
    last: dict[int, str] = {}
    if ids:
        latest = (select(func.max(ConversationMessage.id)).where(ConversationMessage.conversation_id.in_(ids),
                                                                  ConversationMessage.speaker == Speaker.USER)
                  .group_by(ConversationMessage.conversation_id))
        last = {cid: said for cid, said in session.execute(
            select(ConversationMessage.conversation_id, ConversationMessage.text).where(ConversationMessage.id.in_(latest)))}
    return [Summary(c, uid, counts.get(c.id, 0), last.get(c.id, "")) for c, uid in rows]


@dataclass(frozen=True)
class Detail:
    conversation: Conversation
    user: LineUser
    messages: list[ConversationMessage]
    before: list[tuple[datetime, str]]  # what the user wrote to the bot before asking for a person
    invoices: list[tuple[Invoice, datetime]]  # the invoices they asked about, latest first


def detail(session: Session, conversation_id: int) -> Detail | None:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    user = must_get(session, LineUser, conversation.line_user_id)
    messages = list(session.scalars(select(ConversationMessage).where(
        ConversationMessage.conversation_id == conversation.id).order_by(ConversationMessage.id)))
    before: list[tuple[datetime, str]] = []
    for received_at, payload in session.execute(
            select(InboxEvent.received_at, InboxEvent.payload)
            .where(InboxEvent.user_id == user.user_id, InboxEvent.event_type == "message",
                   InboxEvent.received_at <= conversation.opened_at)
            .order_by(InboxEvent.id.desc()).limit(RECENT)):
        message = json.loads(payload).get("message") or {}
        before.append((received_at, str(message.get("text")) if message.get("type") == "text"
                       else f"[{message.get('type', '?')}]"))
    asked = session.execute(
        select(Invoice, Watch.created_at).join(Watch, Watch.invoice_id == Invoice.id)
        .where(Watch.line_user_id == user.id).order_by(Watch.created_at.desc()).limit(RECENT)).all()
    licensed = session.execute(
        select(Invoice, Watch.created_at).join(Watch, Watch.license_no == Invoice.license_no)
        .where(Watch.line_user_id == user.id).order_by(Watch.created_at.desc(), Invoice.id.desc()).limit(RECENT)).all()
    seen, invoices = set(), []
    for inv, at in sorted([*asked, *licensed], key=lambda r: r[1], reverse=True):
        if inv.id not in seen:
            seen.add(inv.id)
            invoices.append((inv, at))
    return Detail(conversation, user, messages, list(reversed(before)), invoices[:RECENT])
