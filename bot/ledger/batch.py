"""What a batch of chat events asks the database anyway, asked once for the whole batch.

A worker handles up to 64 webhook events in one transaction (`bot.runtime.inbox`). Each
handler used to look up its user, whether a conversation with staff is open for them, whether
they have notices on, and the invoices its message names: four statements per event, each a
round trip the worker waited for. `Batch.load` asks these for the whole batch at once (creating
the new users in one statement, in one order, so workers never deadlock over them; reading the
invoices the messages name as an answer reads them, FOR SHARE). The worker hands the batch to
each handler (`ChatContext.batch`), which passes it to the ledger functions that can use it
(their `batch` argument); without one they ask the database as before. The sets are
"perhaps" sets: a user not in one has no open conversation (no active subscription); a user in
one is looked up as before. A handler that opens a conversation or subscribes adds its user.

Watches recorded by the handlers are inserted together at the end of the batch (`flush`), in
the same transaction and so still before the commit that a payment of the invoice waits for
(see `bot.ledger.locks`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from bot.core.dates import utcnow
from bot.core.textparse import parse_message
from bot.data.db import insert_ignore_rows
from bot.data.models import Conversation, Invoice, LineUser, Subscription, Watch
from bot.ledger.locks import for_answer

LOOK_AHEAD = 5  # numbers per message read ahead; a handler answers at most 2 (more are looked up as before)


@dataclass
class Batch:
    users: dict[str, LineUser] = field(default_factory=dict)  # by LINE user ID
    maybe_open_conversation: set[int] = field(default_factory=set)  # line_users.id
    maybe_subscribed: set[int] = field(default_factory=set)  # line_users.id
    invoices: dict[str, Invoice | None] = field(default_factory=dict)  # by number; None: there is none
    license_invoices: dict[str, list[Invoice]] = field(default_factory=dict)  # by license number
    watches: list[dict[str, Any]] = field(default_factory=list)  # to insert at the end of the batch

    @classmethod
    def load(cls, session: Session, user_ids: set[str], texts: Sequence[str] = ()) -> Batch:
        """The batch's users (new ones created) and what is known of them, and the invoices its
        text messages name."""
        batch = cls()
        batch._read_invoices(session, texts)
        if user_ids:
            batch.users = _users(session, sorted(user_ids))
            ids = [user.id for user in batch.users.values()]
            open_or_subscribed = union_all(  # one round trip for both
                select(literal(True), Conversation.line_user_id).where(Conversation.line_user_id.in_(ids),
                                                                       Conversation.closed_at.is_(None)),
                select(literal(False), Subscription.line_user_id).where(Subscription.line_user_id.in_(ids),
                                                                        Subscription.withdrawn_at.is_(None)))
            for conversation, user_id in session.connection().execute(open_or_subscribed):
                (batch.maybe_open_conversation if conversation else batch.maybe_subscribed).add(user_id)
        return batch

    def _read_invoices(self, session: Session, texts: Sequence[str]) -> None:
        invoice_numbers: set[str] = set()
        license_numbers: set[str] = set()
        for message in texts:
            parsed = parse_message(message)
            invoice_numbers.update(parsed.invoice_numbers[:LOOK_AHEAD])
            license_numbers.update(parsed.license_numbers[:LOOK_AHEAD])
        if invoice_numbers:
            self.invoices = dict.fromkeys(invoice_numbers)
            for invoice in session.scalars(for_answer(select(Invoice).where(Invoice.invoice_no.in_(invoice_numbers))
                                                      .order_by(Invoice.id))):
                self.invoices[invoice.invoice_no] = invoice
        if license_numbers:
            self.license_invoices = {number: [] for number in license_numbers}
            for invoice in session.scalars(for_answer(select(Invoice).where(Invoice.license_no.in_(license_numbers))
                                                      .order_by(Invoice.due_date, Invoice.id))):
                self.license_invoices[invoice.license_no or ""].append(invoice)  # (it was selected by it)

    def add_watch(self, **values: Any) -> None:
        self.watches.append(values)

    @staticmethod
    def settle(session: Session, batch: Batch | None) -> None:
        """Insert the batch's watches now: called before anything reads or deletes watches."""
        if batch is not None and batch.watches:
            batch.insert_watches(session)

    def end(self, session: Session) -> None:
        """The handlers are done: insert their watches."""
        self.insert_watches(session)

    def insert_watches(self, session: Session) -> None:
        """One statement per shape of watch, rows in one order (two workers never lock them crosswise)."""
        rows = {(w["line_user_id"], w.get("invoice_id"), w.get("license_no")): w for w in self.watches}
        by_column: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for key in sorted(rows, key=lambda k: (k[0], k[1] or 0, k[2] or "")):
            by_column.setdefault(tuple(rows[key]), []).append(rows[key])
        for same in by_column.values():  # an invoice's watch and a license's have different columns
            insert_ignore_rows(session, Watch.__table__, same)
        self.watches.clear()


def _users(session: Session, user_ids: list[str]) -> dict[str, LineUser]:
    found = {u.user_id: u for u in session.scalars(select(LineUser).where(LineUser.user_id.in_(user_ids)))}
    missing = [user_id for user_id in user_ids if user_id not in found]
    if missing:
        now = utcnow()
        insert_ignore_rows(session, LineUser.__table__, [
            {"user_id": user_id, "language": "th", "followed": True, "created_at": now, "updated_at": now}
            for user_id in missing])  # sorted: two workers creating the same users lock them in one order
        found.update({u.user_id: u for u in session.scalars(select(LineUser).where(LineUser.user_id.in_(missing)))})
    return found
