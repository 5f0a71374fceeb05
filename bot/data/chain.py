"""The audit chain: every audit entry, bank message and reconciled statement becomes a link.

Links are appended as the transaction that wrote the rows commits, one writer at a time, so
concurrent writers never fork the chain and `seq` has no gaps:
- PostgreSQL: the database does it. A deferred constraint trigger on each of the three tables
  (migration 0007, SQL from `trigger_sql` below) fires inside COMMIT, takes a transaction-scoped
  advisory lock, reads the last link and appends; the lock is held only for the rest of the
  commit, and the bank's path pays no round trip and no Python for it. Any insert is linked,
  whoever wrote it; rows inserted with triggers switched off have no link, and `audit verify`
  names them.
- SQLite: a SQLAlchemy `before_commit` hook (no code path can forget it); SQLite already has
  one writer at a time.
The arithmetic and the fields of each kind are in bot/core/chain.py (and the README).
"""
from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from bot.core.chain import FIELDS, GENESIS, content_sql, link_hash
from bot.core.chain import content as _content
from bot.core.dates import utcnow
from bot.data.models import AuditEntry, BankMessage, ChainLink, ReceiptDocument, StaffActionEntry, StatementFile
from bot.data.states import ChainKind

ADVISORY_LOCK = 0x7715_0001  # pg_advisory_xact_lock key of chain appends
KINDS = {AuditEntry: ChainKind.AUDIT, BankMessage: ChainKind.BANK, StatementFile: ChainKind.STATEMENT,
         ReceiptDocument: ChainKind.RECEIPT, StaffActionEntry: ChainKind.STAFF}
TABLES = {kind: model for model, kind in KINDS.items()}
# The kinds the chain had when migrations 0006 and 0007 ran (later ones add theirs themselves).
FIRST_KINDS = (ChainKind.AUDIT, ChainKind.BANK, ChainKind.STATEMENT)
_PENDING = "chain_pending"


def content(kind: str, row) -> str:
    """The canonical content of a row (an ORM object or a result row: attributes either way)."""
    if kind not in FIELDS:
        raise ValueError(f"unknown link kind {kind!r}")
    return _content(str(kind), row)


def append(session: Session, rows: Sequence[tuple[str, Any]]) -> int:
    """Link these rows (already flushed: they have ids) after the last link; how many.

    SQLite, and rows written before the chain existed (migration 0006). On PostgreSQL one call
    of tisi_chain_append, which takes the advisory lock, reads the last link and appends."""
    if not rows:
        return 0
    contents = [content(kind, row) for kind, row in rows]
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        # Straight to the driver, on the transaction's own connection: on the bank's path the
        # ORM's statement machinery cost more than the call itself.
        driver = session.connection().connection.driver_connection
        assert driver is not None  # a live connection of the transaction
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


def trigger_sql(kinds=FIRST_KINDS) -> list[str]:
    """PostgreSQL: a function and a deferred constraint trigger per kind, which link each new row
    as its transaction commits (migrations 0007, 0009). Fired at COMMIT in the order the rows were
    inserted; rows of a rolled-back savepoint fire nothing."""
    statements = []
    for kind in kinds:
        model = TABLES[kind]
        table = model.__tablename__
        statements.append(f"""
CREATE OR REPLACE FUNCTION tisi_chain_link_{kind}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  s bigint;
  h text;
BEGIN
  PERFORM pg_advisory_xact_lock({ADVISORY_LOCK});
  SELECT seq, hash INTO s, h FROM chain_links ORDER BY seq DESC LIMIT 1;
  IF s IS NULL THEN
    s := 0;
    h := repeat('0', 64);
  END IF;
  INSERT INTO chain_links (seq, kind, row_id, prev_hash, hash, linked_at)
  VALUES (s + 1, '{kind}', NEW.id, h,
          encode(sha256(convert_to(h || {content_sql(kind)}, 'UTF8')), 'hex'), clock_timestamp());
  RETURN NULL;
END $$""")
        statements.append(f"CREATE CONSTRAINT TRIGGER {table}_chain AFTER INSERT ON {table} "
                          f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tisi_chain_link_{kind}()")
    return statements


def drop_trigger_sql(kinds=FIRST_KINDS) -> list[str]:
    return [stmt for kind, model in ((k, TABLES[k]) for k in kinds)
            for stmt in (f"DROP TRIGGER IF EXISTS {model.__tablename__}_chain ON {model.__tablename__}",
                         f"DROP FUNCTION IF EXISTS tisi_chain_link_{kind}()")]


def _in_python(session: Session) -> bool:
    return session.get_bind().dialect.name != "postgresql"  # there the database links (trigger_sql)


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context) -> None:
    if not _in_python(session):
        return
    new = [obj for obj in session.new if type(obj) in KINDS]
    if new:
        session.info.setdefault(_PENDING, []).extend(new)


@event.listens_for(Session, "before_commit")
def _link(session: Session) -> None:
    if not _in_python(session):
        return
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
