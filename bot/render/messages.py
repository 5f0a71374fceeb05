"""Chat messages in LINE's JSON shape, in the user's language. Every sentence from the catalogs."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Callable
from urllib.parse import urlencode

from babel.lists import format_list

from bot.core.dates import (
    format_datetime_local,
    format_long_date,
    format_short_date,
    to_bangkok,
    today_bangkok,
)
from bot.core.i18n import N_, Translator
from bot.core.masking import mask_name
from bot.core.money import format_number
from bot.data.models import Invoice, Payment, Status, Subscription
from bot.data.states import InvoiceStatus, PaymentStatus, ReconcileOutcome
from bot.render.templates import render

FEE_NAMES = {
    "APPLICATION": N_("Application fee"),
    "LICENSE": N_("License fee"),
    "ANNUAL": N_("Annual fee"),
    "INSPECTION": N_("Inspection fee"),
    "CERTIFICATION": N_("Certification fee"),
    "TRANSLATION": N_("Translation fee"),
    "STANDARD_BOOK": N_("TIS standard book"),
    "OTHER": N_("Other fee"),
}
STATUS_NAMES: dict[str, str] = {  # by InvoiceStatus (a str)
    Status.UNPAID: N_("Unpaid"),
    Status.PAID: N_("Paid"),
    Status.EXPIRED: N_("Expired"),
    Status.CANCELLED: N_("Cancelled"),
}
STATUS_COLORS = {Status.UNPAID: "#C05600", Status.PAID: "#1E8E3E", Status.EXPIRED: "#888888", Status.CANCELLED: "#888888"}
HEADER_COLOR = "#1B4F9C"
# One line of a reconciliation report (the console's and `tisi-pay reconcile --lang th`'s).
OUTCOME_NAMES: dict[str, str] = {  # by ReconcileOutcome (a str)
    ReconcileOutcome.MATCHED: N_("matched"), ReconcileOutcome.MATCHED_REVERSAL: N_("reversal matched"),
    ReconcileOutcome.AMOUNT_MISMATCH: N_("amount differs"), ReconcileOutcome.UNKNOWN_INVOICE: N_("unknown invoice"),
    ReconcileOutcome.IN_FILE_NOT_ONLINE: N_("in the file, never confirmed online"),
    ReconcileOutcome.REVERSAL_NOT_ONLINE: N_("reversal in the file only"),
    ReconcileOutcome.ONLINE_NOT_IN_FILE: N_("confirmed online, missing from the file"),
}

CHANNEL_NAMES = {
    "QR": N_("Thai QR"),
    "MOBILE": N_("Mobile banking"),
    "ATM": N_("ATM"),
    "BRANCH": N_("Bank branch"),
    "COUNTER": N_("Counter service"),
}
# What the card's amount is, by status: only an unpaid invoice has an amount "to pay".
AMOUNT_LABELS = {
    Status.UNPAID: N_("Amount due"),
    Status.PAID: N_("Paid"),  # "ชำระแล้ว 1,000.00 บาท", the date in the note below
    Status.EXPIRED: N_("Invoice amount"),
    Status.CANCELLED: N_("Invoice amount"),
}
MAX_CHOICES = 12  # a carousel holds at most 12 bubbles


@dataclass(frozen=True)
class Links:
    """Public URLs for an invoice (QR image, tracking page, pay-in slip) and a receipt."""

    qr_url: Callable[[Invoice], str]
    track_url: Callable[[Invoice], str]
    slip_url: Callable[[Invoice], str]
    receipt_url: Callable[[str], str] = lambda key: ""  # of a receipt's key (bot.ledger.receipts.receipt_key)


def baht(amount: Decimal, t: Translator) -> str:
    return t("%(amount)s baht", amount=format_number(amount, t.lang))


def text(message: str) -> dict:
    return {"type": "text", "text": message[:5000]}


def with_quick_replies(messages: list[dict], t: Translator, *, invoice_no: str | None = None,
                       subscribe: str | None = None, subscribed: bool = False, staff: bool = False,
                       slip_photo: bool = False, end_chat: bool = False) -> list[dict]:
    """Quick replies for the next likely step, on the last message (LINE shows them only there).

    `subscribe`: a license number (or an invoice number without license) the user may ask to be
    told about: the "🔔" quick reply, a postback that the consent answer follows; or, when the
    user is `subscribed` to it already, the one that stops the notices."""
    items = []
    if subscribe:
        key = "no" if subscribe.isdigit() else "license"
        if subscribed:
            label, action = t("Stop notices"), "unsubscribe"
            shown = t("Stop notices about %(number)s", number=subscribe)
        else:
            label, action = t("🔔 Notify me"), "subscribe"
            shown = t("Notify me about %(number)s", number=subscribe)
        items.append({"type": "action", "action": {
            "type": "postback", "label": label[:20], "data": urlencode({"action": action, key: subscribe}),
            "displayText": shown[:300]}})
    if end_chat:  # under the acknowledgement of a message passed to staff
        items.append(_quick(t("End chat"), t("end chat")))
    if slip_photo:  # the phone's photo roll: the e-slip the user saved after paying
        items.append({"type": "action", "action": {"type": "cameraRoll", "label": t("📷 Send the e-slip")[:20]}})
    if invoice_no:
        items.append(_quick(t("Check status"), t("Status %(number)s", number=invoice_no)))
    items.append(_quick(t("Help"), t("help")))
    if staff:  # under the help: the way to a person
        items.append(_quick(t("Talk to staff"), t("talk to staff")))
    items.append(_quick("English", "English") if t.lang == "th" else _quick("ภาษาไทย", "ภาษาไทย"))
    if messages:
        messages[-1] = {**messages[-1], "quickReply": {"items": items}}
    return messages


def _quick(label: str, message: str) -> dict:
    return {"type": "action", "action": {"type": "message", "label": label[:20], "text": message}}


def said_paid_but_unpaid(inv: Invoice, t: Translator, links: Links) -> tuple[dict, dict]:
    """To put before and after the card of an invoice the user says is paid while it is not
    (yet): when the bank tells us and that the user will be told, where to follow it, the e-slip
    and staff; then, under the QR, not to pay twice."""
    before = text(t(
        "If you have paid, Krungthai confirms the payment to us within a few minutes, and we will tell you in this "
        "chat as soon as it does. You can follow invoice %(number)s here: %(url)s\nStill unpaid after an hour? "
        "Send a photo of your bank's e-slip, or talk to staff.", number=inv.invoice_no, url=links.track_url(inv)))
    after = text(t("Please do not pay twice: use this QR only if you have not paid yet."))
    return before, after


def invoice_messages(inv: Invoice, t: Translator, links: Links, today: date | None = None) -> list[dict]:
    """The invoice card and, while it is payable, the QR image."""
    today = today or today_bangkok()
    status = inv.effective_status(today)
    messages = [invoice_card(inv, status, t, links)]
    if status == Status.UNPAID:
        url = links.qr_url(inv)
        messages.append({"type": "image", "originalContentUrl": url, "previewImageUrl": url})
    return messages


_CARDS: OrderedDict[tuple, dict] = OrderedDict()
_CARDS_MAX = 4096
_CARDS_LOCK = threading.Lock()


def invoice_card(inv: Invoice, status: InvoiceStatus, t: Translator, links: Links) -> dict:
    """The card, rendered once per version of the invoice and language: a business that asks again
    gets the same bubble (rendering, with Babel's number and date formatting, was a tenth of the
    work of an answer). The key holds every value the card shows, so any change renders anew."""
    key = (inv.id, inv.invoice_no, inv.ref2, inv.license_no, inv.payer_name, inv.fee_code, inv.description,
           inv.amount, inv.due_date, inv.paid_at, inv.public_id, status, t.lang, id(links))
    with _CARDS_LOCK:
        card = _CARDS.get(key)
        if card is not None:
            _CARDS.move_to_end(key)
            return dict(card)
    card = _render_card(inv, status, t, links)
    with _CARDS_LOCK:
        _CARDS[key] = card
        if len(_CARDS) > _CARDS_MAX:
            _CARDS.popitem(last=False)
    return dict(card)


def _render_card(inv: Invoice, status: InvoiceStatus, t: Translator, links: Links) -> dict:
    rows = [
        _row(t("Invoice no. (Ref.1)"), inv.invoice_no),
        _row(t("Ref.2"), inv.ref2),
        _row(t("Due date"), format_long_date(inv.due_date, t.lang)),
        _row(t("Payer"), mask_name(inv.payer_name)),
    ]
    if inv.license_no:
        rows.append(_row(t("License no."), inv.license_no))
    if inv.description:
        rows.append(_row(t("Details"), inv.description[:300]))
    if status == Status.UNPAID:
        note = t("Scan the QR code below with Krungthai NEXT or any Thai bank app to pay.")
    elif status == Status.PAID:
        when = format_datetime_local(inv.paid_at, t.lang) if inv.paid_at else ""
        note = t("Paid on %(when)s. Thank you.", when=when)
    elif status == Status.EXPIRED:
        note = t("This invoice expired on %(date)s. Please contact TISI for a new invoice.",
                 date=format_long_date(inv.due_date, t.lang))
    else:
        note = t("This invoice was cancelled. There is nothing to pay.")
    buttons = [(t("Track payment"), links.track_url(inv))]
    if status == Status.UNPAID:  # branches and ATMs take the printed slip; only while it can be paid
        buttons.append((t("Print pay-in slip"), links.slip_url(inv)))
    footer = {
        "type": "box", "layout": "vertical",
        "contents": [{"type": "button", "style": "link", "height": "sm",
                      "action": {"type": "uri", "label": label[:40], "uri": uri}} for label, uri in buttons],
    }
    bubble = render(
        "invoice_card",
        header_color=HEADER_COLOR,
        institute=t("Thai Industrial Standards Institute (TISI)"),
        fee_name=t(FEE_NAMES[inv.fee_code]),
        amount_label=t(AMOUNT_LABELS[status]),
        amount=baht(inv.amount, t),
        status=t(STATUS_NAMES[status]),
        status_color=STATUS_COLORS[status],
        rows=rows,
        note=note,
        footer=footer,
    )
    alt = t("Invoice %(number)s: %(amount)s (%(status)s)", number=inv.invoice_no,
            amount=baht(inv.amount, t), status=t(STATUS_NAMES[status]))
    return {"type": "flex", "altText": alt[:1500], "contents": bubble}


def _row(label: str, value: str) -> dict:
    return render("row", label=label, value=value)


def license_choices(license_no: str, invoices: list[Invoice], t: Translator) -> list[dict]:
    """Several unpaid invoices of one license: a carousel with a button per invoice."""
    shown = invoices[:MAX_CHOICES]
    bubbles = [
        render(
            "choice_bubble",
            fee_name=t(FEE_NAMES[inv.fee_code]),
            amount=baht(inv.amount, t),
            due=t("Due %(date)s", date=format_short_date(inv.due_date, t.lang)),
            invoice_no=inv.invoice_no,
            button=t("Pay this invoice")[:40],
            postback=f"action=invoice&no={inv.invoice_no}",
            display_text=t("Pay invoice %(number)s", number=inv.invoice_no),
        )
        for inv in shown
    ]
    intro = t("License %(license)s has %(count)s unpaid invoices. Choose one to pay.",
              license=license_no, count=len(invoices))
    messages = [text(intro), {"type": "flex", "altText": intro, "contents": {"type": "carousel", "contents": bubbles}}]
    if len(invoices) > len(shown):
        messages.append(text(t("Showing the first %(shown)s. Send an invoice number to see another.", shown=len(shown))))
    return messages


def receipt_choices(found: list[tuple[str, str, Payment, Invoice]], t: Translator) -> list[dict]:
    """The user's own receipts (number, link, payment, invoice), newest first: a carousel with a
    button to each PDF."""
    bubbles = [
        render("receipt_choice", fee_name=t(FEE_NAMES[inv.fee_code]), amount=baht(payment.amount, t),
               paid=t("Paid %(date)s", date=format_short_date(to_bangkok(payment.transacted_at).date(), t.lang)),
               receipt_no=t("Receipt %(receipt)s", receipt=number), invoice_no=t("Invoice %(number)s",
                                                                                   number=inv.invoice_no),
               button=t("Receipt")[:40], url=url)
        for number, url, payment, inv in found[:MAX_CHOICES]
    ]
    intro = t("Your receipts in this chat: choose one to open it.")
    return [text(intro), {"type": "flex", "altText": intro, "contents": {"type": "carousel", "contents": bubbles}}]


def help_text(t: Translator) -> str:
    return t(
        "Send me an invoice number (16 digits) or a license number, and I will show what is owed "
        "with a Thai QR code you can pay with any Thai bank app.\n\nExamples:\n"
        "• 2568110400012345\n• pay invoice 2568-1104-0001-2345\n• license ท 5137-2/10\n\n"
        "Type \"English\" or \"ภาษาไทย\" to change the language."
    )


def receipt(inv: Invoice, payment: Payment, t: Translator, *, reversed_: bool, receipt_url: str | None = None) -> dict:
    """The paid (or reversed) notice pushed after the bank's confirmation; a paid one carries the
    "ใบเสร็จรับเงิน" button when a receipt was issued."""
    rows = [
        _row(t("Invoice no. (Ref.1)"), inv.invoice_no),
        _row(t("Paid on") if not reversed_ else t("Reversed on"),
             format_datetime_local(payment.reversed_at or payment.transacted_at if reversed_ else payment.transacted_at,
                                   t.lang)),
        _row(t("Bank reference"), payment.bank_ref),
        _row(t("Channel"), t(CHANNEL_NAMES.get(payment.channel, payment.channel))),
    ]
    if reversed_:
        title = t("Payment reversed")
        note = t("The bank reversed this payment. Invoice %(number)s is unpaid again.", number=inv.invoice_no)
        color = "#888888"
    else:
        title = t("Payment received")
        note = t("Thank you. TISI has received your payment.")
        color = "#1E8E3E"
    footer = None if not receipt_url else {
        "type": "box", "layout": "vertical",
        "contents": [{"type": "button", "style": "primary", "height": "sm", "color": color,
                      "action": {"type": "uri", "label": t("Receipt")[:40], "uri": receipt_url}}],
    }
    bubble = render("receipt", header_color=color, title=title, fee_name=t(FEE_NAMES[inv.fee_code]),
                    amount=baht(payment.amount, t), rows=rows, note=note, footer=footer)
    alt = t("%(title)s: invoice %(number)s, %(amount)s", title=title, number=inv.invoice_no, amount=baht(payment.amount, t))
    return {"type": "flex", "altText": alt[:1500], "contents": bubble}


# -- subscriptions, history, proactive notices ---------------------------------------------------
def consent_sentence(target: str, reminder_days: tuple[int, ...], t: Translator) -> str:
    """What a subscription sends and how to stop it, in one sentence: shown, and kept as the consent."""
    numbers = [str(d) for d in reminder_days]
    if t.lang == "th":  # CLDR's Thai list has no spaces ("7และ1"); beside digits Thai writes them
        days = " และ ".join([", ".join(numbers[:-1]), numbers[-1]] if len(numbers) > 1 else numbers)
    else:
        days = format_list(numbers, locale="en_US")
    return t("🔔 Notifications on for %(target)s: in this chat you will get each new invoice, a reminder "
             "%(days)s days before the due date, an overdue notice and the paid notice; to stop, type "
             "\"unsubscribe %(target)s\" at any time.", target=target, days=days or "0")


def subscriptions_list(subscriptions: list[Subscription], t: Translator) -> dict:
    """The user's active subscriptions, each with a button to stop it."""
    items = [
        render("subscription_item",
               target=(t("License %(license)s", license=sub.license_no) if sub.license_no
                       else t("Invoice %(number)s", number=sub.label)),
               since=t("Since %(date)s", date=format_short_date(to_local_date(sub.created_at), t.lang)),
               button=t("Stop notifications")[:40],
               data=urlencode({"action": "unsubscribe", "id": sub.id}),
               display_text=t("Stop notifications for %(target)s", target=sub.label)[:300])
        for sub in subscriptions
    ]
    title = t("My licenses")
    bubble = render("list_bubble", header_color=HEADER_COLOR, title=title,
                    subtitle=t("%(count)s with notifications on", count=len(subscriptions)), items=items,
                    note=t("To add one, type \"subscribe\" and the license number, e.g. subscribe ท 5137-2/10."))
    return {"type": "flex", "altText": f"{title} ({len(subscriptions)})", "contents": bubble}


def payment_history(rows: list[tuple[Payment, Invoice]], t: Translator) -> dict:
    """The user's last payments: BE date, amount, invoice, bank reference, channel."""
    items = []
    for payment, inv in rows:
        headline = f"{format_datetime_local(payment.transacted_at, t.lang)} · {baht(payment.amount, t)}"
        if payment.status == PaymentStatus.REVERSED:
            headline += " (" + t("Payment reversed") + ")"
        items.append(render("history_item", headline=headline, rows=[
            _row(t("Invoice no. (Ref.1)"), inv.invoice_no),
            _row(t("Fee"), t(FEE_NAMES[inv.fee_code])),
            _row(t("Bank reference"), payment.bank_ref),
            _row(t("Channel"), t(CHANNEL_NAMES.get(payment.channel, payment.channel))),
        ]))
    title = t("Payment history")
    bubble = render("list_bubble", header_color=HEADER_COLOR, title=title,
                    subtitle=t.plural("The last payment", "The last %(count)s payments", len(rows)), items=items,
                    note=t("Payments of your subscribed licenses and of the invoices you asked about."))
    return {"type": "flex", "altText": title, "contents": bubble}


def proactive_messages(kind: str, days_left: int, inv: Invoice, t: Translator, links: Links,
                       support: str = "", today: date | None = None) -> list[dict]:
    """A new invoice, a reminder before its due date, or the overdue notice: a sentence, the card
    and, while payable, the QR."""
    due = format_long_date(inv.due_date, t.lang)
    if kind == "new":
        intro = t("🧾 A new invoice for %(target)s: %(amount)s, due %(date)s.",
                  target=inv.license_no or inv.invoice_no, amount=baht(inv.amount, t), date=due)
    elif kind == "overdue":
        intro = t("⚠️ Invoice %(number)s (%(amount)s) was due on %(date)s and is not paid. Please contact TISI "
                  "for a new invoice.", number=inv.invoice_no, amount=baht(inv.amount, t), date=due)
        if support:
            intro += " " + t("Contact") + ": " + support
    elif days_left == 0:
        intro = t("⏰ Invoice %(number)s (%(amount)s) is due today, %(date)s.",
                  number=inv.invoice_no, amount=baht(inv.amount, t), date=due)
    else:
        intro = t("⏰ Invoice %(number)s (%(amount)s) is due in %(days)s days, on %(date)s.",
                  number=inv.invoice_no, amount=baht(inv.amount, t), days=days_left, date=due)
    return [text(intro), *invoice_messages(inv, t, links, today)]


def to_local_date(moment) -> date:
    return to_bangkok(moment).date()
