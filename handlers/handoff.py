"""A person when asked: "ติดต่อเจ้าหน้าที่" / "talk to staff" opens a conversation with the
Institute's staff. While it is open the bot still answers numbers, commands and the rich menu's
buttons (and photos, and pushes its notices); everything else goes to staff, acknowledged once
(and once more outside office hours); `จบการสนทนา` / `end chat` ends it."""
from __future__ import annotations

import re

from bot.core.dates import utcnow
from bot.core.textparse import Intent, ParsedMessage, normalize
from bot.ledger import conversations
from bot.render.messages import text, with_quick_replies
from handlers.registry import ChatContext, Messages

# What the bot still answers itself during a conversation: a number, a command or a button of the
# rich menu (a short message); anything else is for staff.
BOT_COMMANDS = frozenset({Intent.PAY, Intent.STATUS, Intent.RECEIPT, Intent.HELP, Intent.LANGUAGE, Intent.MY_LICENSES,
                          Intent.HISTORY, Intent.SUBSCRIBE, Intent.UNSUBSCRIBE, Intent.NEED_NUMBER, Intent.HANDOFF,
                          Intent.END_CHAT})
# A command's length, polite particles aside: "ติดต่อเจ้าหน้าที่ครับ" (17), "stop notifications" (18);
# "ขอสอบถามเรื่องใบเสร็จครับ" (20) is a question for staff.
COMMAND_LENGTH = 18
_PARTICLES = re.compile(r"(ครับ|คับ|ค่ะ|คะ|ค่า|นะ|จ้า|จ้ะ|หน่อย|ด้วย|please|pls)", re.IGNORECASE)


def open_conversation(ctx: ChatContext) -> Messages:
    t = ctx.t
    if ctx.user is None:  # a group or room: there is no one to push staff answers to
        return [text(t("Please write to TISI in a one-to-one chat to talk to staff."))]
    now = utcnow()
    conversation, new = conversations.open_conversation(ctx.session, ctx.user, now, ctx.batch)
    hours = ctx.office_hours.describe(t.lang) if ctx.office_hours else ""
    if not new:
        return [text(t("Your chat with TISI staff is already open. Write your question here; staff answer during "
                       "office hours (%(hours)s).", hours=hours))]
    lines = [t("I have passed this chat to TISI staff. Someone will answer here during office hours (%(hours)s, "
               "Bangkok time). Meanwhile I still answer invoice and license numbers; anything else you write goes "
               "to staff.", hours=hours)]
    if ctx.office_hours and not ctx.office_hours.contains(now):
        lines.append(t("It is outside office hours now, so the answer will come when the office opens."))
    lines.append(t("Contact: %(contact)s", contact=t("TISI") + (f" · {ctx.support_contact}" if ctx.support_contact
                                                              else "")))
    return [text("\n\n".join(lines))]


def for_staff(parsed: ParsedMessage, message: str, ctx: ChatContext) -> Messages | None:
    """During an open conversation: None when the bot answers the message itself (it is still kept
    in the conversation, for staff to see); otherwise it is for staff, and this is what the user is
    told — an acknowledgement for the first such message, and for the first outside office hours;
    nothing for the rest."""
    if ctx.user is None:
        return None
    conversation = conversations.open_for(ctx.session, ctx.user, ctx.batch)
    if conversation is None:
        return None
    numbers = bool(parsed.invoice_numbers or parsed.license_numbers)
    short = len(_PARTICLES.sub("", normalize(message)).strip()) <= COMMAND_LENGTH
    answered = parsed.intent in BOT_COMMANDS and (numbers or short)
    now = utcnow()
    acknowledged = not answered and conversations.acknowledge(ctx.session, conversation, now, ctx.office_hours)
    conversations.add_user_message(ctx.session, conversation, message, answered_by_bot=answered, now=now)
    if answered:
        return None
    if not acknowledged:
        return []
    ctx.follow_language(message)
    t = ctx.t
    lines = [t("Staff have your message and will answer here.")]
    if ctx.office_hours and not ctx.office_hours.contains(now):
        lines.append(t("It is outside office hours now (%(hours)s, Bangkok time): the answer will come when the "
                       "office opens.", hours=ctx.office_hours.describe(t.lang)))
    lines.append(t("To end the chat with staff, type \"end chat\"."))
    return with_quick_replies([text("\n".join(lines))], t, end_chat=True)


def end_chat(ctx: ChatContext) -> Messages:
    """`จบการสนทนา` / `end chat`."""
    t = ctx.t
    if ctx.user is not None and conversations.end_by_user(ctx.session, ctx.user, batch=ctx.batch):
        return [text(t("You ended the chat with TISI staff. I answer your messages again: type an invoice or "
                       "license number, or \"help\". To reach staff again, type \"talk to staff\"."))]
    return [text(t("There is no open chat with staff. To reach staff, type \"talk to staff\"."))]


def keep_for_staff(kind: str, ctx: ChatContext) -> bool:
    """A sticker, location or other message during an open conversation: kept as "[sticker]" for
    staff, and the bot says nothing. False when no conversation is open."""
    if ctx.user is None:
        return False
    conversation = conversations.open_for(ctx.session, ctx.user, ctx.batch)
    if conversation is None:
        return False
    conversations.add_user_message(ctx.session, conversation, f"[{kind}]", answered_by_bot=False)
    return True
