"""No watch misses its notice: a user whose answer showed an invoice unpaid gets the paid notice,
whichever of the two transactions — the chat answer recording the watch, the bank's payment
reading who to tell — commits first. Both orders are forced with real, concurrent transactions."""
from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import select, text

from bot.data.models import Notice
from handlers.chat import show_invoice, show_license
from handlers.registry import ChatContext
from tests.conftest import USER, invoice_row

INV = "2568110400012345"


def _answer(app, db, show, number, user_id=USER, batched=False):
    """A chat answer in a transaction of its own; returns (messages, commit) with the
    transaction still open until commit() is called. `batched`: as a worker answers a batch of
    events (bot.ledger.batch): the invoices read ahead for the whole batch, the watches inserted
    at its end."""
    from bot.ledger.batch import Batch
    from bot.ledger.invoices import get_or_create_user

    ready, go, done = threading.Event(), threading.Event(), threading.Event()
    result = {}

    def run():
        with db.transaction() as session:
            batch = Batch.load(session, {user_id}, [f"ชำระ {number}"]) if batched else None
            ctx = ChatContext(session=session, user=get_or_create_user(session, user_id, batch),
                              links=app.extensions["tisi"].links, batch=batch)
            result["messages"] = show(number, ctx)[0]
            if batch is not None:
                batch.end(session)
            ready.set()
            go.wait(30)
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    return ready, go, done, result, thread


def _notices_for(db, user_id):
    with db.sessions() as s:
        return list(s.scalars(select(Notice.event_key).where(Notice.to_user == user_id)))


def _pay_in_background(bank, row):
    answer = {}
    thread = threading.Thread(target=lambda: answer.setdefault("r", bank.post(bank.body("payment", row))))
    thread.start()
    return answer, thread


@pytest.mark.parametrize("batched", [False, True], ids=["alone", "in a batch"])
def test_the_answer_commits_first_and_the_payment_sees_its_watch(batched, app, db, seed, bank):
    row = seed(invoice_row(1, invoice_no=INV))[0]
    ready, go, done, result, thread = _answer(app, db, show_invoice, INV, batched=batched)
    assert ready.wait(30)
    assert "รอชำระ" in json.dumps(result["messages"], ensure_ascii=False)  # shown unpaid, not committed yet
    answer, payer = _pay_in_background(bank, row)
    time.sleep(0.5)
    assert "r" not in answer  # the payment waits for the answer that read the invoice
    go.set()
    thread.join(30)
    payer.join(30)
    assert answer["r"].get_json()["respCode"] == "0000"
    assert [key for key in _notices_for(db, USER) if key.startswith("paid:")]


@pytest.mark.parametrize("batched", [False, True], ids=["alone", "in a batch"])
def test_the_payment_commits_first_and_the_answer_shows_it_paid(batched, app, db, seed, database_url):
    seed(invoice_row(1, invoice_no=INV))
    engine = db.engine
    with engine.connect() as bank_side:  # the bank's transaction, holding the invoice as it pays it
        tx = bank_side.begin()
        if db.dialect == "postgresql":
            bank_side.execute(text("SELECT id FROM invoices WHERE invoice_no = :n FOR UPDATE"), {"n": INV})
        bank_side.execute(text("UPDATE invoices SET status = 'paid' WHERE invoice_no = :n"), {"n": INV})
        ready, go, done, result, thread = _answer(app, db, show_invoice, INV, batched=batched)
        go.set()
        assert not ready.wait(0.7)  # the answer waits for the payment to finish
        tx.commit()
    assert ready.wait(30) and done.wait(30)
    thread.join(30)
    shown = json.dumps(result["messages"], ensure_ascii=False)
    assert "ชำระแล้ว" in shown and "ยอดที่ต้องชำระ" not in shown  # never shown unpaid after the fan-out


@pytest.mark.parametrize("batched", [False, True], ids=["alone", "in a batch"])
def test_a_license_answer_holds_its_invoices_too(batched, app, db, seed, bank):
    row = seed(invoice_row(1, invoice_no=INV))[0]
    ready, go, done, result, thread = _answer(app, db, show_license, "ท5137-2/10", batched=batched)
    assert ready.wait(30)
    answer, payer = _pay_in_background(bank, row)
    time.sleep(0.5)
    assert "r" not in answer
    go.set()
    thread.join(30)
    payer.join(30)
    assert [key for key in _notices_for(db, USER) if key.startswith("paid:")]
