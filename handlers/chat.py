"""Text, postback and non-text messages."""
from __future__ import annotations

from urllib.parse import parse_qs

from linebot.v3.webhook import UnknownEvent
from linebot.v3.webhooks import MessageEvent, PostbackEvent, TextMessageContent

from bot import invoices as svc
from bot.core.i18n import N_, Translator
from bot.core.textparse import Intent, parse_message
from bot.messages import help_text, invoice_messages, license_choices, text, with_quick_replies
from bot.models import Status
from handlers import ChatContext, Messages, registry

MAX_NUMBERS_PER_MESSAGE = 2  # each takes two reply bubbles; LINE allows five per reply
_ASK_FOR_NUMBER = N_("Please send the invoice number (16 digits) or the license number, for example "
                     "2568110400012345 or ท 5137-2/10.")
# Why a number in the message was not taken, said back to the user.
_HINTS = {
    "tax_id": N_("That looks like a tax ID. Please send the 16-digit invoice number from your pay-in slip, "
                 "or your license number."),
    "tis_standard": N_("That is a TIS standard number. Please send the 16-digit invoice number, or your license "
                       "number such as ท 5137-2/10."),
    "wrong_length": N_("An invoice number has 16 digits. Please check the number and send it again."),
}


@registry.on(MessageEvent, TextMessageContent)
def on_text(event: MessageEvent, ctx: ChatContext) -> Messages:
    parsed = parse_message(event.message.text)
    t = ctx.t
    if parsed.intent is Intent.LANGUAGE:
        if ctx.user is not None:
            ctx.user.language = parsed.language  # kept per user
        t = Translator(parsed.language)
        reply = t("Language set to Thai.") if parsed.language == "th" else t("Language set to English.")
        return with_quick_replies([text(reply), text(help_text(t))], t)
    if parsed.intent in (Intent.HELP, Intent.UNKNOWN):
        return with_quick_replies([text(help_text(t))], t)
    if parsed.intent is Intent.GREETING:
        return with_quick_replies([text(t("Hello! I am TISI Pay.")), text(help_text(t))], t)
    if parsed.intent is Intent.NEED_NUMBER:
        return with_quick_replies([text(t(_HINTS.get(parsed.hint, _ASK_FOR_NUMBER)))], t)

    messages: Messages = []
    numbers = [("invoice", n) for n in parsed.invoice_numbers] + [("license", n) for n in parsed.license_numbers]
    for kind, number in numbers[:MAX_NUMBERS_PER_MESSAGE]:
        messages += show_invoice(number, ctx) if kind == "invoice" else show_license(number, ctx)
    if len(numbers) > MAX_NUMBERS_PER_MESSAGE:
        messages.append(text(t("I can show %(count)s numbers at a time. Please send the others in another message.",
                               count=MAX_NUMBERS_PER_MESSAGE)))
    last_invoice = parsed.invoice_numbers[0] if len(parsed.invoice_numbers) == 1 and not parsed.license_numbers else None
    return with_quick_replies(messages[:5], t, invoice_no=last_invoice)


def show_invoice(invoice_no: str, ctx: ChatContext) -> Messages:
    t = ctx.t
    inv = svc.find_invoice(ctx.session, invoice_no)
    if inv is None:
        return [text(t("I could not find invoice %(number)s. Please check the 16-digit number on your pay-in slip.",
                       number=invoice_no))]
    if ctx.user is not None:
        svc.remember_interest(ctx.session, ctx.user, invoice=inv)
    return invoice_messages(inv, t, ctx.links)


def show_license(license_no: str, ctx: ChatContext) -> Messages:
    t = ctx.t
    all_invoices = svc.invoices_for_license(ctx.session, license_no)
    if ctx.user is not None and all_invoices:
        svc.remember_interest(ctx.session, ctx.user, license_no=license_no)
    payable = [inv for inv in all_invoices if inv.effective_status() == Status.UNPAID]
    if not payable:
        return [text(t("License %(license)s has no unpaid invoices.", license=license_no))]
    if len(payable) == 1:
        return invoice_messages(payable[0], t, ctx.links)
    return license_choices(license_no, payable, t)


@registry.on(PostbackEvent)
def on_postback(event: PostbackEvent, ctx: ChatContext) -> Messages:
    data = parse_qs(event.postback.data or "", max_num_fields=5)
    number = (data.get("no") or [""])[0]
    if data.get("action") == ["invoice"] and number.isascii() and number.isalnum() and len(number) <= 20:
        return with_quick_replies(show_invoice(number, ctx), ctx.t, invoice_no=number)
    return with_quick_replies([text(help_text(ctx.t))], ctx.t)


@registry.on(MessageEvent)
def on_other_message(event: MessageEvent, ctx: ChatContext) -> Messages:
    """Stickers, images, audio, files, locations: we read text only."""
    t = ctx.t
    return with_quick_replies([text(t("Sorry, I can only read text. Please type an invoice number or a license number."))], t)


@registry.on(UnknownEvent)
def on_unknown(event: UnknownEvent, ctx: ChatContext) -> Messages:
    """Event types newer than our SDK. A message of a new kind still gets the polite ask."""
    if event.type == "message":
        return on_other_message(event, ctx)
    return []
