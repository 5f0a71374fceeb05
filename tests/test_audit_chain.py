"""The audit chain as an auditor would test it: tamper with the database as its owner, triggers
off, and `tisi-pay audit verify` must name what was done; digests catch a rewrite of it all."""
from __future__ import annotations

import json
import threading
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from bot.core.chain import GENESIS, link_hash
from bot.data.chain import TABLES, content
from bot.data.models import AuditEntry, BankMessage, ChainLink
from tests.conftest import API_TOKEN, BANK_SECRET, invoice_row

INV = ["2568110400000001", "2568110400000002", "2568110400000003", "2568110400000004"]


def _cli(args, env):
    from bot.cli import cli

    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


@pytest.fixture
def env(database_url):
    return {"DATABASE_URL": database_url, "BANK_WEBHOOK_SECRET": BANK_SECRET,
            "UPSTREAM_CALLBACK_URL": "", "UPSTREAM_API_TOKEN": ""}


@pytest.fixture
def history(seed, bank, client):
    """Every kind of money event: created, paid, reversed, cancelled, a double payment."""
    rows = seed(*[invoice_row(i, invoice_no=n) for i, n in enumerate(INV, start=1)])
    assert bank.post(bank.body("payment", rows[0], bank_ref="KTBPAID0001")).get_json()["respCode"] == "0000"
    assert bank.post(bank.body("payment", rows[1], bank_ref="KTBREV0001")).get_json()["respCode"] == "0000"
    assert bank.post(bank.body("reversal", rows[1], bank_ref="KTBREV0001")).get_json()["respCode"] == "0000"
    assert bank.post(bank.body("payment", rows[0], bank_ref="KTBDOUBLE01")).get_json()["respCode"] != "0000"
    assert bank.post(bank.body("payment", rows[0], bank_ref="KTBPAID0001")).status_code == 200  # a replay
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    assert client.post(f"/api/v1/invoices/{INV[2]}/cancel", json={"reason": "test"}, headers=auth).status_code == 200
    return rows


def tamper(database_url: str, *statements: str) -> None:
    """As the database owner, with the append-only triggers out of the way."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for (name,) in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all():
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        for sql in statements:
            conn.execute(text(sql))
    engine.dispose()


def relink_all(database_url: str) -> None:
    """What a careful forger does after an edit: recompute every link from the first."""
    engine = create_engine(database_url)
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        links = s.scalars(select(ChainLink).order_by(ChainLink.seq)).all()
        prev, updates = GENESIS, []
        for link in links:
            row = s.execute(select(TABLES[link.kind].__table__).where(TABLES[link.kind].__table__.c.id == link.row_id)).one()
            digest = link_hash(prev, content(link.kind, row))
            updates.append((link.seq, prev, digest))
            prev = digest
    statements = [f"UPDATE chain_links SET prev_hash = '{p}', hash = '{h}' WHERE seq = {seq}" for seq, p, h in updates]
    engine.dispose()
    tamper(database_url, *statements)


def _verify(env, *extra):
    result = _cli(["audit", "verify", *extra], env)
    return result.exit_code, result.output


def test_untouched_history_is_intact(history, env, db):
    code, out = _verify(env)
    assert code == 0 and out.startswith("intact:"), out
    with db.sessions() as s:
        links = s.scalars(select(ChainLink).order_by(ChainLink.seq)).all()
        audit = s.scalar(select(func.count()).select_from(AuditEntry))
        bank_messages = s.scalar(select(func.count()).select_from(BankMessage))
        signed = s.scalar(select(func.count()).select_from(BankMessage).where(BankMessage.bank_signature.is_not(None)))
    assert [link.seq for link in links] == list(range(1, len(links) + 1)) and len(links) == audit + bank_messages
    assert links[0].prev_hash == GENESIS and all(b.prev_hash == a.hash for a, b in zip(links, links[1:]))
    assert signed == bank_messages == 5 and "5 bank signatures and 4 invoices" in out


def _id(db, model, **where):
    with db.sessions() as s:
        return s.scalar(select(model.id).filter_by(**where).order_by(model.id))


def test_deleted_audit_entry_is_named(history, env, db, database_url):
    paid = _id(db, AuditEntry, action="paid")
    tamper(database_url, f"DELETE FROM audit_entries WHERE id = {paid}")
    code, out = _verify(env)
    assert code == 1 and f"(audit {paid}): the audit row is gone" in out, out


def test_edited_audit_entry_is_named(history, env, db, database_url):
    created = _id(db, AuditEntry, action="created")
    tamper(database_url, f"UPDATE audit_entries SET detail = '{{\"amount\": \"1.00\"}}' WHERE id = {created}")
    code, out = _verify(env)
    assert code == 1 and f"(audit {created}): the audit row's content does not match its hash" in out, out


def test_inserted_audit_entry_is_named(history, env, db, database_url):
    inv_id = _id(db, AuditEntry, action="cancelled")
    tamper(database_url, "INSERT INTO audit_entries (at, invoice_id, action, from_status, to_status, actor, detail) "
                         f"VALUES ('2026-11-26 00:00:00+00:00', {inv_id}, 'paid', 'unpaid', 'paid', 'bank', '{{}}')")
    code, out = _verify(env)
    assert code == 1 and "is not in the chain: written outside the application" in out, out


def test_deleted_link_is_named(history, env, database_url):
    tamper(database_url, "DELETE FROM chain_links WHERE seq = 3")
    code, out = _verify(env)
    assert code == 1 and "link 3 is missing" in out, out


def test_edited_bank_message_with_the_whole_chain_rewritten_fails_the_banks_signature(history, env, db, database_url):
    message = _id(db, BankMessage, bank_ref="KTBPAID0001")
    tamper(database_url, "UPDATE bank_messages SET request_body = replace(request_body, '1000.00', '10.00') "
                         f"WHERE id = {message}")
    assert "content does not match its hash" in _verify(env)[1]
    relink_all(database_url)  # the chain is consistent again: only the bank's key can tell
    code, out = _verify(env)
    assert code == 1 and f"bank message {message}: the bank's signature does not match its body" in out, out


def test_payment_amount_changed_is_caught_by_replaying_the_audit(history, env, database_url):
    tamper(database_url, "UPDATE payments SET amount = 100 WHERE bank_ref = 'KTBPAID0001'")
    code, out = _verify(env)
    assert code == 1 and f"invoice {INV[0]}: the payments table holds 1 confirmed payment(s) of 1.00 baht" in out, out


def test_invoice_status_changed_is_caught(history, env, database_url):
    tamper(database_url, f"UPDATE invoices SET status = 'paid' WHERE invoice_no = '{INV[3]}'")
    code, out = _verify(env)
    assert code == 1 and f"invoice {INV[3]} is paid in the invoices table, unpaid by its audit entries" in out, out


def test_a_whole_chain_rewrite_is_caught_against_a_digest_published_earlier(history, env, database_url, tmp_path):
    from bot.core.dates import to_bangkok

    # The day the links were made (on PostgreSQL the database's clock stamps them, which the
    # tests' clock does not move).
    with Session(create_engine(database_url)) as s:
        day = to_bangkok(s.scalar(select(func.max(ChainLink.linked_at)))).date()
    published = _cli(["audit", "digest", "--date", day.isoformat()], env)
    assert published.exit_code == 0
    digest = json.loads(published.output.strip().splitlines()[0])
    assert digest["last_seq"] > 0 and digest["audit_entries"] > 0 and digest["bank_messages"] == 5
    (tmp_path / "digest.json").write_text(json.dumps(digest))
    # A forger changes an invoice's amount everywhere it is written, and recomputes the chain.
    tamper(database_url,
           f"UPDATE invoices SET amount = 50000 WHERE invoice_no = '{INV[3]}'",
           "UPDATE audit_entries SET detail = '{\"amount\": \"500.00\"}' WHERE action = 'created' AND invoice_id = "
           f"(SELECT id FROM invoices WHERE invoice_no = '{INV[3]}')")
    relink_all(database_url)
    assert _verify(env)[0] == 0  # consistent with itself...
    code, out = _verify(env, "--digest", str(tmp_path / "digest.json"))
    assert code == 1 and f"the digest of {digest['date']}" in out and "rewritten" in out, out  # ...not with the past


def test_digest_goes_upstream_once_a_day(history, env, db):
    from bot.data.models import Notice

    upstream = {**env, "UPSTREAM_CALLBACK_URL": "http://127.0.0.1:9/cb", "UPSTREAM_API_TOKEN": API_TOKEN}
    for _ in range(2):
        assert _cli(["audit", "digest", "--date", "2026-11-25"], upstream).exit_code == 0
    with db.sessions() as s:
        [notice] = s.scalars(select(Notice).where(Notice.event_key == "digest:2026-11-25")).all()
    assert json.loads(notice.messages)["event"] == "audit.digest"


def test_concurrent_bank_payments_never_fork_the_chain(database_url, live_server, seed, env, db):
    import urllib.request

    from bot.core.signing import bank_signature
    from tests.conftest import BILLER_ID

    rows = seed(*[invoice_row(i) for i in range(1, 31)])

    def pay(row):
        import time

        body = json.dumps({"command": "payment", "bankCode": "006", "bankRef": "C" + uuid.uuid4().hex[:12],
                           "billerId": BILLER_ID, "ref1": row["invoice_no"], "ref2": row["ref2"],
                           "amount": row["amount"], "channel": "ATM",
                           "transDateTime": "2026-11-25T14:30:00+07:00"}).encode()
        ts = str(int(time.time()))
        req = urllib.request.Request(f"{live_server}/bank/ktb/billpayment", data=body, method="POST", headers={
            "Content-Type": "application/json", "X-Bank-Timestamp": ts,
            "X-Bank-Signature": bank_signature(BANK_SECRET, ts, body)})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert json.loads(resp.read())["respCode"] == "0000"

    threads = [threading.Thread(target=pay, args=(row,)) for row in rows]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    code, out = _verify(env)
    assert code == 0 and "30 bank signatures" in out, out
    with db.sessions() as s:
        seqs = s.scalars(select(ChainLink.seq).order_by(ChainLink.seq)).all()
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/old.db"
        return
    from tests.conftest import empty_pg_database

    with empty_pg_database("tisi_old") as url:
        yield url


def test_rows_written_before_the_chain_existed_are_linked_by_the_upgrade(old_database):
    """A database from the previous release: its audit and bank rows become the first links."""
    from bot.data.migrate import upgrade

    url = old_database
    upgrade(url, "0005")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO invoices (invoice_no, ref2, license_no, tax_id, payer_name, fee_code, description, amount, "
            "due_date, status, public_id, created_at, updated_at) VALUES ('2568110400000009', '1', NULL, "
            "'0105550123451', 'x', 'LICENSE', '', 100000, '2099-12-31', 'unpaid', 'pid9', "
            "'2026-11-01 00:00:00+00:00', '2026-11-01 00:00:00+00:00')"))
        conn.execute(text(
            "INSERT INTO audit_entries (at, invoice_id, action, from_status, to_status, actor, detail) "
            "SELECT '2026-11-01 00:00:00+00:00', id, 'created', NULL, 'unpaid', 'import', '{\"amount\": \"1000.00\"}' "
            "FROM invoices"))
        conn.execute(text(
            "INSERT INTO bank_messages (received_at, command, request_body, http_status, resp_code, response_body, "
            "replayed) VALUES ('2026-11-02 00:00:00+00:00', 'inquiry', '{}', 200, '0000', '{}', false)"))
    engine.dispose()
    upgrade(url)
    env = {"DATABASE_URL": url, "BANK_WEBHOOK_SECRET": BANK_SECRET}
    code, out = _verify(env)
    assert code == 0 and "intact: 2 links" in out and "1 invoices" in out, out


def test_a_row_linked_twice_is_named(history, env, db, database_url):
    with db.sessions() as s:
        last = s.scalars(select(ChainLink).order_by(ChainLink.seq.desc())).first()
        first = s.scalars(select(ChainLink).order_by(ChainLink.seq)).first()
    engine = create_engine(database_url)
    with engine.connect() as conn:
        table = TABLES[first.kind].__table__
        row = conn.execute(select(table).where(table.c.id == first.row_id)).one()
    engine.dispose()
    digest = link_hash(last.hash, content(first.kind, row))
    tamper(database_url, "INSERT INTO chain_links (seq, kind, row_id, prev_hash, hash, linked_at) VALUES "
                         f"({last.seq + 1}, '{first.kind}', {first.row_id}, '{last.hash}', '{digest}', "
                         "'2026-11-26 00:00:00+00:00')")
    code, out = _verify(env)
    assert code == 1 and f"link {last.seq + 1} ({first.kind} {first.row_id}): the {first.kind} row is linked twice" in out, out


AWKWARD = 'q"uote \\ back\x01\x1f\x7f\t\n\r\b\f ใบอนุญาต ๑๒๓ 😀 \u2028 </script> {"a": 1}'


def test_links_hold_the_canonical_text_of_awkward_rows(seed, db, env):
    """On PostgreSQL the database writes the links (bot/data/chain.py trigger_sql) and `audit verify`
    recomputes them in Python: every escape and time form must come out byte for byte the same."""
    from datetime import date, datetime, timedelta, timezone

    from bot.core.chain import canonical_time
    from bot.data.models import Invoice, StatementFile

    seed(invoice_row(1, invoice_no=INV[0]))
    odd_moment = datetime(2026, 11, 26, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=7)))
    with db.transaction() as s:
        invoice_id = s.scalar(select(Invoice.id))
        s.add(AuditEntry(at=odd_moment, invoice_id=invoice_id, action="double_payment", from_status=None,
                         to_status=None, actor="api", detail=json.dumps({"note": AWKWARD}, ensure_ascii=False)))
        s.add(BankMessage(received_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), command=None,
                          bank_code=None, bank_ref=AWKWARD[:64], request_body=AWKWARD, http_status=400,
                          resp_code="9001", response_body="{}", replayed=True, bank_timestamp=None,
                          bank_signature=None))
        s.add(StatementFile(sha256="ab" * 32, effective_date=date(2026, 2, 28), company_account="1234567890",
                            imported_at=odd_moment, balanced=False, report=json.dumps([AWKWARD], ensure_ascii=False)))
    with db.sessions() as s:
        links = s.scalars(select(ChainLink).order_by(ChainLink.seq)).all()
        kinds = [link.kind for link in links[-3:]]
        rows = {kind: s.get(TABLES[kind], link.row_id) for kind, link in zip(kinds, links[-3:])}
    assert sorted(kinds) == ["audit", "bank", "statement"] and len(links) == 4
    assert canonical_time(rows["audit"].at) == "2026-11-26T16:59:59.000001Z"
    for link in links[-3:]:
        assert link.hash == link_hash(link.prev_hash, content(link.kind, rows[link.kind])), link.kind
    code, out = _verify(env)
    assert code == 0, out


def test_rows_of_a_rolled_back_savepoint_are_not_linked(seed, db, env):
    from bot.data.models import Invoice

    seed(invoice_row(1, invoice_no=INV[0]))
    with db.transaction() as s:
        invoice_id = s.scalar(select(Invoice.id))
        with s.begin_nested() as savepoint:
            s.add(AuditEntry(invoice_id=invoice_id, action="cancelled", actor="api", detail="{}"))
            s.flush()
            savepoint.rollback()
        s.add(BankMessage(command="inquiry", request_body="{}", http_status=200, resp_code="0000",
                          response_body="{}", replayed=False))
    with db.sessions() as s:
        kinds = s.scalars(select(ChainLink.kind).order_by(ChainLink.seq)).all()
        audit_rows = s.scalar(select(func.count()).select_from(AuditEntry))
    assert kinds == ["audit", "bank"] and audit_rows == 1
    code, out = _verify(env)
    assert code == 0, out


@pytest.fixture
def statement(history, db):
    """A reconciled statement's row, written as reconcile writes it (linked at commit)."""
    from datetime import date

    from bot.data.models import StatementFile

    with db.transaction() as s:
        row = StatementFile(sha256="cd" * 32, effective_date=date(2026, 11, 25), company_account="1234567890",
                            imported_at=odd_utc(), balanced=True, report='{"matched": 1}')
        s.add(row)
    return row.id


def odd_utc():
    from datetime import datetime, timezone

    return datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=timezone.utc)


def _columns_but(table: str, **literal: str) -> tuple[str, str]:
    """Column list and a SELECT list copying a row of `table`, some columns replaced by literals."""
    from bot.data.models import Base

    names = [c.name for c in Base.metadata.tables[table].columns if c.name != "id"]
    return ", ".join(names), ", ".join(f"'{literal[n]}'" if n in literal else n for n in names)


def _forged_invoice() -> str:
    cols, values = _columns_but("invoices", invoice_no="2568110499999999", public_id="forged-public-id")
    return f"INSERT INTO invoices ({cols}) SELECT {values} FROM invoices WHERE invoice_no = '{INV[3]}'"


def _forged_payment() -> str:
    cols, values = _columns_but("payments", bank_ref="FORGED0001", tranx_id="TISIFORGED")
    return f"INSERT INTO payments ({cols}) SELECT {values} FROM payments WHERE status = 'confirmed'"


def _forged_bank_message() -> str:
    cols, values = _columns_but("bank_messages", bank_ref="FORGED0002")
    return f"INSERT INTO bank_messages ({cols}) SELECT {values} FROM bank_messages WHERE bank_ref = 'KTBPAID0001'"


def _forged_statement() -> str:
    cols, values = _columns_but("statement_files", sha256="ef" * 32)
    return f"INSERT INTO statement_files ({cols}) SELECT {values} FROM statement_files"


# Every table verify answers for, each way an owner could touch it with the triggers off.
TAMPERING = {
    "bank message deleted": ("DELETE FROM bank_messages WHERE bank_ref = 'KTBREV0001' AND command = 'reversal'",
                             "the bank row is gone (deleted)"),
    "bank message answer edited": ("UPDATE bank_messages SET response_body = '{}' WHERE bank_ref = 'KTBPAID0001'",
                                   "the bank row's content does not match its hash (the row or this link was edited)"),
    "bank message inserted": (_forged_bank_message(), "is not in the chain: written outside the application"),
    "statement deleted": ("DELETE FROM statement_files", "the statement row is gone (deleted)"),
    "statement edited": ("UPDATE statement_files SET balanced = false",
                         "the statement row's content does not match its hash (the row or this link was edited)"),
    "statement inserted": (_forged_statement(), "is not in the chain: written outside the application"),
    "payment inserted": (_forged_payment(), "the payments table holds 2 confirmed payment(s) of 2000.00 baht, "
                                            "its audit entries 1 of 1000.00"),
    "payment deleted": ("DELETE FROM payments WHERE status = 'confirmed'",
                        "the payments table holds 0 confirmed payment(s) of 0.00 baht, its audit entries 1 of 1000.00"),
    "invoice inserted": (_forged_invoice(), "invoice 2568110499999999 has no audit entry of its creation"),
    "invoice deleted": (f"DELETE FROM invoices WHERE invoice_no = '{INV[2]}'",
                        "which the invoices table no longer holds (deleted)"),
    "invoice amount edited": (f"UPDATE invoices SET amount = 1 WHERE invoice_no = '{INV[3]}'",
                              f"invoice {INV[3]} is for 0.01 baht in the invoices table, 1000.00 by its audit entries"),
    "link hash edited": (f"UPDATE chain_links SET hash = '{'a' * 64}' WHERE seq = 2",
                         "link 2 (audit 2): the audit row's content does not match its hash (the row or this link was edited)"),
    "last link deleted": ("DELETE FROM chain_links WHERE seq = (SELECT max(seq) FROM chain_links)",
                          "statement 1 is not in the chain: written outside the application, or its link was deleted"),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_anywhere_is_named(case, statement, env, database_url):
    sql, expected = TAMPERING[case]
    assert _verify(env)[0] == 0
    tamper(database_url, sql)
    code, out = _verify(env)
    assert code == 1 and expected in out, out


def test_amounts_in_audit_details_are_written_with_two_decimals():
    """README "Audit chain": amounts inside `detail` are strings with two decimals, whoever writes them."""
    from decimal import Decimal

    from bot.data.states import AuditAction
    from bot.ledger.audit import entry

    written = entry(1, AuditAction.AMOUNT_CHANGED, "unpaid", "unpaid", "api", **{"from": Decimal("1000"),
                                                                                   "to": Decimal("0.5")}, note="x")
    assert json.loads(written.detail) == {"from": "1000.00", "to": "0.50", "note": "x"}
