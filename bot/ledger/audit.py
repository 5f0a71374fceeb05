"""`tisi-pay audit verify` and `tisi-pay audit digest`.

verify re-checks, in this order, and stops at the first problem (its message names the link,
row or invoice): the chain (every link follows the one before, points at a row that exists,
and carries that row's hash); every audit entry, bank message and statement has a link (a row
inserted behind the application's back has none); each signed bank message's signature, with
BANK_WEBHOOK_SECRET; digests published earlier (a rewrite of the whole chain changes them); and
every invoice's status, amount and paid amount recomputed from its audit entries, against the
`invoices` and `payments` rows (audit entries of an invoice that is gone are named too).
"""
from __future__ import annotations

import hmac
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Sequence

from sqlalchemy import Row, and_, func, select
from sqlalchemy.orm import Session

from bot.core.chain import FIELDS, GENESIS, canonical_amount, link_hash
from bot.core.dates import BANGKOK, utcnow
from bot.core.signing import bank_signature
from bot.data.chain import TABLES, content
from bot.data.models import AuditEntry, BankMessage, ChainLink, Invoice, Payment, Status
from bot.data.states import AuditAction, ChainKind, PaymentStatus

_BATCH = 2000


def entry(invoice_id: int, action: AuditAction, from_status: str | None, to_status: str | None, actor: str,
          **detail: object) -> AuditEntry:
    """An audit entry, built the one way every writer builds it (linked into the chain at commit).
    Amounts (Decimal) in the detail are written as strings with two decimals ("1000.00")."""
    detail = {k: canonical_amount(v) if isinstance(v, Decimal) else v for k, v in detail.items()}
    return AuditEntry(at=utcnow(), invoice_id=invoice_id, action=action, from_status=from_status,
                      to_status=to_status, actor=actor, detail=json.dumps(detail, ensure_ascii=False))


@dataclass
class Verdict:
    links: int = 0
    invoices: int = 0
    signatures: int = 0
    spooled: int = 0  # bank messages stored late, from the spool kept during a database outage
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def line(self) -> str:
        if self.problems:
            return "BROKEN: " + self.problems[0]
        spooled = (f"; {self.spooled} bank message(s) stored from the outage spool" if self.spooled else "")
        return (f"intact: {self.links} links, {self.signatures} bank signatures and {self.invoices} invoices "
                f"checked{spooled}")


def verify(session: Session, bank_secret: str | None, digests: Sequence[dict[str, Any]] = ()) -> Verdict:
    verdict = Verdict()
    verdict.spooled = session.scalar(select(func.count()).select_from(BankMessage)
                                     .where(BankMessage.spool_id.is_not(None))) or 0
    for check in (_chain, _unlinked, _signatures, _digests, _invoices):
        check(session, verdict, bank_secret=bank_secret, digests=digests)
        if verdict.problems:
            break
    return verdict


def _chain(session: Session, verdict: Verdict, **_: object) -> None:
    expected_seq, prev = 1, GENESIS
    last_seq = 0
    seen: set[tuple[str, int]] = set()
    while True:
        links = session.execute(select(ChainLink).where(ChainLink.seq > last_seq)
                                .order_by(ChainLink.seq).limit(_BATCH)).scalars().all()
        if not links:
            return
        rows = _rows_for(session, links)
        for link in links:
            where = f"link {link.seq} ({link.kind} {link.row_id})"
            if link.seq != expected_seq:
                verdict.problems.append(f"link {expected_seq} is missing (the next link is {link.seq}): "
                                        "links were deleted")
                return
            if link.prev_hash != prev:
                verdict.problems.append(f"{where} does not follow link {link.seq - 1}: a link was changed or removed")
                return
            row = rows.get((link.kind, link.row_id))
            if row is None:
                verdict.problems.append(f"{where}: the {link.kind} row is gone (deleted)")
                return
            if link_hash(prev, content(link.kind, row)) != link.hash:
                verdict.problems.append(f"{where}: the {link.kind} row's content does not match its hash "
                                        "(the row or this link was edited)")
                return
            if (link.kind, link.row_id) in seen:
                verdict.problems.append(f"{where}: the {link.kind} row is linked twice")
                return
            seen.add((link.kind, link.row_id))
            prev, expected_seq = link.hash, expected_seq + 1
            verdict.links += 1
        last_seq = links[-1].seq


def _rows_for(session: Session, links: Sequence[ChainLink]) -> dict[tuple[str, int], Row[Any]]:
    wanted: defaultdict[str, list[int]] = defaultdict(list)
    for link in links:
        wanted[link.kind].append(link.row_id)
    rows: dict[tuple[str, int], Row[Any]] = {}
    for kind, ids in wanted.items():
        table = TABLES[ChainKind(kind)].__table__
        columns = [table.c[name] for name in FIELDS[kind]]  # only what the link covers (not a receipt's PDF)
        rows.update(((kind, r.id), r) for r in session.execute(select(*columns).where(table.c.id.in_(ids))))
    return rows


def _unlinked(session: Session, verdict: Verdict, **_: object) -> None:
    for kind, model in TABLES.items():
        linked = select(ChainLink.row_id).where(ChainLink.kind == kind)
        key = model.__table__.c.id
        first = session.scalar(select(func.min(key)).where(key.not_in(linked)))
        if first is not None:
            verdict.problems.append(f"{kind} {first} is not in the chain: written outside the application, "
                                    "or its link was deleted")
            return


# Releases before 0.2 stored two kinds of request without authenticating them: refused with 401,
# and refused for size (2002 "body too large") before the signature was looked at. Anyone could
# send those, so their signature headers prove nothing; since 0.2 neither is stored at all.
UNAUTHENTICATED_SIZE_REFUSAL = "%body too large%"


def _signatures(session: Session, verdict: Verdict, *, bank_secret: str | None, **_: object) -> None:
    """Messages the bank signed and we authenticated: the signature must still match the stored body."""
    if not bank_secret:
        return
    query = (select(BankMessage.id, BankMessage.request_body, BankMessage.bank_timestamp, BankMessage.bank_signature)
             .where(BankMessage.bank_signature.is_not(None), BankMessage.http_status != 401,
                    ~and_(BankMessage.resp_code == "2002", BankMessage.response_body.like(UNAUTHENTICATED_SIZE_REFUSAL)))
             .order_by(BankMessage.id))
    for row in session.execute(query).yield_per(_BATCH):
        expected = bank_signature(bank_secret, row.bank_timestamp or "", row.request_body.encode())
        if not hmac.compare_digest(expected, row.bank_signature):
            verdict.problems.append(f"bank message {row.id}: the bank's signature does not match its body")
            return
        verdict.signatures += 1


def _digests(session: Session, verdict: Verdict, *, digests: Sequence[dict[str, Any]], **_: object) -> None:
    for published in digests:
        link = session.get(ChainLink, published["last_seq"])
        if link is None or link.hash != published["last_hash"]:
            verdict.problems.append(f"the digest of {published.get('date', '?')} (link {published['last_seq']}) does "
                                    "not match the chain: it was rewritten after that digest was published")
            return


def _invoices(session: Session, verdict: Verdict, **_: object) -> None:
    """Replay each invoice's audit entries; compare with what the tables say now."""
    replayed: dict[int, dict[str, Any]] = {}
    for e in session.execute(select(AuditEntry.invoice_id, AuditEntry.action, AuditEntry.detail)
                             .order_by(AuditEntry.id)).yield_per(_BATCH):
        state = replayed.setdefault(e.invoice_id, {"status": None, "amount": None, "paid": Decimal("0"), "payments": 0})
        detail = json.loads(e.detail or "{}")
        if e.action == AuditAction.CREATED:
            state.update(status=Status.UNPAID, amount=Decimal(detail["amount"]))
        elif e.action == AuditAction.AMOUNT_CHANGED:
            state["amount"] = Decimal(detail["to"])
        elif e.action == AuditAction.PAID:
            state["status"] = Status.PAID
            state["paid"] += Decimal(detail["amount"])
            state["payments"] += 1
        elif e.action == AuditAction.REVERSED:
            state["status"] = Status.UNPAID
            state["paid"] -= Decimal(detail["amount"])
            state["payments"] -= 1
        elif e.action == AuditAction.CANCELLED:
            state["status"] = Status.CANCELLED
    paid: dict[int, list[Any]] = defaultdict(lambda: [0, Decimal("0")])  # invoice -> [count, total]
    for p in session.execute(select(Payment.invoice_id, Payment.amount)
                             .where(Payment.status == PaymentStatus.CONFIRMED)).yield_per(_BATCH):
        paid[p.invoice_id][0] += 1
        paid[p.invoice_id][1] += p.amount
    for inv in session.execute(select(Invoice.id, Invoice.invoice_no, Invoice.status, Invoice.amount)
                               .order_by(Invoice.id)).yield_per(_BATCH):
        found = replayed.pop(inv.id, None)
        where = f"invoice {inv.invoice_no}"
        if found is None or found["status"] is None:
            verdict.problems.append(f"{where} has no audit entry of its creation: written outside the application")
            return
        state = found
        if inv.status != state["status"]:
            verdict.problems.append(f"{where} is {inv.status} in the invoices table, {state['status']} by its audit entries")
            return
        if inv.amount != state["amount"]:
            verdict.problems.append(f"{where} is for {inv.amount:.2f} baht in the invoices table, {state['amount']:.2f} "
                                    "by its audit entries")
            return
        count, total = paid.get(inv.id, (0, Decimal("0")))
        if count != state["payments"] or total != state["paid"]:
            verdict.problems.append(f"{where}: the payments table holds {count} confirmed payment(s) of "
                                    f"{total:.2f} baht, its audit entries {state['payments']} of {state['paid']:.2f}")
            return
        verdict.invoices += 1
    if replayed:  # what is left has audit entries and no invoice
        verdict.problems.append(f"invoice id {min(replayed)} has audit entries, which the invoices table no longer "
                                "holds (deleted)")


# -- digest -------------------------------------------------------------------------------------
def digest(session: Session, day: date) -> dict[str, Any]:
    """The last link written on or before that day (Bangkok) and what the day added: to publish
    or send upstream, so that a later rewrite of the chain can be caught against it."""
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BANGKOK)
    start = datetime.combine(day, time(0), tzinfo=BANGKOK)
    last = session.execute(select(ChainLink.seq, ChainLink.hash).where(ChainLink.linked_at < end)
                           .order_by(ChainLink.seq.desc()).limit(1)).first()
    counts: dict[str, int] = {kind: n for kind, n in session.execute(select(ChainLink.kind, func.count()).where(
        ChainLink.linked_at >= start, ChainLink.linked_at < end).group_by(ChainLink.kind))}
    return {"date": day.isoformat(), "last_seq": last.seq if last else 0, "last_hash": last.hash if last else GENESIS,
            "links_that_day": sum(counts.values()),
            "audit_entries": counts.get(ChainKind.AUDIT, 0), "bank_messages": counts.get(ChainKind.BANK, 0),
            "statements": counts.get(ChainKind.STATEMENT, 0), "receipts": counts.get(ChainKind.RECEIPT, 0),
            "staff_actions": counts.get(ChainKind.STAFF, 0)}


