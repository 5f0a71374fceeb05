"""Text, postback and non-text messages."""
from __future__ import annotations

from urllib.parse import parse_qs

from linebot.v3.webhook import UnknownEvent
from linebot.v3.webhooks import MessageEvent, PostbackEvent, TextMessageContent

from bot.core.dates import format_long_date
from bot.core.i18n import N_, Translator
from bot.core.textparse import INVOICE_DIGITS, Intent, normalize_license, parse_message
from bot.data.states import InvoiceStatus as Status
from bot.data.states import SubscribeOutcome
from bot.ledger import invoices as svc
from bot.ledger import payments, receipts
from bot.ledger import subscriptions as subs
from bot.ledger.history import payments_for
from bot.render.messages import (
    baht,
    consent_sentence,
    help_text,
    invoice_messages,
    license_choices,
    payment_history,
    receipt_choices,
    said_paid_but_unpaid,
    subscriptions_list,
    text,
    with_quick_replies,
)
from handlers import handoff
from handlers.registry import ChatContext, Messages, registry

MAX_NUMBERS_PER_MESSAGE = 2  # each takes two reply bubbles; LINE allows five per reply
# Consent must be unambiguous: a subscription is taken from a short message naming one thing,
# never from a pasted page that happens to hold a license number.
MAX_COMMAND_LENGTH = 200
_ASK_FOR_NUMBER = N_("Please send the invoice number (16 digits) or the license number, for example "
                     "2568110400012345 or ท 5137-2/10.")
# "I transferred but it still shows unpaid", without a number: what happens next, and what we need.
_SAID_PAID_WITHOUT_NUMBER = N_(
    "If you have paid, Krungthai confirms the payment to us within a few minutes, and we tell you in this chat as "
    "soon as it does. To check it now, please send the 16-digit invoice number, or a photo of your bank's e-slip. "
    "Please do not pay again in the meantime.")
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
    for_staff = handoff.for_staff(parsed, event.message.text, ctx)
    if for_staff is not None:  # a conversation with staff is open: this is for them
        return for_staff
    if parsed.intent is Intent.END_CHAT:
        ctx.follow_language(event.message.text)
        return with_quick_replies(handoff.end_chat(ctx), ctx.t)
    if parsed.intent is Intent.LANGUAGE:
        ctx.choose_language(parsed.language or "th")  # (a LANGUAGE intent names one)
        t = ctx.t
        reply = t("Language set to Thai.") if parsed.language == "th" else t("Language set to English.")
        return with_quick_replies([text(reply), text(help_text(t))], t)
    ctx.follow_language(event.message.text)
    t = ctx.t
    if parsed.intent is Intent.HANDOFF:
        return with_quick_replies(handoff.open_conversation(ctx), t)
    if parsed.intent in (Intent.HELP, Intent.UNKNOWN):
        return with_quick_replies([text(help_text(t))], t, staff=True)
    if parsed.intent is Intent.GREETING:
        return with_quick_replies([text(t("Hello! I am TISI Pay.")), text(help_text(t))], t)
    if parsed.intent is Intent.NEED_NUMBER and parsed.says_paid and not parsed.hint:
        return with_quick_replies([text(t(_SAID_PAID_WITHOUT_NUMBER))], t, staff=True, slip_photo=True)
    if parsed.intent is Intent.NEED_NUMBER:
        return with_quick_replies([text(t(_HINTS.get(parsed.hint or "", _ASK_FOR_NUMBER)))], t)
    if parsed.intent is Intent.MY_LICENSES:
        return with_quick_replies(my_licenses(ctx), t)
    if parsed.intent is Intent.HISTORY:
        return with_quick_replies(history(ctx), t)
    if parsed.intent in (Intent.SUBSCRIBE, Intent.UNSUBSCRIBE):
        return with_quick_replies(_subscription_command(parsed, event.message.text, ctx), t)
    if parsed.intent is Intent.RECEIPT:
        if not parsed.invoice_numbers:
            return with_quick_replies(my_receipts(ctx), t)
        answers: Messages = []
        for number in parsed.invoice_numbers[:MAX_NUMBERS_PER_MESSAGE]:
            answers += receipt_answer(number, event.message.text, ctx)
        return with_quick_replies(answers[:5], t)

    if parsed.says_paid and len(parsed.invoice_numbers) == 1 and not parsed.license_numbers:
        answer = said_paid(parsed.invoice_numbers[0], ctx)
        if answer is not None:
            return answer
    messages: Messages = []
    numbers = [("invoice", n) for n in parsed.invoice_numbers] + [("license", n) for n in parsed.license_numbers]
    targets = []
    for kind, number in numbers[:MAX_NUMBERS_PER_MESSAGE]:
        shown, target = show_invoice(number, ctx) if kind == "invoice" else show_license(number, ctx)
        messages += shown
        targets.append(target)
    if len(numbers) > MAX_NUMBERS_PER_MESSAGE:
        messages.append(text(t("I can show %(count)s numbers at a time. Please send the others in another message.",
                               count=MAX_NUMBERS_PER_MESSAGE)))
    last_invoice = parsed.invoice_numbers[0] if len(parsed.invoice_numbers) == 1 and not parsed.license_numbers else None
    subscribe = targets[0] if len(targets) == 1 else None
    return with_quick_replies(messages[:5], t, invoice_no=last_invoice, subscribe=subscribe,
                              subscribed=_subscribed(ctx, subscribe))


def said_paid(invoice_no: str, ctx: ChatContext) -> Messages | None:
    """"I transferred yesterday but it still shows unpaid": for an invoice still unpaid, what
    happens next comes first, the card and its QR after, with a line not to pay twice. None when
    the invoice is not unpaid (its card then says what it is)."""
    inv = svc.find_invoice(ctx.session, invoice_no, for_answer=True, batch=ctx.batch)
    if inv is None or inv.effective_status() != Status.UNPAID:
        return None
    if ctx.user is not None:
        svc.remember_interest(ctx.session, ctx.user, invoice=inv, batch=ctx.batch)  # so the paid notice comes to this chat
    t = ctx.t
    before, after = said_paid_but_unpaid(inv, t, ctx.links)
    return with_quick_replies([before, *invoice_messages(inv, t, ctx.links), after], t, invoice_no=inv.invoice_no,
                              staff=True, slip_photo=True)


def _subscribed(ctx: ChatContext, label: str | None) -> bool:
    return label is not None and ctx.user is not None and subs.is_subscribed(ctx.session, ctx.user, label, ctx.batch)


def show_invoice(invoice_no: str, ctx: ChatContext) -> tuple[Messages, str | None]:
    """The invoice's messages, and what the user could subscribe to from them (its license, or
    the invoice itself when it has none)."""
    t = ctx.t
    inv = svc.find_invoice(ctx.session, invoice_no, for_answer=True, batch=ctx.batch)
    if inv is None:
        return [text(t("I could not find invoice %(number)s. Please check the 16-digit number on your pay-in slip.",
                       number=invoice_no))], None
    if ctx.user is not None:
        svc.remember_interest(ctx.session, ctx.user, invoice=inv, batch=ctx.batch)
    return invoice_messages(inv, t, ctx.links), inv.license_no or inv.invoice_no


def show_license(license_no: str, ctx: ChatContext) -> tuple[Messages, str | None]:
    t = ctx.t
    all_invoices = svc.invoices_for_license(ctx.session, license_no, for_answer=True, batch=ctx.batch)
    if ctx.user is not None and all_invoices:
        svc.remember_interest(ctx.session, ctx.user, license_no=license_no, batch=ctx.batch)
    target = license_no if all_invoices else None
    payable = [inv for inv in all_invoices if inv.effective_status() == Status.UNPAID]
    if not payable:
        # Said also of a license we hold no invoice of: it may be valid and simply owe nothing.
        return [text(t("License %(license)s has no unpaid invoices.", license=license_no))], target
    if len(payable) == 1:
        return invoice_messages(payable[0], t, ctx.links), target
    return license_choices(license_no, payable, t), target


def receipt_answer(invoice_no: str, message: str, ctx: ChatContext) -> Messages:
    """`ขอใบเสร็จ <invoice>`: the receipt's link to whoever may have it (README, "Receipts"), how to get
    it to anyone else, or the truth about an invoice without one."""
    t = ctx.t
    inv = svc.find_invoice(ctx.session, invoice_no, for_answer=True, batch=ctx.batch)
    if inv is None:
        return [text(t("I could not find invoice %(number)s. Please check the 16-digit number on your pay-in slip.",
                       number=invoice_no))]
    status = inv.effective_status()
    if status == Status.UNPAID:
        if ctx.user is not None:
            svc.remember_interest(ctx.session, ctx.user, invoice=inv, batch=ctx.batch)
        return [text(t("Invoice %(number)s is not paid yet, so there is no receipt. This is how to pay it:",
                       number=inv.invoice_no)), *invoice_messages(inv, t, ctx.links)]
    if status == Status.EXPIRED:
        return [text(t("Invoice %(number)s was not paid by its due date, %(date)s, so it has no receipt, and it can "
                       "no longer be paid here. Please contact TISI about it.", number=inv.invoice_no,
                       date=format_long_date(inv.due_date, t.lang)))]
    if status == Status.CANCELLED:
        return [text(t("Invoice %(number)s was cancelled, so it has no receipt.", number=inv.invoice_no))]
    issued = receipts.current_for_invoice(ctx.session, inv.id)
    payment = payments.latest_confirmed(ctx.session, inv)
    if issued is None or payment is None:  # paid while receipts were not issued here
        return [text(t("Invoice %(number)s is paid, but its receipt is not available in this chat. Please contact "
                       "TISI for the receipt.", number=inv.invoice_no))]
    if not receipts.entitled(ctx.session, ctx.user, inv, payment, message, batch=ctx.batch):
        return [text(t("The receipt of invoice %(number)s shows the payer's full name and tax ID, so I send it only "
                       "to whoever asked about the invoice here before it was paid. To get it, type the request "
                       "again with the bank reference on your transfer slip or the payer's 13-digit tax ID, for "
                       "example: receipt %(number)s KTB0123456789", number=inv.invoice_no))]
    return [text(t("Receipt %(receipt)s for invoice %(number)s (%(amount)s):\n%(url)s", receipt=issued.number,
                   number=inv.invoice_no, amount=baht(inv.amount, t),
                   url=ctx.links.receipt_url(receipts.receipt_key(inv.public_id, issued.payment_id))))]


def my_receipts(ctx: ChatContext) -> Messages:
    """`ขอใบเสร็จ` without a number: the user's own receipts, each with its button."""
    t = ctx.t
    found = receipts.receipts_for_user(ctx.session, ctx.user, batch=ctx.batch) if ctx.user is not None else []
    if not found:
        return [text(t("I have no receipt for you in this chat yet. Type \"receipt\" with the invoice number, and "
                       "with the bank reference on your transfer slip if you did not ask about the invoice here "
                       "before paying, for example: receipt 2568110400012345 KTB0123456789"))]
    return receipt_choices([(receipt.number, ctx.links.receipt_url(receipts.receipt_key(inv.public_id,
                                                                                        receipt.payment_id)),
                             payment, inv) for receipt, payment, inv in found], t)


# -- subscriptions and history -----------------------------------------------------------------
def _subscription_command(parsed, raw: str, ctx: ChatContext) -> Messages:
    t = ctx.t
    if len(raw) > MAX_COMMAND_LENGTH:
        return [text(t("That message is too long to be a subscription. Please type \"subscribe\" and one license "
                       "number, for example: subscribe ท 5137-2/10"))]
    licenses, invoices = parsed.license_numbers, parsed.invoice_numbers
    if len(licenses) + len(invoices) != 1:
        return [text(t("Which license? Type \"subscribe\" or \"unsubscribe\" with one license number, for "
                       "example: subscribe ท 5137-2/10"))]
    license_no = licenses[0] if licenses else None
    invoice_no = invoices[0] if invoices else None
    if parsed.intent is Intent.SUBSCRIBE:
        return subscribe(ctx, license_no=license_no, invoice_no=invoice_no)
    return unsubscribe(ctx, license_no=license_no, invoice_no=invoice_no)


def subscribe(ctx: ChatContext, *, license_no: str | None = None, invoice_no: str | None = None) -> Messages:
    t = ctx.t
    target = subs.resolve(ctx.session, license_no=license_no, invoice_no=invoice_no)
    if target is None or ctx.user is None:
        return [text(_not_found(t, license_no, invoice_no))]
    consent = consent_sentence(target.label, ctx.reminder_days, t)
    outcome = subs.subscribe(ctx.session, ctx.user, target, consent_text=consent, lang=t.lang, batch=ctx.batch)
    if outcome is SubscribeOutcome.ALREADY:
        return [text(t("Notifications for %(target)s are already on. To stop them, type \"unsubscribe %(target)s\".",
                       target=target.label))]
    if outcome is SubscribeOutcome.LIMIT:
        return [text(t("You have %(count)s subscriptions, the most we keep. Stop one first (type \"my licenses\").",
                       count=subs.MAX_ACTIVE))]
    return [text(consent)]


def unsubscribe(ctx: ChatContext, *, license_no: str | None = None, invoice_no: str | None = None) -> Messages:
    t = ctx.t
    target = subs.resolve(ctx.session, license_no=license_no, invoice_no=invoice_no)
    if target is None or ctx.user is None or not subs.unsubscribe(ctx.session, ctx.user, target, ctx.batch):
        label = target.label if target else (license_no or invoice_no)
        return [text(t("You have no notifications for %(target)s.", target=label))]
    return [text(t("Notifications for %(target)s are off. You will get nothing more about it unless you ask.",
                   target=target.label))]


def my_licenses(ctx: ChatContext) -> Messages:
    t = ctx.t
    found = subs.active(ctx.session, ctx.user) if ctx.user is not None else []
    if not found:
        return [text(t("This list shows the licenses you get notices about: each new invoice, a reminder before "
                       "its due date, and a notice when it is paid. You have none yet. To add one, tap "
                       "\"🔔 Notify me\" under an invoice, or type \"subscribe\" and the license number, for "
                       "example: subscribe ท 5137-2/10"))]
    return [subscriptions_list(found, t)]


def history(ctx: ChatContext) -> Messages:
    t = ctx.t
    rows = payments_for(ctx.session, ctx.user, batch=ctx.batch) if ctx.user is not None else []
    if not rows:
        return [text(t("No payments yet for your licenses or the invoices you asked about."))]
    return [payment_history(rows, t)]


def _not_found(t: Translator, license_no: str | None, invoice_no: str | None) -> str:
    if license_no:
        return t("I could not find license %(license)s. Please check the number on your license.", license=license_no)
    return t("I could not find invoice %(number)s. Please check the 16-digit number on your pay-in slip.",
             number=invoice_no)


@registry.on(PostbackEvent)
def on_postback(event: PostbackEvent, ctx: ChatContext) -> Messages:
    """Buttons: our own data, but a client can send any: every value is checked again here."""
    data = parse_qs((event.postback.data or "")[:300], max_num_fields=5)
    action = (data.get("action") or [""])[0]
    number = (data.get("no") or [""])[0]
    valid_number = number.isascii() and number.isdigit() and len(number) == INVOICE_DIGITS
    license_no = normalize_license((data.get("license") or [""])[0][:40])
    t = ctx.t
    if action == "invoice" and valid_number:
        shown, target = show_invoice(number, ctx)
        return with_quick_replies(shown, t, invoice_no=number, subscribe=target, subscribed=_subscribed(ctx, target))
    if action == "subscribe" and (license_no or valid_number):
        return with_quick_replies(subscribe(ctx, license_no=license_no, invoice_no=None if license_no else number), t)
    if action == "unsubscribe" and (license_no or valid_number):  # the quick reply under a card
        return with_quick_replies(unsubscribe(ctx, license_no=license_no, invoice_no=None if license_no else number), t)
    if action == "unsubscribe":
        raw_id = (data.get("id") or [""])[0]
        found = subs.unsubscribe_by_id(ctx.session, ctx.user, int(raw_id), ctx.batch) if (
            ctx.user is not None and raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 10) else None
        if found is None:
            return with_quick_replies([text(t("That notification was not found. Type \"my licenses\" to see yours."))], t)
        label = found.label
        return with_quick_replies([text(t("Notifications for %(target)s are off. You will get nothing more about it "
                                          "unless you ask.", target=label))], t)
    if action == "language" and ctx.user is not None:
        ctx.choose_language("en" if t.lang == "th" else "th")
        t = ctx.t
        reply = t("Language set to Thai.") if t.lang == "th" else t("Language set to English.")
        return with_quick_replies([text(reply), text(help_text(t))], t)
    return with_quick_replies([text(help_text(t))], t)


@registry.on(MessageEvent)
def on_other_message(event: MessageEvent, ctx: ChatContext) -> Messages:
    """Stickers, images, audio, files, locations: we read text only (during a conversation with
    staff they are noted for staff, and the bot says nothing)."""
    message = getattr(event, "message", None)
    if handoff.keep_for_staff(getattr(message, "type", None) or "message", ctx):
        return []
    t = ctx.t
    return with_quick_replies([text(t("Sorry, I can only read text. Please type an invoice number or a license number."))], t)


@registry.on(UnknownEvent)
def on_unknown(event: UnknownEvent, ctx: ChatContext) -> Messages:
    """Event types newer than our SDK. A message of a new kind still gets the polite ask."""
    if event.type == "message":
        return on_other_message(event, ctx)
    return []
