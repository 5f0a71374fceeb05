"""The audit chain: every audit entry, bank message and reconciled statement becomes a link.

Links are appended when the transaction that wrote the rows commits (a SQLAlchemy
`before_commit` hook, so no code path can forget), one writer at a time: on PostgreSQL a
transaction-scoped advisory lock, taken only then, so it is held for the few statements
between reading the last link and committing; SQLite already has one writer. Concurrent
writers therefore never fork the chain, and `seq` has no gaps. The arithmetic is in
bot/core/chain.py; what each kind of link covers is `content` below (and the README).
"""
from __future__ import annotations

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from bot.core.chain import GENESIS, canonical, canonical_time, link_hash
from bot.core.dates import utcnow
from bot.models import AuditEntry, BankMessage, ChainLink, StatementFile
from bot.states import ChainKind

ADVISORY_LOCK = 0x7715_0001  # pg_advisory_xact_lock key of chain appends
KINDS = {AuditEntry: ChainKind.AUDIT, BankMessage: ChainKind.BANK, StatementFile: ChainKind.STATEMENT}
TABLES = {ChainKind.AUDIT: AuditEntry, ChainKind.BANK: BankMessage, ChainKind.STATEMENT: StatementFile}
_PENDING = "chain_pending"


def content(kind: str, row) -> str:
    """The canonical content of a row (an ORM object or a result row: attributes either way)."""
    if kind == ChainKind.AUDIT:
        fields = {"kind": "audit", "id": row.id, "at": canonical_time(row.at), "invoice_id": row.invoice_id,
                  "action": row.action, "from_status": row.from_status, "to_status": row.to_status,
                  "actor": row.actor, "detail": row.detail}
    elif kind == ChainKind.BANK:
        fields = {"kind": "bank", "id": row.id, "received_at": canonical_time(row.received_at),
                  "command": row.command, "bank_code": row.bank_code, "bank_ref": row.bank_ref,
                  "request_body": row.request_body, "bank_timestamp": row.bank_timestamp,
                  "bank_signature": row.bank_signature, "http_status": row.http_status, "resp_code": row.resp_code,
                  "response_body": row.response_body, "replayed": bool(row.replayed)}
    elif kind == ChainKind.STATEMENT:
        fields = {"kind": "statement", "id": row.id, "sha256": row.sha256,
                  "effective_date": row.effective_date.isoformat(), "company_account": row.company_account,
                  "imported_at": canonical_time(row.imported_at), "balanced": bool(row.balanced),
                  "report": row.report}
    else:
        raise ValueError(f"unknown link kind {kind!r}")
    return canonical(fields)


def append(session: Session, rows: list[tuple[str, object]]) -> int:
    """Link these rows (already flushed: they have ids) after the last link; how many.

    PostgreSQL: one call of tisi_chain_append (migration 0006), which takes the advisory lock,
    reads the last link and appends, so the lock is held for one round trip and the commit.
    SQLite has one writer at a time already; the same arithmetic runs here."""
    if not rows:
        return 0
    contents = [content(kind, row) for kind, row in rows]
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        # Straight to the driver, on the transaction's own connection: on the bank's path the
        # ORM's statement machinery cost more than the call itself.
        driver = session.connection().connection.driver_connection
        # Binary parameters (%b): a text[] of JSON documents sent as text is escaped quote by quote.
        driver.execute(_APPEND_SQL, ([str(k) for k, _ in rows], [r.id for _, r in rows], contents, now, ADVISORY_LOCK),
                       prepare=True)
        return len(rows)
    last = session.execute(select(ChainLink.seq, ChainLink.hash).order_by(ChainLink.seq.desc()).limit(1)).first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    links = []
    for (kind, row), text_ in zip(rows, contents):
        seq += 1
        digest = link_hash(prev, text_)
        links.append({"seq": seq, "kind": str(kind), "row_id": row.id, "prev_hash": prev, "hash": digest,
                      "linked_at": now})
        prev = digest
    session.execute(insert(ChainLink), links)
    return len(links)


_APPEND_SQL = "SELECT tisi_chain_append(%b::text[], %b::bigint[], %b::text[], %s, %s)"  # %b: binary parameters


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context) -> None:
    new = [obj for obj in session.new if type(obj) in KINDS]
    if new:
        session.info.setdefault(_PENDING, []).extend(new)


@event.listens_for(Session, "before_commit")
def _link(session: Session) -> None:
    session.flush()  # every row written in this transaction has its id (and was collected)
    pending = session.info.pop(_PENDING, None)
    if pending:
        # Rows of a rolled-back savepoint are no longer persistent: they are not linked.
        unique = {id(obj): obj for obj in pending}.values()  # each row once, however often it was flushed
        rows = [(KINDS[type(obj)], obj) for obj in unique if inspect(obj).persistent]
        rows.sort(key=lambda r: (list(TABLES).index(r[0]), r[1].id))
        append(session, rows)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def uninstall() -> None:
    """Benchmarks only (bench/nochain_app.py): the bank path without the chain, for its cost."""
    for name, fn in (("after_flush", _collect), ("before_commit", _link), ("after_rollback", _forget)):
        if event.contains(Session, name, fn):
            event.remove(Session, name, fn)
