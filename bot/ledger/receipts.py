"""Receipts: a number allocated in the payment's own transaction, voided by a reversal, and the
signed PDF made off the bank's path (the worker's receipt queue, or the first request for it),
stored once and served as stored, each PDF a link of the audit chain. `tisi-pay receipt verify`
checks a file against all of that.

Numbers: `RECEIPT_PREFIX-<fiscal year BE>-<running number>`, the fiscal year of the payment's
date (Bangkok; 1 October starts the next one), so the year in the number is the year of the date
printed on the receipt. The counter row of that year is raised in the payment's transaction:
a rolled-back payment gives its number back, concurrent payments wait for each other's commit
(the chain serialises their commits anyway), and no number is used twice.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Callable

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from bot.core.chain import link_hash
from bot.core.dates import format_datetime_local, thai_fiscal_year, utcnow
from bot.core.etda import FILE_NAME, TISI_ADDRESS, IssuerAddress, read_receipt_xml
from bot.core.receiptno import receipt_number
from bot.data.chain import content
from bot.data.db import Database, insert_ignore, must_get
from bot.data.models import (
    ChainLink,
    Invoice,
    LineUser,
    Payment,
    Receipt,
    ReceiptCounter,
    ReceiptDocument,
    Subscription,
    Watch,
    table_of,
)
from bot.data.states import ChainKind, PaymentStatus, ReceiptVariant
from bot.data.wakeup import notify_workers
from bot.ledger.batch import Batch
from bot.render.messages import CHANNEL_NAMES, FEE_NAMES
from bot.render.pades import (
    ReceiptSigner,
    SignatureCheck,
    check_signature,
    embedded_file,
    load_certificates,
)
from bot.render.receipt import ReceiptData, render_receipt

if TYPE_CHECKING:
    from asn1crypto.x509 import Certificate

    from bot.config import Settings
    from bot.render.messages import Links

QUEUE = "receipts"  # the worker queue that renders them (bot.runtime.receipts.ReceiptQueue.name)


@dataclass(frozen=True)
class ReceiptBook:
    """What the bank's path needs to issue receipts: the prefix and the public link of one."""

    prefix: str
    url: Callable[[str], str]  # of a receipt's key (`receipt_key`)


@dataclass(frozen=True)
class ReceiptMaker:
    """What rendering needs: the Institute's signing key, tax ID and address (settings)."""

    signer: ReceiptSigner
    seller_tax_id: str
    seller_address: IssuerAddress = TISI_ADDRESS


def from_settings(settings: Settings, links: Links) -> tuple[ReceiptBook | None, ReceiptMaker | None]:
    """Both, when RECEIPT_SIGNING_P12 is set (SignerError if it cannot be used); else neither."""
    if not settings.receipt_signing_p12:  # (Settings.receipts_enabled)
        return None, None
    signer = ReceiptSigner(settings.receipt_signing_p12, settings.receipt_signing_password)
    return (ReceiptBook(settings.receipt_prefix, links.receipt_url),
            ReceiptMaker(signer, settings.issuer_tax_id, settings.receipt_issuer_address))


def trusted_certificates(p12: str, password: str | None, roots: str) -> list[Certificate]:
    """What `receipt verify` accepts: the certificate of our signing key (RECEIPT_SIGNING_P12),
    and RECEIPT_TRUST_ROOTS. SignerError, OSError or ValueError when one cannot be read."""
    certs = [ReceiptSigner(p12, password).certificate] if p12 else []
    if roots:
        certs += load_certificates(roots)
    return certs


# -- the public key of a receipt ------------------------------------------------------------------
# A receipt's link token carries "<invoice public id>-<payment id>": random where it needs to be
# (the invoice's public id reveals nothing), known before the receipt is numbered, and it needs
# no column or index of its own on the bank's path. The HMAC tag of the token makes it unforgeable.
_KEY_RE = re.compile(r"^([A-Za-z0-9_-]{16})-([0-9]{1,15})\Z")


def receipt_key(invoice_public_id: str, payment_id: int) -> str:
    return f"{invoice_public_id}-{payment_id}"


def _parse_key(key: str) -> tuple[str, int] | None:
    m = _KEY_RE.match(key or "")
    return (m.group(1), int(m.group(2))) if m else None


# -- issuing and voiding (inside the bank's transaction) -------------------------------------------
@dataclass(frozen=True)
class ReceiptToIssue:
    """A receipt decided on in a payment's transaction, numbered at its very end (`issue`)."""

    key: str
    payment_id: int
    paid_at: datetime

    def url(self, book: ReceiptBook) -> str:
        return book.url(self.key)


def to_issue(inv: Invoice, payment: Payment) -> ReceiptToIssue:
    """The receipt's link is known before its number: the paid notice can carry it."""
    return ReceiptToIssue(receipt_key(inv.public_id, payment.id), payment.id, payment.transacted_at)


def issue(session: Session, wanted: ReceiptToIssue, book: ReceiptBook) -> None:
    """Number the receipt, and write it. On PostgreSQL the database does it as the transaction
    commits (the payment carries `receipt_prefix`: bot/data/receipt_numbers.py), so the bank's
    path pays no round trip and the fiscal year's counter row is locked only during COMMIT. On
    SQLite (one writer at a time) here; call it last in the transaction all the same."""
    if session.get_bind().dialect.name == "postgresql":
        return
    year = thai_fiscal_year(wanted.paid_at)
    seq = _next_seq(session, year)
    session.add(Receipt(payment_id=wanted.payment_id, number=receipt_number(book.prefix, year, seq), fiscal_year=year,
                        seq=seq, issued_at=utcnow(), pending=ReceiptVariant.ISSUED, attempts=0))
    session.flush()
    # No NOTIFY: it would be one more statement, and a lock, on every payment. The receipt
    # queue is looked at every second, and a link opened sooner makes its PDF itself.


def _next_seq(session: Session, year: int) -> int:
    counter = table_of(ReceiptCounter)
    raise_ = (update(counter).where(counter.c.fiscal_year == year)
              .values(last_seq=counter.c.last_seq + 1).returning(counter.c.last_seq))
    seq = session.execute(raise_).scalar()
    if seq is None:
        insert_ignore(session, ReceiptCounter, fiscal_year=year, last_seq=0)
        seq = session.execute(raise_).scalar_one()
    return int(seq)


def void(session: Session, payment: Payment, reason: str) -> Receipt | None:
    """The bank took the payment back: its receipt is kept, marked void (ยกเลิก), and re-rendered so."""
    receipt = session.scalar(select(Receipt).where(Receipt.payment_id == payment.id).with_for_update())
    if receipt is None or receipt.voided_at is not None:
        return receipt
    receipt.voided_at, receipt.void_reason = utcnow(), reason[:500]
    receipt.pending, receipt.attempts, receipt.lease_until = ReceiptVariant.VOID, 0, None
    notify_workers(session, QUEUE)
    return receipt


def for_payment(session: Session, payment_id: int) -> Receipt | None:
    return session.get(Receipt, payment_id)


def current_for_invoice(session: Session, invoice_id: int) -> Receipt | None:
    """The receipt of the invoice's confirmed payment (not a void one)."""
    payments = select(Payment.id).where(Payment.invoice_id == invoice_id)
    return session.scalar(select(Receipt).where(Receipt.payment_id.in_(payments), Receipt.voided_at.is_(None))
                          .order_by(Receipt.payment_id.desc()).limit(1))


def key_of(session: Session, receipt: Receipt) -> str:
    inv_public_id = session.scalar(select(Invoice.public_id).join(Payment, Payment.invoice_id == Invoice.id)
                                   .where(Payment.id == receipt.payment_id))
    return receipt_key(inv_public_id or "", receipt.payment_id)


# -- rendering (off the bank's path) -----------------------------------------------------------------
def variant_of(receipt: Receipt) -> ReceiptVariant:
    return ReceiptVariant.VOID if receipt.voided_at is not None else ReceiptVariant.ISSUED


def receipt_data(session: Session, receipt: Receipt, seller_tax_id: str,
                 seller_address: IssuerAddress = TISI_ADDRESS) -> ReceiptData:
    payment = must_get(session, Payment, receipt.payment_id)
    inv = must_get(session, Invoice, payment.invoice_id)
    data = ReceiptData(
        number=receipt.number, issued_at=receipt.issued_at, paid_at=payment.transacted_at,
        seller_tax_id=seller_tax_id, payer_name=inv.payer_name, payer_tax_id=inv.tax_id,
        payer_branch=inv.payer_branch, invoice_no=inv.invoice_no, ref2=inv.ref2, license_no=inv.license_no,
        fee_code=inv.fee_code, fee_name=FEE_NAMES.get(inv.fee_code, FEE_NAMES["OTHER"]), description=inv.description,
        amount=payment.amount, channel=CHANNEL_NAMES.get(payment.channel, payment.channel),
        channel_code=payment.channel, bank_ref=payment.bank_ref, seller_address=seller_address,
        payer_address=inv.payer_address, payer_postcode=inv.payer_postcode)
    if receipt.voided_at is not None:
        data = data.void(receipt.voided_at, receipt.void_reason or "")
    return data


def make_pdf(data: ReceiptData, maker: ReceiptMaker) -> bytes:
    """Rendered and signed: CPU only, no database (the worker runs it outside any transaction). A
    test certificate's receipt says on its face that it is a sample."""
    return maker.signer.sign(render_receipt(replace(data, sample=maker.signer.sample)))


def store(session: Session, payment_id: int, variant: ReceiptVariant, number: str, amount: Decimal,
          pdf: bytes) -> ReceiptDocument:
    """Keep the first PDF made of this receipt and variant; a later one (a race) is dropped, so
    the link always serves the same bytes. Clears `pending` when it was this variant."""
    receipt = session.scalars(select(Receipt).where(Receipt.payment_id == payment_id).with_for_update()).one()
    doc = _stored(session, payment_id, variant)
    if doc is None:
        doc = ReceiptDocument(payment_id=payment_id, variant=variant, number=number, amount=amount,
                              sha256=hashlib.sha256(pdf).hexdigest(), created_at=utcnow(), pdf=pdf)
        session.add(doc)
        session.flush()
    if receipt.pending == variant:
        receipt.pending, receipt.lease_until, receipt.last_error = None, None, None
    return doc


def _stored(session: Session, payment_id: int, variant: str) -> ReceiptDocument | None:
    return session.scalar(select(ReceiptDocument).where(ReceiptDocument.payment_id == payment_id,
                                                        ReceiptDocument.variant == variant))


def by_key(session: Session, key: str) -> Receipt | None:
    parsed = _parse_key(key)
    if parsed is None:
        return None
    inv_public_id, payment_id = parsed
    return session.scalar(select(Receipt).join(Payment, Payment.id == Receipt.payment_id)
                          .join(Invoice, Invoice.id == Payment.invoice_id)
                          .where(Receipt.payment_id == payment_id, Invoice.public_id == inv_public_id))


def served_pdf(db: Database, key: str, maker: ReceiptMaker | None) -> tuple[Receipt, bytes] | None:
    """The stored PDF of the receipt as it stands now (void once voided), made now if the worker
    has not made it yet. None: no such receipt. LookupError: not made yet and no key to make it."""
    with db.sessions() as session:
        receipt = by_key(session, key)
        if receipt is None:
            return None
        variant = variant_of(receipt)
        doc = _stored(session, receipt.payment_id, variant)
        if doc is not None:
            return receipt, doc.pdf
        if maker is None:
            raise LookupError("the receipt's PDF is not made yet and RECEIPT_SIGNING_P12 is not set here")
        data = receipt_data(session, receipt, maker.seller_tax_id, maker.seller_address)
        session.expunge(receipt)
    pdf = make_pdf(data, maker)
    with db.transaction() as session:
        doc = store(session, receipt.payment_id, variant, data.number, data.amount, pdf)
        return receipt, doc.pdf


# -- checking a file ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileVerdict:
    valid: bool
    lines: list[str]

    @property
    def reason(self) -> str:
        return self.lines[-1]


def verify_file(session: Session, pdf: bytes, trusted: list[Certificate]) -> FileVerdict:
    """Signature intact over the whole file by a trusted certificate; the file is a receipt PDF
    we stored (its SHA-256), linked in the chain with a hash that still matches; the embedded XML's
    number and amount are the chain's; the receipt is not void."""
    lines: list[str] = []
    sig: SignatureCheck = check_signature(pdf, trusted)
    if not sig.ok:
        return FileVerdict(False, [f"INVALID: {sig.reason}"])
    lines.append(f"signature: intact, covers the whole file, {sig.reason}"
                 + (f", signed at {sig.signed_at.isoformat()}" if sig.signed_at else ""))
    try:
        xml = read_receipt_xml(embedded_file(pdf, FILE_NAME))
    except (KeyError, ValueError) as exc:
        return FileVerdict(False, lines + [f"INVALID: the receipt's XML is missing or unreadable ({exc})"])
    digest = hashlib.sha256(pdf).hexdigest()
    lines.append(f"file: SHA-256 {digest}; receipt {xml.number}, {xml.amount:.2f} baht, invoice {xml.invoice_no}")
    doc = session.scalar(select(ReceiptDocument).where(ReceiptDocument.sha256 == digest))
    if doc is None:
        return FileVerdict(False, lines + ["INVALID: not in the chain: no receipt with this file's SHA-256 was issued "
                                           "here"])
    link = session.scalar(select(ChainLink).where(ChainLink.kind == ChainKind.RECEIPT, ChainLink.row_id == doc.id))
    if link is None:
        return FileVerdict(False, lines + ["INVALID: not in the chain: the receipt's document has no link"])
    if link_hash(link.prev_hash, content(ChainKind.RECEIPT, doc)) != link.hash:
        return FileVerdict(False, lines + [f"INVALID: chain link {link.seq} does not match the stored receipt "
                                           "(edited): run `tisi-pay audit verify`"])
    if (doc.number, doc.amount) != (xml.number, xml.amount):
        return FileVerdict(False, lines + [f"INVALID: the file says {xml.number} for {xml.amount:.2f} baht, the chain "
                                           f"{doc.number} for {doc.amount:.2f}"])
    lines.append(f"chain: link {link.seq} holds this file's SHA-256, number and amount")
    receipt = must_get(session, Receipt, doc.payment_id)
    if receipt.voided_at is not None:
        when = format_datetime_local(receipt.voided_at, "en")
        return FileVerdict(False, lines + [f"INVALID: voided: receipt {receipt.number} was voided on {when} "
                                           f"({receipt.void_reason})"])
    return FileVerdict(True, lines + [f"VALID: receipt {receipt.number}, {doc.amount:.2f} baht"])



# -- who may have a receipt in the chat (README, "Receipts") -----------------------------------------------
_PROOF_RE = re.compile(r"[0-9A-Za-z_-]{4,64}")


def entitled(session: Session, user: LineUser | None, inv: Invoice, payment: Payment, message: str = "",
             batch: Batch | None = None) -> bool:
    """A receipt shows the payer's full name and tax ID: it goes to a LINE user who asked about
    the invoice or its license (or subscribed to it) before it was paid, or to one whose message
    proves the payment — the bank reference on their slip, or the payer's tax ID."""
    proofs = {token.upper() for token in _PROOF_RE.findall(message)}
    if payment.bank_ref.upper() in proofs or inv.tax_id in proofs:
        return True
    if user is None:
        return False
    Batch.settle(session, batch)  # a watch taken earlier in this batch is stored first (it is later than the payment anyway)
    paid_at = payment.created_at
    about = [Watch.invoice_id == inv.id] + ([Watch.license_no == inv.license_no] if inv.license_no else [])
    watched = select(Watch.id).where(Watch.line_user_id == user.id, or_(*about), Watch.created_at < paid_at)
    about = [Subscription.invoice_id == inv.id] + ([Subscription.license_no == inv.license_no] if inv.license_no else [])
    subscribed = select(Subscription.id).where(Subscription.line_user_id == user.id, or_(*about),
                                               Subscription.created_at < paid_at)
    return bool(session.scalar(select(exists(watched)))) or bool(session.scalar(select(exists(subscribed))))


def receipts_for_user(session: Session, user: LineUser, limit: int = 10,
                      batch: Batch | None = None) -> list[tuple[Receipt, Payment, Invoice]]:
    """The receipts this user may have (`entitled` without a proof), newest payment first."""
    from bot.ledger.history import payments_for

    out = []
    for payment, inv in payments_for(session, user, limit=limit, batch=batch):
        if payment.status != PaymentStatus.CONFIRMED:
            continue
        issued = session.scalar(select(Receipt).where(Receipt.payment_id == payment.id, Receipt.voided_at.is_(None)))
        if issued is not None and entitled(session, user, inv, payment, batch=batch):
            out.append((issued, payment, inv))
    return out
