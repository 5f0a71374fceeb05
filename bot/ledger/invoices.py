"""Invoices: loading them (CSV, API), finding them, and remembering who asked."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.dates import utcnow
from bot.core.invoice_rows import (
    InvoiceData,
    RowError,
    missing_columns,
    validate_record,
)
from bot.core.tokens import new_public_id
from bot.data.db import insert_ignore
from bot.data.models import Invoice, LineUser, Status, Watch
from bot.data.states import AuditAction
from bot.ledger import audit
from bot.ledger.batch import Batch
from bot.ledger.locks import for_answer as _for_answer  # the lookups' keyword argument has its name

BATCH = 1000
_FIELDS = ("ref2", "license_no", "tax_id", "payer_name", "payer_branch", "fee_code", "description", "amount",
           "due_date", "payer_address", "payer_postcode")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line or index, reason)
    created_ids: list[int] = field(default_factory=list)  # for the new-invoice notices

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [{"line": n, "reason": r} for n, r in self.rejected],
        }


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (encoding, header)."""


ENCODINGS = {"utf-8": "utf-8-sig", "tis-620": "cp874"}  # TIS-620 as Windows-874, which Thai Excel writes


def read_csv_records(data: bytes, encoding: str = "utf-8") -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, record or None, error) per data row of an invoice CSV (UTF-8, BOM allowed;
    or TIS-620)."""
    try:
        text = data.decode(ENCODINGS[encoding])
    except UnicodeDecodeError as exc:
        if encoding == "utf-8":
            raise CsvFormatError(f"the file is not UTF-8 (byte {exc.start}): save it as CSV UTF-8, or import it "
                                 f"with --encoding tis-620 if it was saved as Thai (Windows-874)") from None
        raise CsvFormatError(f"the file is not {encoding} (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise CsvFormatError("the file is empty") from None
    header = [h.strip() for h in header]
    missing = missing_columns(header)
    if missing:
        raise CsvFormatError("missing columns: " + ", ".join(missing))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, None, f"unreadable CSV: {exc}"
            continue
        if not row or all(not c.strip() for c in row):
            continue  # blank line
        if len(row) != len(header):
            yield reader.line_num, None, f"expected {len(header)} columns, found {len(row)}"
            continue
        yield reader.line_num, dict(zip(header, row)), None


def upsert_invoices(session: Session, items: Iterable[tuple[int, object]], actor: str) -> ImportResult:
    """Validate and write invoices; a rejected item writes nothing. Re-importing changes nothing.

    `items` are (line number, record dict or an error string). Paid and cancelled invoices are
    not changed by a later import: their money state belongs to the bank and to staff.
    """
    result = ImportResult()
    seen: dict[str, int] = {}
    batch: list[tuple[int, InvoiceData]] = []
    for line, record in items:
        if isinstance(record, str):
            result.rejected.append((line, record))
            continue
        try:
            data = validate_record(record)  # type: ignore[arg-type]
        except RowError as exc:
            result.rejected.append((line, str(exc)))
            continue
        if data.invoice_no in seen:
            result.rejected.append((line, f"invoice_no {data.invoice_no} repeats line {seen[data.invoice_no]}"))
            continue
        seen[data.invoice_no] = line
        batch.append((line, data))
        if len(batch) >= BATCH:
            _write_batch(session, batch, result, actor)
            batch = []
    if batch:
        _write_batch(session, batch, result, actor)
    result.rejected.sort()
    return result


def _write_batch(session: Session, batch: list[tuple[int, InvoiceData]], result: ImportResult, actor: str) -> None:
    numbers = [d.invoice_no for _, d in batch]
    existing = {inv.invoice_no: inv for inv in session.scalars(select(Invoice).where(Invoice.invoice_no.in_(numbers)))}
    new_rows = []
    for line, data in batch:
        inv = existing.get(data.invoice_no)
        if inv is None:
            row = data.as_dict()
            row["public_id"] = new_public_id()
            row["status"] = Status.UNPAID
            new_rows.append(row)
            continue
        changes = {f: getattr(data, f) for f in _FIELDS if getattr(inv, f) != getattr(data, f)}
        if not changes:
            result.unchanged += 1
            continue
        if inv.status != Status.UNPAID:
            result.rejected.append((line, f"invoice {inv.invoice_no} is {inv.status}; it can no longer be changed"))
            continue
        if "amount" in changes:
            session.add(audit.entry(inv.id, AuditAction.AMOUNT_CHANGED, inv.status, inv.status, actor,
                                    **{"from": inv.amount, "to": data.amount}))
        for name, value in changes.items():
            setattr(inv, name, value)
        result.updated += 1
    if new_rows:
        session.add_all(Invoice(**row) for row in new_rows)
        session.flush()
        ids = session.execute(
            select(Invoice.id, Invoice.amount).where(Invoice.invoice_no.in_([r["invoice_no"] for r in new_rows]))
        ).all()
        session.add_all(audit.entry(i, AuditAction.CREATED, None, Status.UNPAID, actor, amount=amount)
                        for i, amount in ids)
        result.created += len(new_rows)
        result.created_ids += [i for i, _ in ids]
    session.flush()


def find_invoice(session: Session, invoice_no: str, *, for_answer: bool = False,
                 for_update: bool = False, batch: Batch | None = None) -> Invoice | None:
    """`for_answer`: the status read is shown to a user who is then watched (see `bot.ledger.locks`);
    `for_update`: its row locked, to change its money state (bot.ledger.payments); `batch`: the
    chat events' batch, which read it ahead for an answer."""
    if for_answer and batch is not None and invoice_no in batch.invoices:
        return batch.invoices[invoice_no]  # read ahead for the batch, as below
    query = select(Invoice).where(Invoice.invoice_no == invoice_no)
    if for_update:
        query = query.with_for_update()
    return session.scalar(_for_answer(query) if for_answer else query)


def by_public_id(session: Session, public_id: str) -> Invoice | None:
    """The invoice a link's token names (tracking page, QR image, slip)."""
    return session.scalar(select(Invoice).where(Invoice.public_id == public_id))


def invoices_for_license(session: Session, license_no: str, *, for_answer: bool = False,
                         batch: Batch | None = None) -> list[Invoice]:
    if for_answer and batch is not None and license_no in batch.license_invoices:
        return list(batch.license_invoices[license_no])  # read ahead for the batch, as below
    query = select(Invoice).where(Invoice.license_no == license_no).order_by(Invoice.due_date, Invoice.id)
    return list(session.scalars(_for_answer(query) if for_answer else query))




def get_or_create_user(session: Session, user_id: str, batch: Batch | None = None) -> LineUser:
    if batch is not None and user_id in batch.users:
        return batch.users[user_id]
    user = session.scalar(select(LineUser).where(LineUser.user_id == user_id))
    if user is None:
        now = utcnow()
        insert_ignore(session, LineUser, user_id=user_id, language="th", followed=True, created_at=now, updated_at=now)
        user = session.scalars(select(LineUser).where(LineUser.user_id == user_id)).one()  # ours, or another's just now
    return user


def remember_interest(session: Session, user: LineUser, *, invoice: Invoice | None = None, license_no: str | None = None,
                      batch: Batch | None = None) -> None:
    """Record that this user asked (once per invoice or license): the paid notice goes to them.
    In a batch of chat events, recorded with the batch's other watches before it commits."""
    if batch is not None:
        if invoice is not None:
            batch.add_watch(line_user_id=user.id, invoice_id=invoice.id, created_at=utcnow())
        if license_no is not None:
            batch.add_watch(line_user_id=user.id, license_no=license_no, created_at=utcnow())
        return
    if invoice is not None:
        insert_ignore(session, Watch, line_user_id=user.id, invoice_id=invoice.id, created_at=utcnow())
    if license_no is not None:
        insert_ignore(session, Watch, line_user_id=user.id, license_no=license_no, created_at=utcnow())
