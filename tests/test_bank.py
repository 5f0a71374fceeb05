"""POST /bank/ktb/billpayment (docs/integrators.md): every respCode, every bad input, idempotency,
reversals, the append-only log and the audit trail."""
import json
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from bot.data.models import (
    AuditEntry,
    BankMessage,
    Invoice,
    Notice,
    Payment,
    PendingReversal,
)
from tests.conftest import invoice_row, past


def _state(db):
    """Everything money-related, to show that a refused request changed nothing."""
    with db.sessions() as s:
        return (
            [(i.invoice_no, i.status, i.amount) for i in s.scalars(select(Invoice).order_by(Invoice.id))],
            [(p.bank_ref, p.status) for p in s.scalars(select(Payment).order_by(Payment.id))],
            s.scalar(select(func.count()).select_from(AuditEntry)),
            s.scalar(select(func.count()).select_from(Notice)),
            s.scalar(select(func.count()).select_from(PendingReversal)),
        )


@pytest.fixture
def inv(seed):
    return seed(invoice_row(1))[0]


def test_inquiry_answers_amount_and_name(bank, inv):
    response = bank.post(bank.body("inquiry", inv))
    body = response.get_json()
    assert response.status_code == 200 and body["respCode"] == "0000"
    assert body["amount"] == "1000.00" and body["customerName"] == inv["payer_name"] and body["tranxId"]


def test_payment_without_inquiry_marks_paid_and_records_everything(bank, inv, db):
    response = bank.post(bank.body("payment", inv, bank_ref="KTB0001", channel="ATM"))
    assert response.status_code == 200 and response.get_json()["respCode"] == "0000"
    with db.sessions() as s:
        invoice = s.scalar(select(Invoice))
        payment = s.scalar(select(Payment))
        assert invoice.status == "paid" and invoice.paid_at is not None
        assert (payment.bank_code, payment.bank_ref, payment.channel, payment.status) == ("006", "KTB0001", "ATM", "confirmed")
        assert payment.transacted_at.isoformat() == "2026-11-25T07:30:00+00:00"  # stored UTC
        assert payment.tranx_id == response.get_json()["tranxId"]
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "paid")).one()
        assert (audit.from_status, audit.to_status, audit.actor) == ("unpaid", "paid", "bank")


@pytest.mark.parametrize("setup, command, change, code", [
    (None, "inquiry", dict(ref1="2568110499999999"), "1001"),
    (None, "payment", dict(ref1="2568110499999999"), "1001"),
    (None, "payment", dict(ref2="99999999"), "1001"),
    ("paid", "inquiry", {}, "1002"),
    ("paid", "payment", {}, "1002"),
    (None, "payment", dict(amount="999.99"), "1003"),
    (None, "payment", dict(amount="1000.01"), "1003"),
    (None, "inquiry", dict(amount="1.00"), "1003"),
    ("expired", "payment", {}, "1004"),
    ("expired", "inquiry", {}, "1004"),
    ("cancelled", "payment", {}, "1005"),
    ("cancelled", "inquiry", {}, "1005"),
    (None, "reversal", dict(bank_ref="NEVERPAID"), "1006"),
])
def test_business_codes(bank, seed, db, setup, command, change, code):
    row = seed(invoice_row(1, due_date=past(1) if setup == "expired" else "2099-01-01"))[0]
    if setup == "paid":
        assert bank.post(bank.body("payment", row, bank_ref="FIRST")).get_json()["respCode"] == "0000"
    if setup == "cancelled":
        with db.transaction() as s:
            s.scalar(select(Invoice)).status = "cancelled"
    before = _state(db)
    response = bank.post(bank.body(command, row, **change))
    assert response.status_code == 200 and response.get_json()["respCode"] == code
    after = _state(db)
    if code == "1002" and command == "payment":
        assert [p[1] for p in after[1]] == ["confirmed", "double_payment"]  # kept for staff
    elif code == "1006":
        assert after[4] == before[4] + 1  # kept for when the payment arrives
    else:
        assert after == before


@pytest.mark.parametrize("how", ["no_signature", "wrong_secret", "tampered", "old", "future", "no_timestamp", "garbage_ts"])
def test_authentication_refused_with_2001(bank, inv, db, how):
    body = bank.body("payment", inv)
    before = _state(db)
    now = int(time.time())
    if how == "no_signature":
        response = bank.post(body, signature="")
    elif how == "wrong_secret":
        response = bank.post(body, secret="guess")
    elif how == "tampered":
        from bot.core.signing import bank_signature
        raw = json.dumps(body).encode()
        sig = bank_signature("test-bank-secret", str(now), raw)
        response = bank.post(None, raw=raw.replace(b"1000.00", b"0001.00"), signature=sig, timestamp=str(now))
    elif how == "old":  # a margin: the second may turn between here and the check
        response = bank.post(body, timestamp=str(now - 305))
    elif how == "future":
        response = bank.post(body, timestamp=str(now + 305))
    elif how == "no_timestamp":
        response = bank.post(body, timestamp="")
    else:
        response = bank.post(body, timestamp="yesterday")
    assert response.status_code == 401 and response.get_json()["respCode"] == "2001"
    assert _state(db) == before


def test_timestamp_within_300s_is_accepted(bank, inv):
    assert bank.post(bank.body("inquiry", inv), timestamp=str(int(time.time()) - 290)).status_code == 200


BAD_BODIES = [
    ("amount", "1e3"), ("amount", "1,000.00"), ("amount", 1000.0), ("amount", 1000), ("amount", "-5.00"),
    ("amount", "0.001"), ("amount", "0.00"), ("amount", None), ("amount", ""), ("command", "refund"),
    ("command", None), ("bankCode", 6), ("bankCode", "6"), ("bankRef", ""), ("bankRef", "x" * 65),
    ("bankRef", "ref with space"), ("billerId", "099999999999991"), ("billerId", "0999"), ("ref1", "abc"),
    ("ref1", None), ("ref2", 68110001), ("channel", "CARRIER_PIGEON"), ("transDateTime", "yesterday"),
    ("transDateTime", "2026-11-25T14:30:00"),  # no offset
]


@pytest.mark.parametrize("field, value", BAD_BODIES, ids=[f"{f}={v!r}" for f, v in BAD_BODIES])
def test_malformed_fields_are_400_2002_and_change_nothing(bank, inv, db, field, value):
    body = bank.body("payment", inv)
    if value is None:
        body.pop(field)
    else:
        body[field] = value
    before = _state(db)
    response = bank.post(body)
    assert response.status_code == 400 and response.get_json()["respCode"] == "2002"
    assert _state(db) == before


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'"payment"', b"{", "{\"amount\": \"๑๐๐๐.๐๐\"}".encode()])
def test_malformed_json_is_400_2002(bank, inv, db, raw):
    before = _state(db)
    response = bank.post(None, raw=raw)
    assert response.status_code == 400 and response.get_json()["respCode"] == "2002"
    assert _state(db) == before


def test_same_command_and_bank_ref_returns_the_byte_identical_answer(bank, inv, db):
    body = bank.body("payment", inv, bank_ref="KTB42")
    first = bank.post(body)
    time.sleep(0.01)
    again = bank.post(body)
    assert first.data == again.data and first.status_code == again.status_code == 200
    state = _state(db)
    third = bank.post(body)
    assert third.data == first.data and _state(db) == state
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 1
        assert s.scalars(select(BankMessage.replayed).order_by(BankMessage.id)).all() == [False, True, True]


def test_refused_answers_are_replayed_too(bank, inv):
    body = bank.body("payment", inv, bank_ref="KTB43", amount="1.00")
    first = bank.post(body)
    assert first.get_json()["respCode"] == "1003"
    assert bank.post(body).data == first.data


def test_second_payment_under_another_bank_ref_is_1002_and_recorded(bank, inv, db):
    assert bank.post(bank.body("payment", inv, bank_ref="A1")).get_json()["respCode"] == "0000"
    assert bank.post(bank.body("payment", inv, bank_ref="A2")).get_json()["respCode"] == "1002"
    with db.sessions() as s:
        rows = s.execute(select(Payment.bank_ref, Payment.status).order_by(Payment.id)).all()
        assert rows == [("A1", "confirmed"), ("A2", "double_payment")]
        assert "double_payment" in s.scalars(select(AuditEntry.action)).all()


def test_reversal_puts_the_invoice_back_to_unpaid_and_repeats_answer_the_same(bank, inv, db):
    assert bank.post(bank.body("payment", inv, bank_ref="R1")).get_json()["respCode"] == "0000"
    reversal = bank.body("reversal", inv, bank_ref="R1")
    first = bank.post(reversal)
    assert first.get_json()["respCode"] == "0000"
    assert bank.post(reversal).data == first.data
    with db.sessions() as s:
        assert s.scalar(select(Invoice.status)) == "unpaid"
        assert s.scalar(select(Payment.status)) == "reversed"
        assert s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all() == ["created", "paid", "reversed"]
    # payable again: a new payment under a new bankRef succeeds
    assert bank.post(bank.body("payment", inv, bank_ref="R2")).get_json()["respCode"] == "0000"


def test_reversal_with_a_different_amount_is_1003(bank, inv):
    bank.post(bank.body("payment", inv, bank_ref="R1"))
    assert bank.post(bank.body("reversal", inv, bank_ref="R1", amount="999.00")).get_json()["respCode"] == "1003"


def test_reversal_before_payment_is_kept_and_applied_when_the_payment_comes(bank, inv, db):
    early = bank.post(bank.body("reversal", inv, bank_ref="LATE1"))
    assert early.get_json()["respCode"] == "1006"
    payment = bank.post(bank.body("payment", inv, bank_ref="LATE1"))
    assert payment.get_json()["respCode"] == "0000"
    with db.sessions() as s:
        assert s.scalar(select(Invoice.status)) == "unpaid"
        assert s.scalar(select(Payment.status)) == "reversed"
        assert s.scalar(select(PendingReversal.applied_at)) is not None
        assert s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all() == ["created", "paid", "reversed"]
    # the bank resending the early reversal gets its original answer
    assert bank.post(bank.body("reversal", inv, bank_ref="LATE1")).get_json()["respCode"] == "1006"


def test_every_request_and_answer_is_logged_and_the_log_is_append_only(bank, inv, db):
    bank.post(bank.body("inquiry", inv))
    bank.post(bank.body("payment", inv), secret="wrong")
    bank.post(None, raw=b"junk")
    with db.sessions() as s:
        codes = s.scalars(select(BankMessage.resp_code).order_by(BankMessage.id)).all()
    assert codes == ["0000", "2002"]  # the unsigned one is not the bank's: answered 2001, never stored
    for statement in ("UPDATE bank_messages SET resp_code = '0000'", "DELETE FROM bank_messages",
                      "UPDATE audit_entries SET actor = 'x'", "DELETE FROM audit_entries"):
        with pytest.raises(DBAPIError, match="append-only"):
            with db.transaction() as s:
                s.execute(text(statement))


def test_bank_endpoint_is_off_without_its_secret(database_url, fake_line, db):
    from bot.config import Settings
    from bot.factory import create_app
    from tests.conftest import make_env

    env = make_env(database_url, fake_line.url)
    env.pop("BANK_WEBHOOK_SECRET")
    app = create_app(Settings.from_env(env), db=db)
    assert app.test_client().post("/bank/ktb/billpayment", data=b"{}").status_code == 404
    app.extensions["tisi"].close()



def test_internal_error_is_9999_rolls_back_and_the_retry_succeeds(bank, inv, db, monkeypatch):
    from bot.bank import service

    real = service._payment

    def broken(*args, **kwargs):
        real(*args, **kwargs)  # does its writes, then fails before the commit
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service, "_payment", broken)
    body = bank.body("payment", inv, bank_ref="RETRY1")
    before = _state(db)
    response = bank.post(body)
    assert response.status_code == 500 and response.get_json()["respCode"] == "9999"
    assert _state(db) == before  # nothing half-done
    monkeypatch.setattr(service, "_payment", real)
    again = bank.post(body)
    assert again.status_code == 200 and again.get_json()["respCode"] == "0000"
