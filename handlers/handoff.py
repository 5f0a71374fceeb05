"""A person when asked: "ติดต่อเจ้าหน้าที่" / "talk to staff" opens a conversation with the
Institute's staff. While it is open the bot still answers invoice and license numbers (and
photos, and pushes its notices), and passes everything else to staff without a word."""
from __future__ import annotations

from bot.core.dates import utcnow
from bot.core.textparse import Intent, ParsedMessage
from bot.ledger import conversations
from bot.render.messages import text
from handlers.registry import ChatContext, Messages

# What the bot still answers itself during a conversation: a number it can look up.
BOT_ANSWERS = (Intent.PAY, Intent.STATUS, Intent.RECEIPT)


def open_conversation(ctx: ChatContext) -> Messages:
    t = ctx.t
    if ctx.user is None:  # a group or room: there is no one to push staff answers to
        return [text(t("Please write to TISI in a one-to-one chat to talk to staff."))]
    now = utcnow()
    conversation, new = conversations.open_conversation(ctx.session, ctx.user, now)
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


def passes_to_staff(parsed: ParsedMessage, message: str, ctx: ChatContext) -> bool:
    """During an open conversation: keep the user's message for staff; True when the bot must stay
    silent (anything but an invoice or license number it can answer)."""
    if ctx.user is None:
        return False
    conversation = conversations.open_for(ctx.session, ctx.user)
    if conversation is None:
        return False
    answered = parsed.intent in BOT_ANSWERS and bool(parsed.invoice_numbers or parsed.license_numbers)
    conversations.add_user_message(ctx.session, conversation, message, answered_by_bot=answered)
    return not answered


def keep_for_staff(kind: str, ctx: ChatContext) -> bool:
    """A sticker, location or other message during an open conversation: kept as "[sticker]" for
    staff, and the bot says nothing. False when no conversation is open."""
    if ctx.user is None:
        return False
    conversation = conversations.open_for(ctx.session, ctx.user)
    if conversation is None:
        return False
    conversations.add_user_message(ctx.session, conversation, f"[{kind}]", answered_by_bot=False)
    return True
