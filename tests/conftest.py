"""Shared fixtures: a real app on SQLite and PostgreSQL, a fake LINE API over real HTTP,
and senders that sign webhook and bank requests exactly as LINE and the bank do."""
from __future__ import annotations

import copy
import fcntl
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyotp
import pytest
import time_machine
from argon2 import PasswordHasher
from sqlalchemy import create_engine, func, select, text, union_all

from bot.config import DEMO_ISSUER_TAX_ID, Settings
from bot.core import credentials as _credentials
from bot.core.dates import today_bangkok
from bot.core.signing import bank_signature, line_signature
from bot.core.taxid import with_check_digit
from bot.data.db import Database
from bot.data.migrate import upgrade
from bot.dev.fake_line import FakeLine
from bot.runtime import worker as _worker

# A worker in a test process records each outcome at once: tests wait for every reply's outcome
# (Line.settle, drain), and the 50 ms a worker waits to record outcomes together (throughput,
# measured by `python -m bench`) was most of that wait. Worker processes a test starts keep it.
_worker.RECORD_DELAY = 0.0

# Compiled files are kept even where PYTHONDONTWRITEBYTECODE is set (as on our development machine): each
# xdist process rewrote every test module's asserts anew (5 s of its start), and each `tisi-pay`
# process the suite starts compiled bot/ again.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# Staff passwords are hashed with argon2id at its smallest cost in the test process: a production
# hash is 0.1 s of CPU and the console tests make hundreds. The decoy checked for an unknown name is
# made alike, so a wrong name still costs what a wrong password costs; the timing test puts the
# production cost back (`production_password_cost`).
_PRODUCTION_HASHING = (_credentials._HASHER, _credentials.DECOY_HASH)
_credentials._HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_credentials.DECOY_HASH = _credentials.hash_password("a decoy nobody knows")


@pytest.fixture
def production_password_cost(monkeypatch):
    monkeypatch.setattr(_credentials, "_HASHER", _PRODUCTION_HASHING[0])
    monkeypatch.setattr(_credentials, "DECOY_HASH", _PRODUCTION_HASHING[1])

FIXTURES = Path(__file__).parent / "fixtures"
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CHANNEL_SECRET = "test-channel-secret"
ACCESS_TOKEN = "test-access-token"
BANK_SECRET = "test-bank-secret"
API_TOKEN = "test-api-token"
KTB_USER, KTB_PASSWORD, KTB_COMCODE = "ktb-test", "ktb-test-password", "99999"
BILLER_ID = "099999999999990"
USER = "U" + "a" * 32
OTHER_USER = "U" + "b" * 32
TAX_ID = with_check_digit("010555012345")


# -- the clock -------------------------------------------------------------------------------
# Every test reads "now" through one clock: the machine's, or with TEST_CLOCK_AHEAD_DAYS=N the
# machine's moved N days ahead and ticking (CI runs the fast tests a year ahead, so a date written
# into a test is found before it expires). Python processes a test starts get the same clock
# through tests/clock_ahead/sitecustomize.py, put on their PYTHONPATH.
CLOCK_AHEAD_DAYS = int(os.environ.get("TEST_CLOCK_AHEAD_DAYS", "0") or 0)


@pytest.fixture(scope="session", autouse=True)
def _session_clock():
    if not CLOCK_AHEAD_DAYS:
        yield
        return
    site = str(Path(__file__).parent / "clock_ahead")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (site, os.environ.get("PYTHONPATH")) if p)
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(days=CLOCK_AHEAD_DAYS), tick=True):
        yield


class Clock:
    """The tests' clock: `at(moment)` puts the rest of the test at a fixed moment, ticking from it."""

    def __init__(self):
        self._travels: list = []

    def at(self, moment: datetime | str) -> datetime:
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        assert moment.tzinfo is not None, "a test's moment is timezone-aware"
        travel = time_machine.travel(moment, tick=True)
        travel.start()
        self._travels.append(travel)
        return moment

    @staticmethod
    def now() -> datetime:
        return datetime.now(timezone.utc)

    def today(self):
        return today_bangkok(self.now())

    def stop(self) -> None:
        while self._travels:
            self._travels.pop().stop()


@pytest.fixture
def clock():
    c = Clock()
    yield c
    c.stop()


# -- databases -----------------------------------------------------------------------------
def _pg_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


PG_LOCK = Path(tempfile.gettempdir()) / "tisi-pay-tests-postgresql.lock"


@contextmanager
def postgresql_in_use(exclusive: bool = False):
    """Tests in parallel (pytest-xdist) share this machine's PostgreSQL: each holds a shared lock
    while it uses it, and a test that restarts the server holds it alone (the soak, only where it
    cannot make a cluster of its own: tests/test_soak.py)."""
    with open(PG_LOCK, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def empty_pg_database(prefix: str, *, hold: bool = True):
    """A new, empty PostgreSQL database (dropped after); skipped without PostgreSQL, failed in CI.
    `hold`: the server is in use (postgresql_in_use) while the database lives."""
    if not _pg_available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not reachable and CI=true: a missing PostgreSQL is a failure")
        pytest.skip("PostgreSQL not reachable")
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    # pre-ping: the soak (tests/test_soak.py) restarts PostgreSQL while this engine is kept for the
    # session's end, and a pooled connection from before the restart is dead.
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        if hold:
            with postgresql_in_use():
                yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        else:
            yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database():
    """One migrated PostgreSQL database for the session; tables are emptied between tests."""
    with empty_pg_database("tisi_test", hold=False) as url:  # each test holds the server while it uses it
        upgrade(url)
        yield url


TABLES = ("conversation_messages", "conversations", "staff_actions", "staff_sessions", "staff_accounts", "chain_checks",
          "photo_reads", "receipt_documents", "receipts", "receipt_counters", "chain_links", "subscriptions", "statement_files", "notices", "pending_reversals", "payments", "bank_requests", "bank_messages", "audit_entries",
          "watches", "inbox_events", "worker_heartbeats", "line_users", "invoices")


@pytest.fixture
def pg_in_use():
    with postgresql_in_use():
        yield


class _PgEmptier:
    """Empties the session's PostgreSQL database between tests: DELETE (about 1 ms on tables this
    small, where TRUNCATE made new files for 24 tables: 35 ms a test) and every id sequence back to 1."""

    def __init__(self, url: str):
        self.engine = create_engine(url, pool_size=1, pool_pre_ping=True)
        with self.engine.connect() as conn:
            sequences = conn.scalars(text("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                          "WHERE c.relkind = 'S' AND n.nspname = 'public' ORDER BY 1")).all()
        restart = ", ".join(f"setval('{name}', 1, false)" for name in sequences)
        # The audit tables refuse DELETE by trigger, and the foreign keys are triggers too: as the
        # owner, between tests, triggers are off.
        self.sql = text("SET LOCAL session_replication_role = replica; "
                        + "; ".join(f"DELETE FROM {table}" for table in TABLES)
                        + (f"; SELECT {restart}" if restart else ""))

    def __call__(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.sql)


@pytest.fixture(scope="session")
def pg_emptier(pg_database):
    emptier = _PgEmptier(pg_database)
    yield emptier
    emptier.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, sqlite_template) -> str:
    if request.param == "sqlite":
        path = tmp_path / "tisi.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    request.getfixturevalue("pg_in_use")
    url = request.getfixturevalue("pg_database")
    request.getfixturevalue("pg_emptier")()
    from bot.ledger.console import forget_past_days

    forget_past_days()  # the console's chart keeps closed days per database URL: this one is emptied
    return url


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


# -- LINE ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def fake_line_server():
    fake = FakeLine(access_token=ACCESS_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_line(fake_line_server, request):
    """The fake LINE API, reset. A reply or push it refused for its content (LINE's schema or
    limits) fails the test, unless the test is about such refusals (`refusals_expected`)."""
    fake_line_server.reset()
    yield fake_line_server
    if "refusals_expected" not in request.keywords:
        refused = list(fake_line_server.refusals)
        assert not refused, f"LINE would refuse {len(refused)} message(s) the bot sent: {refused[0]['details'][:3]}"


# Where the suite's `tisi-pay` processes run: every command reads ./.env (bot.cli.load_env_file),
# and the README's first command leaves one with the demo's settings in the checkout's folder —
# `tisi-pay run` then started serving instead of naming the settings it lacked.
NO_ENV_FILE = Path(tempfile.mkdtemp(prefix="tisi-pay-tests-cwd-"))


def make_env(database_url: str, fake_url: str, **overrides) -> dict:
    env = {
        "DATABASE_URL": database_url,
        "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
        "LINE_API_URL": fake_url,
        "LINE_DATA_API_URL": FakeLine.data_url_of(fake_url) or fake_url,
        "PUBLIC_BASE_URL": "http://127.0.0.1:8080",
        "BILLER_ID": BILLER_ID,
        "SECRET_KEY": "test-secret-key",
        "BANK_WEBHOOK_SECRET": BANK_SECRET,
        "UPSTREAM_API_TOKEN": API_TOKEN,
        "KTB_DIRECTLINK_USER": KTB_USER,
        "KTB_DIRECTLINK_PASSWORD": KTB_PASSWORD,
        "KTB_COMPANY_CODE": KTB_COMCODE,
        # The hour a test happens to run at must not decide what it sees (20:00-08:00 Bangkok held
        # new-invoice notices whenever CI ran in the evening): tests of quiet hours set their own.
        "QUIET_HOURS": "off",
    }
    env.update(overrides)
    return env


RECEIPT_PASSWORD = "receipt-test-password"


@pytest.fixture(scope="session")
def receipt_p12(tmp_path_factory) -> Path:
    """The Institute's signing key for the tests: a self-signed test certificate (bot.dev.testcert)."""
    from bot.dev.testcert import make_test_p12

    path = tmp_path_factory.mktemp("receipt-key") / "signing.p12"
    make_test_p12(path, RECEIPT_PASSWORD)
    return path


def receipt_env(p12: Path) -> dict:
    return {"RECEIPT_SIGNING_P12": str(p12), "RECEIPT_SIGNING_PASSWORD": RECEIPT_PASSWORD,
            "RECEIPT_ISSUER_TAX_ID": DEMO_ISSUER_TAX_ID}


@pytest.fixture
def settings(database_url, fake_line, tmp_path) -> Settings:
    return Settings.from_env(make_env(database_url, fake_line.url, BANK_SPOOL_DIR=str(tmp_path / "bank-spool")))


@pytest.fixture
def app(settings, db):
    from bot.factory import create_app

    application = create_app(settings, db=db)
    yield application
    application.extensions["tisi"].close()


@pytest.fixture
def demo_server(tmp_path, monkeypatch):
    """`tisi-pay demo`'s app (SQLite in a fresh ./instance, fake LINE, simulator) on a real port."""
    from werkzeug.serving import make_server

    from bot.dev.demo import build_demo_app

    monkeypatch.chdir(tmp_path)
    port = free_port()
    app, rows = build_demo_app("127.0.0.1", port)
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}", rows, app
    server.shutdown()
    app.extensions["tisi"].close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float = 15.0, every: float = 0.01, what: str = ""):
    """Until `condition()` is true (its value), or fail saying `what` was not so: for what
    happens off the caller's thread. The one waiting helper of the suite."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not so after {timeout} s: {what or getattr(condition, '__name__', condition)}")
        time.sleep(every)


def drain(db, timeout: float = 15.0) -> None:
    """Until the workers have nothing due left: every chat event answered (or given up), every
    due notice and upstream callback sent or failed, every receipt PDF made. After it, what was
    not sent will not be sent: "nothing more happened" is asserted after this, never after a sleep.
    (A notice held for later — quiet hours, a backoff — is not due, and not waited for.)"""
    from bot.core.dates import utcnow
    from bot.data.models import InboxEvent, Notice, Receipt
    from bot.data.states import InboxStatus, NoticeStatus

    if hasattr(db, "extensions"):  # an app: its database
        db = db.extensions["tisi"].db

    def idle() -> bool:
        with db.sessions() as s:
            busy = union_all(
                select(InboxEvent.id).where(InboxEvent.status.in_((*InboxStatus.open(), InboxStatus.PHOTO))),
                select(Notice.id).where(Notice.status == NoticeStatus.PENDING, Notice.next_attempt_at <= utcnow()),
                select(Receipt.payment_id).where(Receipt.pending.is_not(None)))
            return s.execute(busy.limit(1)).first() is None

    wait_for(idle, timeout, every=0.05)  # a query per look: not so often that it slows the workers it waits for


def claimed_and_planned(db, table: str, claim) -> tuple[list, list[str]]:
    """`claim(session)` run in a transaction: what it claimed, and the plan of the UPDATE it sent
    to `table` (claim_plan)."""
    from sqlalchemy import event

    seen: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith(f"UPDATE {table.upper()}"):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        with db.transaction() as session:
            claimed = claim(session)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    return claimed, claim_plan(db, *seen[0])


def claim_plan(db, statement: str, parameters) -> list[str]:
    """How the database would run a captured claim statement, as a worker runs it for the
    thousandth time: PostgreSQL's generic plan of the prepared statement (psycopg prepares a
    statement from its sixth run, and a plan made for any parameters uses a partial index only
    when the query holds its predicate as written); SQLite's plan (with this run's values)."""
    import re

    with db.engine.begin() as conn:
        if db.dialect != "postgresql":
            return [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
        names: list[str] = []

        def numbered(match) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        conn.exec_driver_sql("PREPARE tisi_claim_plan AS " + re.sub(r"%\((\w+)\)s", numbered, statement))
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a table this small is otherwise read whole
        from psycopg import sql as pgsql  # EXECUTE's arguments cannot be parameters: literals

        raw = conn.connection.dbapi_connection
        arguments = ", ".join(pgsql.Literal(parameters[name]).as_string(raw) for name in names)
        plan = [row[0] for row in conn.exec_driver_sql(f"EXPLAIN EXECUTE tisi_claim_plan({arguments})")]
        conn.exec_driver_sql("DEALLOCATE tisi_claim_plan")
        return plan


def wait_until_answers(url: str, proc=None, timeout: float = 60.0) -> None:
    """Until a server started in another process answers at `url` (fails early if it died)."""
    import urllib.request

    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            died = proc is not None and proc.poll() is not None
            if died or time.time() > deadline:
                raise AssertionError(f"{url} did not answer" + (" (the process exited)" if died else "")) from None
            time.sleep(0.2)


@pytest.fixture
def live_server(app):
    """The app on a real port, threaded: for concurrent clients."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def client(app):
    return app.test_client()


# -- senders -----------------------------------------------------------------------------------
def sample_events() -> list[dict]:
    return json.loads((FIXTURES / "line-webhook-sample.json").read_text())["events"]


def sample_event(kind: str, message_type: str | None = None) -> dict:
    for event in sample_events():
        if event["type"] == kind and (message_type is None or event.get("message", {}).get("type") == message_type):
            return copy.deepcopy(event)
    raise LookupError(kind)


def fresh(event: dict, user_id: str = USER) -> dict:
    event = copy.deepcopy(event)
    event["webhookEventId"] = uuid.uuid4().hex.upper()[:26]
    event["timestamp"] = int(time.time() * 1000)
    if "replyToken" in event:
        event["replyToken"] = uuid.uuid4().hex
    if user_id and event.get("source", {}).get("type") == "user":
        event["source"]["userId"] = user_id
    return event


def text_event(text_: str, user_id: str = USER) -> dict:
    event = fresh(sample_event("message", "text"), user_id)
    event["message"]["text"] = text_
    event["message"]["id"] = str(uuid.uuid4().int)[:18]
    return event


class HandlerRaised(AssertionError):
    """A chat handler raised: the user got an apology, and the test fails."""


class Line:
    """Posts webhooks to the app signed as LINE signs them and reads what the bot sent back.

    Replies are asynchronous: after a 200, `post` waits until the workers have finished every
    stored event, and fails the test if a handler raised (unless `allow_errors`).
    """

    def __init__(self, client, fake: FakeLine, db: Database):
        self.client, self.fake, self.db = client, fake, db
        self._errors_seen: set[int] = set()

    def post(self, events: list[dict], *, secret: str = CHANNEL_SECRET, raw: bytes | None = None,
             signature: str | None = None, settle: bool = True, allow_errors: bool = False):
        body = raw if raw is not None else json.dumps({"destination": "U" + "1" * 32, "events": events},
                                                      ensure_ascii=False).encode()
        for event in events:  # LINE's clock for each reply token starts with its webhook
            if isinstance(event, dict) and isinstance(event.get("replyToken"), str):
                self.fake.issue_reply_token(event["replyToken"])
        headers = {"Content-Type": "application/json"}
        sig = signature if signature is not None else line_signature(secret, body)
        if sig:
            headers["X-Line-Signature"] = sig
        response = self.client.post("/callback", data=body, headers=headers)
        if settle and response.status_code == 200:
            self.settle(allow_errors=allow_errors)
        return response

    def settle(self, timeout: float = 15.0, allow_errors: bool = False) -> None:
        """Wait until no stored event is waiting to be read (a photo), handled or replied to."""
        from bot.data.models import InboxEvent
        from bot.data.states import InboxStatus

        deadline = time.time() + timeout
        while True:
            with self.db.sessions() as s:
                open_ = s.scalar(select(func.count()).select_from(InboxEvent)
                                 .where(InboxEvent.status.in_((*InboxStatus.open(), InboxStatus.PHOTO))))
                errors = s.execute(select(InboxEvent.id, InboxEvent.handler_error)
                                   .where(InboxEvent.handler_error.is_not(None))).all()
            if not open_:
                break
            if time.time() > deadline:
                raise AssertionError(f"{open_} webhook event(s) still waiting after {timeout} s")
            time.sleep(0.01)
        new_errors = [e for e in errors if e.id not in self._errors_seen]
        self._errors_seen.update(e.id for e in new_errors)
        if new_errors and not allow_errors:
            raise HandlerRaised("a chat handler raised: " + "; ".join(e.handler_error for e in new_errors))

    def say(self, text_: str, user_id: str = USER) -> list[dict]:
        """Send one text message; the messages of the bot's reply to it."""
        event = text_event(text_, user_id)
        response = self.post([event])
        assert response.status_code == 200, response.data
        return self.reply_to(event["replyToken"])

    def reply_to(self, reply_token: str) -> list[dict]:
        matches = [s for s in self.fake.replies() if s.to == reply_token]
        assert len(matches) <= 1, "a reply token was used twice"
        return matches[0].messages if matches else []


@pytest.fixture
def line(client, fake_line, db) -> Line:
    return Line(client, fake_line, db)


class Bank:
    """Signs bill-payment requests as the bank does."""

    def __init__(self, client):
        self.client = client
        self.seq = 0

    def body(self, command: str, invoice, *, bank_ref: str | None = None, amount: str | None = None, **extra) -> dict:
        self.seq += 1
        body = {
            "command": command, "bankCode": "006", "bankRef": bank_ref or f"KTB{uuid.uuid4().hex[:12].upper()}",
            "billerId": BILLER_ID, "ref1": invoice["invoice_no"], "ref2": invoice["ref2"],
            "amount": amount if amount is not None else invoice["amount"], "channel": "QR",
            "transDateTime": "2026-11-25T14:30:00+07:00",
        }
        body.update(extra)
        return body

    def post(self, body, *, secret: str = BANK_SECRET, timestamp: str | None = None, raw: bytes | None = None,
             signature: str | None = None):
        data = raw if raw is not None else json.dumps(body).encode()
        ts = timestamp if timestamp is not None else str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Bank-Timestamp": ts,
                   "X-Bank-Signature": signature if signature is not None else bank_signature(secret, ts, data)}
        return self.client.post("/bank/ktb/billpayment", data=data, headers=headers)


@pytest.fixture
def bank(client) -> Bank:
    return Bank(client)


def soap_request(command: str, invoice: dict | None = None, *, bank_ref: str = "KTB0001", amount: str | None = None,
                 user: str = KTB_USER, password: str = KTB_PASSWORD, comcode: str = KTB_COMCODE,
                 order: list[str] | None = None, prefix: str = "soapenv", ns: str = "urn:ktb:directlink",
                 **extra: str) -> bytes:
    """A Direct Link RequestCode as Krungthai would send it (docs/integrators.md): our own builder."""
    invoice = invoice or {"invoice_no": "1", "ref2": "1", "amount": "1.00"}
    fields = {"user": user, "password": password, "comcode": comcode, "prodcode": "TISI", "command": command,
              "bankcode": "6", "bankref": bank_ref, "datetime": "20261125143000", "effdate": "20261125",
              "amount": amount if amount is not None else invoice["amount"], "channel": "ATM",
              "cusname": "", "ref1": invoice["invoice_no"], "ref2": invoice["ref2"], "ref3": "", "ref4": ""}
    fields.update(extra)
    names = order or list(fields)
    inner = "".join(f"<k:{n}>{fields[n]}</k:{n}>" for n in names if fields.get(n) is not None)
    return (f'<?xml version="1.0" encoding="utf-8"?><{prefix}:Envelope '
            f'xmlns:{prefix}="http://schemas.xmlsoap.org/soap/envelope/" xmlns:k="{ns}"><{prefix}:Header/>'
            f'<{prefix}:Body><k:RequestCode>{inner}</k:RequestCode></{prefix}:Body></{prefix}:Envelope>').encode()


class DirectLink:
    """Posts SOAP requests to /bank/ktb/directlink as Krungthai's servers would."""

    def __init__(self, client):
        self.client = client

    def post(self, body: bytes, *, remote_addr: str = "127.0.0.1", headers: dict | None = None):
        return self.client.post("/bank/ktb/directlink", data=body, environ_base={"REMOTE_ADDR": remote_addr},
                                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""',
                                         **(headers or {})})

    @staticmethod
    def fields(answer) -> dict:
        """The answer's (a response's, or raw bytes') elements by local name."""
        import xml.etree.ElementTree as ET

        root = ET.fromstring(getattr(answer, "data", answer))
        return {el.tag.rsplit("}", 1)[-1]: (el.text or "") for el in root.iter() if len(el) == 0}


@pytest.fixture
def directlink(client) -> DirectLink:
    return DirectLink(client)


# -- invoices ----------------------------------------------------------------------------------
def invoice_row(seq: int = 1, **overrides) -> dict:
    row = {
        "invoice_no": f"25681104{seq:08d}", "ref2": f"6811{seq:04d}", "license_no": "ท5137-2/10",
        "tax_id": TAX_ID, "payer_name": "บริษัท ไทยอุตสาหกรรมเหล็ก จำกัด", "fee_code": "LICENSE",
        "description": "ค่าธรรมเนียมใบอนุญาต", "amount": "1000.00",
        "due_date": (today_bangkok() + timedelta(days=30)).isoformat(),
    }
    row.update(overrides)
    return row


@pytest.fixture
def seed(db):
    """Load invoices through the same code path as the import command."""
    from bot.ledger.invoices import upsert_invoices

    def _seed(*rows: dict) -> list[dict]:
        with db.transaction() as session:
            result = upsert_invoices(session, enumerate(rows, start=2), actor="test")
        assert not result.rejected, result.rejected
        return list(rows)

    return _seed


def past(days: int) -> str:
    return (today_bangkok() - timedelta(days=days)).isoformat()


# -- the staff console -----------------------------------------------------------------------------
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
NEW_PASSWORD = "ช้างเผือก-Granite-2569"


def fresh_code(db, name: str) -> str:
    """A TOTP code the server has not seen for this account (each code works once)."""
    from bot.data.models import StaffAccount

    with db.sessions() as s:
        account = s.scalar(select(StaffAccount).where(StaffAccount.name == name))
    totp = pyotp.TOTP(account.totp_secret)
    while True:
        now = int(time.time())
        # The current step (still accepted if the clock passes into the next before the server
        # checks), or the next one when the current was used.
        step = max(totp.timecode(now), account.totp_last_step + 1)
        if step <= totp.timecode(now) + 1:
            return totp.generate_otp(step)
        time.sleep(1)


class Staff:
    """A browser-like client of the console: cookies kept, CSRF tokens read from the forms."""

    def __init__(self, client, db):
        self.client, self.db = client, db

    def token(self, path: str = "/staff/sign-in") -> str:
        page = self.client.get(path)
        found = CSRF_RE.search(page.get_data(as_text=True))
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def post(self, path: str, data: dict | None = None, *, token_from: str = "/staff/sign-in", csrf: bool = True):
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.token(token_from)
        return self.client.post(path, data=data)

    def sign_in(self, name: str, password: str, code: str | None = None):
        return self.post("/staff/sign-in", {"name": name, "password": password,
                                            "code": code if code is not None else fresh_code(self.db, name)})

    def cookie(self) -> str | None:
        found = self.client.get_cookie("tisi_staff", path="/staff")
        return found.value if found else None


def make_account(db, name: str, role: str):
    from bot.data.states import StaffRole
    from bot.ledger.staff import add_account

    with db.transaction() as s:
        return add_account(s, name, StaffRole(role))


@pytest.fixture
def staff_client(app, db):
    return Staff(app.test_client(), db)


@pytest.fixture
def signed_in(app, db):
    """A signed-in client of a given role (its one-time password already replaced)."""
    def _sign_in(role: str = "finance", name: str | None = None) -> Staff:
        name = name or f"{role}1"
        made = make_account(db, name, role)
        client = Staff(app.test_client(), db)
        assert client.sign_in(name, made.password).headers["Location"].endswith("/staff/password")
        answer = client.post("/staff/password", {"password": NEW_PASSWORD, "again": NEW_PASSWORD},
                             token_from="/staff/password")
        assert answer.status_code == 302, answer.get_data(as_text=True)
        return client
    return _sign_in


_ETDA_REFUSED: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def every_receipt_passes_etda():
    """Every receipt XML made in this process (issued and void, by the bank's path, the worker
    and the tests) is checked with ETDA's own XSD and Schematron; one that fails fails its
    test, and the run, even when a worker thread swallowed the error."""
    import bot.render.receipt as receipt_module
    from tests.etda_validate import problems

    original = receipt_module.receipt_xml

    def checked(r):
        xml = original(r)
        found = problems(xml)
        if found:
            _ETDA_REFUSED.append(f"{r.number}: {found[0]}")
            raise AssertionError(f"ETDA refuses receipt {r.number}: " + " | ".join(found))
        return xml

    receipt_module.receipt_xml = checked
    yield
    receipt_module.receipt_xml = original
    assert not _ETDA_REFUSED, f"{len(_ETDA_REFUSED)} receipt XML(s) failed ETDA's schema: {_ETDA_REFUSED[:3]}"
