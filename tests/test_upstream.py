"""UPSTREAM_CALLBACK_URL: invoice status changes posted, signed, to the e-License systems, through the outbox."""
import json
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from bot.config import Settings
from bot.core.signing import bank_signature
from bot.factory import create_app
from tests.conftest import API_TOKEN, Bank, drain, invoice_row, make_env, wait_for


class Upstream:
    """A stand-in for the e-License system: records what it receives; can fail first."""

    def __init__(self):
        self.received, self.fail_next = [], 0
        self.server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/tisi/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.received.append({"headers": dict(request.headers), "body": request.get_data()})
        if self.fail_next:
            self.fail_next -= 1
            return Response("down", status=503)(environ, start_response)
        return Response("{}", mimetype="application/json")(environ, start_response)


@pytest.fixture
def upstream():
    server = Upstream()
    yield server
    server.server.shutdown()


@pytest.fixture
def app_with_upstream(database_url, fake_line, db, upstream, monkeypatch):
    from bot.core import delivery

    monkeypatch.setattr(delivery, "BACKOFF_BASE", 0.05)
    app = create_app(Settings.from_env(make_env(database_url, fake_line.url, UPSTREAM_CALLBACK_URL=upstream.url)), db=db)
    yield app
    app.extensions["tisi"].close()


def test_payment_and_reversal_are_posted_signed_once_each(app_with_upstream, upstream, seed):
    bank = Bank(app_with_upstream.test_client())
    row = seed(invoice_row(1))[0]
    upstream.fail_next = 2  # the e-License system is down for a moment
    assert bank.post(bank.body("payment", row, bank_ref="UP1")).get_json()["respCode"] == "0000"
    assert bank.post(bank.body("payment", row, bank_ref="UP1")).get_json()["respCode"] == "0000"  # bank resends
    wait_for(lambda: len([r for r in upstream.received]) >= 3)
    assert bank.post(bank.body("reversal", row, bank_ref="UP1")).get_json()["respCode"] == "0000"
    wait_for(lambda: len(upstream.received) >= 4)
    drain(app_with_upstream)
    delivered = upstream.received[2:]  # the first two attempts were refused with 503
    assert len(delivered) == 2
    keys = [r["headers"]["X-Idempotency-Key"] for r in upstream.received]
    assert keys[0] == keys[1] == keys[2] != keys[3]  # retried with the same key
    for r in upstream.received:
        ts = r["headers"]["X-Tisi-Timestamp"]
        assert r["headers"]["X-Tisi-Signature"] == bank_signature(API_TOKEN, ts, r["body"])
    paid, reversed_ = (json.loads(r["body"]) for r in delivered)
    assert (paid["invoice_no"], paid["status"], paid["previous_status"]) == (row["invoice_no"], "paid", "unpaid")
    assert paid["payment"]["bank_ref"] == "UP1" and paid["amount"] == "1000.00"
    assert (reversed_["status"], reversed_["previous_status"]) == ("unpaid", "paid")


def test_refused_payments_post_nothing(app_with_upstream, upstream, seed):
    bank = Bank(app_with_upstream.test_client())
    row = seed(invoice_row(1))[0]
    assert bank.post(bank.body("payment", row, amount="1.00")).get_json()["respCode"] == "1003"
    drain(app_with_upstream)
    assert upstream.received == []
