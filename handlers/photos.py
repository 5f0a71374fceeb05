"""Photos (and image or PDF files): answered from what the photo pool read in them
(bot/runtime/photos.py) — the invoice's card for our bill payment, the payment for a bank e-slip,
or why nothing can be said. Never a guess."""
from __future__ import annotations

from typing import TYPE_CHECKING

from linebot.v3.webhooks import FileMessageContent, ImageMessageContent, MessageEvent

from bot.core.dates import format_datetime_local, utcnow
from bot.core.i18n import N_
from bot.core.photocodes import PhotoOutcome
from bot.ledger import invoices as svc
from bot.ledger import payments, photo_reads
from bot.render.messages import baht, invoice_messages, text, with_quick_replies
from handlers.chat import on_other_message
from handlers.registry import ChatContext, Messages, registry

if TYPE_CHECKING:
    from bot.data.models import PhotoRead

_HOW_TO = N_("I could not read a payment code in this photo. Please take the photo again: lay the slip flat, in "
             "bright light, with the whole slip (or the whole QR code) in the frame — or type the invoice number.")
_REFUSED = {
    "too_large": N_("This file is too large for me to read (more than 20 MB). Please send a photo or a screenshot "
                    "of the slip instead."),
    "too_many_pixels": N_("This image is too large for me to read. Please send a photo or a screenshot of the "
                          "slip instead."),
}
_NOT_READABLE_FILE = N_("I could not open this file as an image or a PDF. Please send a photo or a screenshot of the "
                        "slip, or type the invoice number.")


@registry.on(MessageEvent, ImageMessageContent)
@registry.on(MessageEvent, FileMessageContent)
def on_photo(event: MessageEvent, ctx: ChatContext) -> Messages:
    t = ctx.t
    read = photo_reads.of_message(ctx.session, event.message.id)
    if read is None:  # not fetched: a file that is no image or PDF, or an image LINE does not hold
        return on_other_message(event, ctx)
    read.answered_at = read.answered_at or utcnow()
    outcome = PhotoOutcome(read.outcome)
    if outcome is PhotoOutcome.OUR_BILL:
        return _our_bill(read, ctx)
    if outcome is PhotoOutcome.ESLIP:
        return with_quick_replies([_eslip(read, ctx)], t)
    if outcome is PhotoOutcome.NOT_OURS:
        return with_quick_replies([text(t("This is not a TISI invoice: the code in this photo pays someone else. "
                                          "To pay a TISI fee, send the invoice number or a photo of the TISI "
                                          "pay-in slip."))], t)
    if outcome is PhotoOutcome.NOT_FETCHED:
        return with_quick_replies([text(t("I could not get this photo from LINE just now: LINE's servers did not "
                                          "answer. Please send it again in a few minutes, or type the invoice "
                                          "number."))], t)
    if outcome is PhotoOutcome.GONE:
        return with_quick_replies([text(t("I could not get this photo from LINE (it was unsent or is no longer "
                                          "available). Please send it again."))], t)
    if outcome is PhotoOutcome.REFUSED:
        return with_quick_replies([text(t(_REFUSED.get(read.detail, _NOT_READABLE_FILE)))], t)
    return with_quick_replies([text(t(_HOW_TO))], t)  # unreadable, or codes of more than one invoice


def _our_bill(read: PhotoRead, ctx: ChatContext) -> Messages:
    t = ctx.t
    inv = svc.find_invoice(ctx.session, read.invoice_no or "", for_answer=True, batch=ctx.batch)
    if inv is None or (read.ref2 and inv.ref2 != read.ref2):
        return [text(t("The slip in this photo is for invoice %(number)s, which I could not find. Please contact TISI.",
                       number=read.invoice_no))]
    if ctx.user is not None:
        svc.remember_interest(ctx.session, ctx.user, invoice=inv, batch=ctx.batch)
    if _shown_in_this_set(read, ctx):
        return [text(t("Invoice %(number)s is shown above.", number=inv.invoice_no))]
    messages = invoice_messages(inv, t, ctx.links)
    if read.amount is not None and read.amount != inv.amount:
        messages.append(text(t("The amount on this slip (%(slip)s) is not the invoice's amount now (%(now)s). Please pay "
                               "%(now)s, with the QR above.", slip=baht(read.amount, t), now=baht(inv.amount, t))))
    return with_quick_replies(messages[:5], t, invoice_no=inv.invoice_no)


def _shown_in_this_set(read: PhotoRead, ctx: ChatContext) -> bool:
    """Several photos sent together: each is answered, but one invoice's card once."""
    if not read.image_set:
        return False
    return photo_reads.answered_before_in_set(ctx.session, read)


def _eslip(read: PhotoRead, ctx: ChatContext) -> dict:
    t = ctx.t
    found = payments.confirmed_by_bank_ref(ctx.session, read.trans_ref or "")
    if found is not None:
        payment, inv = found
        return text(t("Paid ✓ Krungthai confirmed this payment: invoice %(number)s, %(amount)s, on %(when)s "
                      "(bank reference %(ref)s).", number=inv.invoice_no, amount=baht(payment.amount, t),
                      when=format_datetime_local(payment.transacted_at, t.lang), ref=payment.bank_ref))
    return text(t("Krungthai has not confirmed a payment with reference %(ref)s to TISI yet. I will tell you here as "
                  "soon as it does. If nothing comes by the next working day, please contact TISI with this slip.",
                  ref=read.trans_ref))
