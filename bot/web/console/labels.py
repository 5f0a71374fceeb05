"""Labels of the codes the console shows (translated where shown): one table per kind of code."""
from __future__ import annotations

from bot.core.i18n import N_
from bot.data.states import NoticeStatus

# What happened to an invoice, in its story and the queues.
WHAT_NAMES = {
    "created": N_("created"), "amount_changed": N_("amount changed"), "paid": N_("paid"), "reversed": N_("reversed"),
    "cancelled": N_("cancelled"), "double_payment": N_("double payment (refused; refund)"),
    "asked": N_("a LINE user asked about it"), "confirmed": N_("confirmed"),
    NoticeStatus.PENDING: N_("queued"), NoticeStatus.SENT: N_("delivered"), NoticeStatus.FAILED: N_("failed"),
    "issued": N_("issued"), "void": N_("void"), "document": N_("PDF made"),
    "payment": N_("payment request"), "reversal": N_("reversal request"),
}

# Who changed an invoice's money state (audit entries' actor).
ACTOR_NAMES = {
    "bank": N_("the bank"), "import": N_("file import"), "api": N_("the Institute's systems (API)"),
    "demo": N_("demo data"),
}

# The notices of an invoice's story, by their event ("paid", "remind7", "upstream:paid").
NOTICE_EVENT_NAMES = {
    "new": N_("new invoice"), "overdue": N_("overdue"), "paid": N_("paid notice"), "reversed": N_("reversal notice"),
    "upstream:paid": N_("paid, to the Institute's systems"),
    "upstream:reversed": N_("reversal, to the Institute's systems"),
}
