"""Bank messages kept through a database outage: answered 9999 as before, written to the local
spool (fsynced) before the answer, one log line each and no traceback, then replayed into
`bank_messages` and the audit chain when the database is back — once, however often replayed."""
from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import func, select

from bot.data.db import Database
from bot.data.models import BankMessage
from tests.conftest import Bank, invoice_row, wait_for

INV = "2568110400012345"


@pytest.fixture
def outage_app(settings, db, tmp_path, monkeypatch):
    from bot.factory import create_app

    monkeypatch.chdir(tmp_path)
    app = create_app(settings, db=db)
    yield app
    app.extensions["tisi"].close()


def _spool_lines(tmp_path) -> list[dict]:
    path = tmp_path / "bank-spool" / "messages.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _spooled_in_db(db) -> int:
    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(BankMessage).where(BankMessage.spool_id.is_not(None)))


def test_an_outage_spools_each_refused_request_and_replays_them_once(outage_app, db, seed, tmp_path, caplog):
    from bot.ledger.audit import verify
    from tests.conftest import BANK_SECRET

    caplog.set_level(logging.INFO)
    row = seed(invoice_row(1, invoice_no=INV))[0]
    tisi = outage_app.extensions["tisi"]
    client, bank = outage_app.test_client(), Bank(outage_app.test_client())
    real_bank_db = tisi.bank_db
    tisi.bank_db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")  # the database is gone
    bodies = [bank.body("payment", row, bank_ref=f"KTBOUT{i}") for i in range(3)]
    try:
        for body in bodies:
            answer = bank.post(body)
            assert answer.status_code == 500 and answer.get_json()["respCode"] == "9999"
    finally:
        tisi.bank_db.dispose()
        tisi.bank_db = real_bank_db
    spooled = _spool_lines(tmp_path)
    assert [r["bank_ref"] for r in spooled] == ["KTBOUT0", "KTBOUT1", "KTBOUT2"]
    assert all(r["resp_code"] == "9999" and r["bank_signature"] for r in spooled)
    bank_lines = [r for r in caplog.records if r.name.startswith("bot.bank")]
    assert sum("kept in the spool" in r.getMessage() for r in bank_lines) == 3
    assert not [r for r in caplog.records if r.exc_info]  # an outage is no traceback
    assert _spooled_in_db(db) == 0

    assert client.get("/healthz").status_code == 200  # the database is back: the spool goes in, off the request
    wait_for(lambda: _spooled_in_db(db) == 3)
    assert _spool_lines(tmp_path) == []
    wait_for(lambda: not list((tmp_path / "bank-spool").glob("*.jsonl*")))
    assert tisi.spool.replay(tisi.bank_db) == 0  # nothing twice
    # The bank retries: the payment goes through as usual.
    assert bank.post(bodies[0]).get_json()["respCode"] == "0000"
    with db.sessions() as s:
        verdict = verify(s, BANK_SECRET)
    assert verdict.intact, verdict.problems
    assert verdict.spooled == 3 and "3 bank message(s) stored from the outage spool" in verdict.line()


def test_a_replay_that_died_after_its_commit_stores_nothing_twice(outage_app, db, tmp_path):
    tisi = outage_app.extensions["tisi"]
    spool = tisi.spool
    first = spool.append(command="payment", bank_code="006", bank_ref="KTBA", request_body=b"{}", http_status=500,
                         resp_code="9999", response_body=b'{"respCode":"9999"}', signed=None)
    assert spool.replay(tisi.bank_db) == 1
    # A process that died between its commit and removing the file leaves it renamed for replay.
    line = next(r for r in [json.dumps({"spool_id": first, "received_at": "2026-12-03T10:00:00+00:00",
                                        "command": "payment", "bank_code": "006", "bank_ref": "KTBA",
                                        "request_body": "{}", "http_status": 500, "resp_code": "9999",
                                        "response_body": "{}", "bank_timestamp": None, "bank_signature": None})])
    left = tmp_path / "bank-spool" / "messages.jsonl.999.dead.replaying"
    left.write_text(line + "\n")
    spool.append(command="payment", bank_code="006", bank_ref="KTBB", request_body=b"{}", http_status=500,
                 resp_code="9999", response_body=b'{"respCode":"9999"}', signed=None)
    assert spool.replay(tisi.bank_db) == 1  # KTBB only
    assert _spooled_in_db(db) == 2 and not left.exists()
