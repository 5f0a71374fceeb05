"""POST /bank/ktb/directlink: Krungthai's Direct Link SOAP over the same bank core as the JSON
endpoint — one payment whichever way it arrives, the same notices, hardened XML, callers
authenticated by address and credentials."""
from __future__ import annotations

import json
import resource
import threading
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.core.signing import bank_signature
from bot.data.models import (
    AuditEntry,
    BankMessage,
    BankRequest,
    Invoice,
    Notice,
    Payment,
)
from tests.conftest import (
    BANK_SECRET,
    OTHER_USER,
    USER,
    DirectLink,
    drain,
    invoice_row,
    make_env,
    soap_request,
)

INV = "2568110400012345"


def _count(db, model, *where):
    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _nothing_stored(db):
    """No trace of a bank request: only the seeded invoice's own 'created' entry."""
    return (all(_count(db, m) == 0 for m in (BankRequest, BankMessage, Payment, Notice))
            and _count(db, AuditEntry, AuditEntry.action != "created") == 0)


@pytest.fixture
def inv(seed):
    return seed(invoice_row(1, invoice_no=INV, amount="15750.50"))[0]


def test_inquiry_gives_the_customer_name_and_amount(directlink, inv):
    response = directlink.post(soap_request("Inquiry", inv, bank_ref="INQ1"))
    assert response.status_code == 200 and response.content_type.startswith("text/xml")
    answer = directlink.fields(response)
    assert answer["respcode"] == "0000" and answer["bankref"] == "INQ1"
    assert answer["cusname"] == inv["payer_name"] and answer["amount"] == "15750.50"
    assert answer["tranxid"].startswith("TISI")


def test_payment_marks_paid_and_tells_each_asker_once(directlink, line, inv, db, fake_line):
    line.say(INV)
    line.say("ท 5137-2/10", user_id=OTHER_USER)
    response = directlink.post(soap_request("PAYMENT", inv, bank_ref="PAY1", amount="15750.5"))
    assert directlink.fields(response)["respcode"] == "0000"
    with db.sessions() as s:
        assert s.scalar(select(Invoice.status)) == "paid"
        payment = s.scalar(select(Payment))
        assert (payment.bank_code, payment.bank_ref, payment.channel) == ("006", "PAY1", "ATM")
    assert fake_line.wait_for(lambda f: len(f.pushes()) >= 2)
    drain(db)
    assert sorted(p.to for p in fake_line.pushes()) == sorted([USER, OTHER_USER])


def test_the_same_bankref_again_gets_the_byte_identical_answer(directlink, inv, db):
    body = soap_request("Payment", inv, bank_ref="AGAIN1")
    first = directlink.post(body)
    again = directlink.post(body)
    assert first.status_code == again.status_code == 200
    assert first.data == again.data
    assert _count(db, Payment) == 1 and _count(db, BankMessage) == 2


def test_namespaces_and_element_order_do_not_matter(directlink, inv):
    fields = ["ref2", "amount", "bankref", "ref1", "channel", "datetime", "bankcode", "command", "comcode", "password",
              "user"]
    body = soap_request("inquiry", inv, bank_ref="ORDER1", order=fields, prefix="S", ns="http://other.example/ns")
    assert directlink.fields(directlink.post(body))["respcode"] == "0000"


def test_reversal_puts_the_invoice_back(directlink, inv, db):
    directlink.post(soap_request("Payment", inv, bank_ref="REV1"))
    response = directlink.post(soap_request("Reversal", inv, bank_ref="REV1"))
    assert directlink.fields(response)["respcode"] == "0000"
    with db.sessions() as s:
        assert s.scalar(select(Invoice.status)) == "unpaid"
        assert s.scalar(select(Payment.status)) == "reversed"


@pytest.mark.parametrize("command, extra, code", [
    ("Payment", {"amount": "100.00"}, "1003"),
    ("Payment", {"ref2": "99999999"}, "1001"),
    ("Reversal", {"bankref": "NEVERPAID"}, "1006"),
])
def test_business_refusals_use_the_same_codes(directlink, inv, command, extra, code):
    assert directlink.fields(directlink.post(soap_request(command, inv, **extra)))["respcode"] == code


def test_one_payment_by_soap_and_json_is_one_payment(directlink, bank, inv, db):
    soap = directlink.post(soap_request("Payment", inv, bank_ref="BOTH1"))
    json_answer = bank.post(bank.body("payment", inv, bank_ref="BOTH1"))
    assert directlink.fields(soap)["respcode"] == "0000" and json_answer.get_json()["respCode"] == "0000"
    assert directlink.fields(soap)["tranxid"] == json_answer.get_json()["tranxId"]  # the stored answer
    assert _count(db, Payment) == 1 and _count(db, AuditEntry, AuditEntry.action == "paid") == 1


# -- authentication --------------------------------------------------------------------------------------
@pytest.mark.parametrize("extra", [{"password": "guess"}, {"user": "someone"}, {"comcode": "12345"},
                                   {"password": ""}])
def test_wrong_credentials_are_a_401_fault_and_store_nothing(directlink, inv, db, extra, caplog):
    response = directlink.post(soap_request("Payment", inv, bank_ref="AUTH1", **extra))
    assert response.status_code in (400, 401)  # an empty password is a missing field
    assert b"Fault" in response.data and b"soap:Client" in response.data
    assert _nothing_stored(db)
    assert "guess" not in caplog.text and "ktb-test-password" not in caplog.text  # never the password


@pytest.fixture
def guarded(database_url, fake_line, db):
    """An app that allows Krungthai's (made-up) 203.0.113.0/24 and trusts a proxy at 10.0.0.1."""
    from bot.factory import create_app

    env = make_env(database_url, fake_line.url, KTB_ALLOWED_IPS="203.0.113.0/24, 2001:db8::/32",
                   TRUSTED_PROXIES="10.0.0.1")
    app = create_app(Settings.from_env(env), db=db)
    yield DirectLink(app.test_client())
    app.extensions["tisi"].close()


@pytest.mark.parametrize("remote, forwarded, expected", [
    ("203.0.113.7", None, 200),  # Krungthai, directly
    ("10.0.0.1", "203.0.113.7", 200),  # Krungthai, through our proxy
    ("10.0.0.1", "198.51.100.9, 203.0.113.7", 200),  # the right-most hop our proxy saw is Krungthai
    ("198.51.100.9", None, 401),  # someone else
    ("198.51.100.9", "203.0.113.7", 401),  # someone else, claiming to be Krungthai
    ("10.0.0.1", "203.0.113.7, 198.51.100.9", 401),  # the proxy saw someone else
    ("10.0.0.1", "not-an-address", 401),
])
def test_callers_outside_the_allowed_networks_are_refused(guarded, inv, db, remote, forwarded, expected, caplog):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = guarded.post(soap_request("Inquiry", inv, bank_ref="IP1"), remote_addr=remote, headers=headers)
    assert response.status_code == expected
    if expected == 401:
        assert _nothing_stored(db) and b"soap:Client" in response.data
        assert caplog.text.count("outside KTB_ALLOWED_IPS") == 1


# -- hostile XML -----------------------------------------------------------------------------------------
XXE = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><RequestCode>'
       b'<user>&x;</user></RequestCode></soap:Body></soap:Envelope>')
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b']><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><RequestCode>'
            b'<user>&lol9;</user></RequestCode></soap:Body></soap:Envelope>')


@pytest.mark.parametrize("body, status", [
    (b"<not xml", 400),
    (b"", 400),
    (b"<a/>", 400),
    (XXE, 400),
    (LAUGHS, 400),
    (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>', 400),
    (b"<x>" + b"a" * (1024 * 1024) + b"</x>", 413),
])
def test_hostile_or_malformed_xml_is_refused_fast(directlink, inv, db, body, status):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = directlink.post(body)
    assert response.status_code == status and b"soap:Client" in response.data
    assert time.perf_counter() - started < 1.0
    assert b"root:" not in response.data  # /etc/passwd was not read into anything
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KB: flat
    assert _count(db, Payment) == 0 and _count(db, BankRequest) == 0


@pytest.mark.parametrize("command, extra", [
    ("Refund", {}), ("Payment", {"amount": "1,000"}), ("Payment", {"amount": "10.555"}),
    ("Payment", {"channel": "PIGEON"}), ("Payment", {"datetime": "yesterday"}), ("Payment", {"bankcode": "KTB"}),
    ("Payment", {"ref1": "&lt;b&gt;"}), ("Payment", {"effdate": "25-11-2026"}),
])
def test_a_bad_field_is_a_400_fault(directlink, inv, db, command, extra):
    response = directlink.post(soap_request(command, inv, bank_ref="BAD1", **extra))
    assert response.status_code == 400 and b"soap:Client" in response.data
    assert _count(db, Payment) == 0


# -- concurrency: both adapters at once --------------------------------------------------------------------
@pytest.fixture
def live(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.slow
def test_the_same_payment_20_times_by_soap_and_json_at_once_is_one_payment(live, line, inv, db, fake_line):
    line.say(INV)
    soap = soap_request("Payment", inv, bank_ref="RACE20")
    raw = json.dumps({"command": "payment", "bankCode": "006", "bankRef": "RACE20", "billerId": "099999999999990",
                      "ref1": inv["invoice_no"], "ref2": inv["ref2"], "amount": inv["amount"], "channel": "ATM",
                      "transDateTime": "2026-11-25T14:30:00+07:00"}).encode()
    barrier = threading.Barrier(20)
    codes = []

    def call(i):
        if i % 2:
            req = urllib.request.Request(f"{live}/bank/ktb/directlink", data=soap, method="POST",
                                         headers={"Content-Type": "text/xml"})
        else:
            ts = str(int(time.time()))
            req = urllib.request.Request(f"{live}/bank/ktb/billpayment", data=raw, method="POST", headers={
                "Content-Type": "application/json", "X-Bank-Timestamp": ts,
                "X-Bank-Signature": bank_signature(BANK_SECRET, ts, raw)})
        barrier.wait()
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = resp.read()
        codes.append(json.loads(body)["respCode"] if i % 2 == 0 else DirectLink.fields(body)["respcode"])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == ["0000"] * 20
    assert _count(db, Payment) == 1 and _count(db, BankRequest) == 1
    assert fake_line.wait_for(lambda f: len(f.pushes()) >= 1)
    drain(db)
    assert [p.to for p in fake_line.pushes()] == [USER]


def test_directlink_is_off_without_its_credentials(database_url, fake_line, db):
    from bot.factory import create_app

    env = make_env(database_url, fake_line.url)
    env.pop("KTB_DIRECTLINK_PASSWORD")
    app = create_app(Settings.from_env(env), db=db)
    assert app.test_client().post("/bank/ktb/directlink", data=b"<x/>").status_code == 404
    app.extensions["tisi"].close()


def test_company_code_is_required_with_directlink(database_url):
    from bot.config import ConfigError

    env = make_env(database_url, "http://127.0.0.1:1")
    env.pop("KTB_COMPANY_CODE")
    with pytest.raises(ConfigError, match="KTB_COMPANY_CODE"):
        Settings.from_env(env)
