"""`tisi-pay demo`: the whole bot on one machine, with no LINE account and no network.

SQLite under ./instance/, demo invoices (test biller 099999999999990), the fake LINE Messaging
API mounted at /fake-line, and a LINE simulator at /simulator that posts signed webhooks to the
real /callback and shows what the bot sent back.
"""
from __future__ import annotations

import json
import os
import secrets
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple

from bot.config import DEMO_BILLER_ID, DEMO_ISSUER_TAX_ID, Settings
from bot.core.dates import today_bangkok, utcnow
from bot.core.taxid import with_check_digit

if TYPE_CHECKING:
    from flask import Flask

INSTANCE = Path("instance")
DEMO_CHANNEL_SECRET = "demo-channel-secret"
DEMO_BANK_SECRET = "demo-bank-secret"
DEMO_RECEIPT_PASSWORD = "demo-receipt-test"


def demo_environment(host: str, port: int) -> dict[str, str]:
    """The demo's whole configuration, as environment variables."""
    INSTANCE.mkdir(exist_ok=True)
    key_file = INSTANCE / "demo_secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(32))
    origin = f"http://{host}:{port}"
    p12 = INSTANCE / "receipt-signing-TEST.p12"
    if not _rsa_p12(p12):  # receipts signed with a self-signed test certificate, named as one
        from bot.dev.testcert import make_test_p12

        make_test_p12(p12, DEMO_RECEIPT_PASSWORD)
    defaults = {
        "DATABASE_URL": f"sqlite:///{(INSTANCE / 'tisi_pay.db').resolve()}",
        "LINE_CHANNEL_SECRET": DEMO_CHANNEL_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": "demo-access-token",
        "LINE_API_URL": f"{origin}/fake-line",
        "LINE_DATA_API_URL": f"{origin}/fake-line-data",
        "PUBLIC_BASE_URL": origin,
        "BILLER_ID": DEMO_BILLER_ID,
        "SECRET_KEY": key_file.read_text().strip(),
        "BANK_WEBHOOK_SECRET": DEMO_BANK_SECRET,
        # Krungthai's Direct Link, played by the simulator's "pay" switch (made-up credentials).
        "KTB_DIRECTLINK_USER": "demo-ktb",
        "KTB_DIRECTLINK_PASSWORD": "demo-ktb-password",
        "KTB_COMPANY_CODE": "99999",
        "WORKER": "inline",
        "RECEIPT_SIGNING_P12": str(p12.resolve()),
        "RECEIPT_SIGNING_PASSWORD": DEMO_RECEIPT_PASSWORD,
        "RECEIPT_ISSUER_TAX_ID": DEMO_ISSUER_TAX_ID,
    }
    return defaults


def _rsa_p12(path: Path) -> bool:
    """The demo's test key exists and is RSA (a demo folder of before 2026-12-07 holds an ECDSA key,
    which would make its receipts PDF 2.0: it is made again)."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        key, _, _ = pkcs12.load_key_and_certificates(path.read_bytes(), DEMO_RECEIPT_PASSWORD.encode())
    except (OSError, ValueError):
        return False
    return isinstance(key, rsa.RSAPrivateKey)


def demo_settings(host: str, port: int) -> Settings:
    # The demo is self-contained: it ignores the production variables of this shell.
    return Settings.from_env(env={}, demo_defaults=demo_environment(host, port))


def write_env_file(host: str, port: int, path: Path = Path(".env")) -> bool:
    """On the first run, ./.env with the demo's settings, so that every other `tisi-pay` command
    run in this folder (remind, health, audit verify, reconcile, richmenu deploy) works against
    the demo. Never over an existing file: it may be someone's real configuration."""
    if path.exists():
        return False
    lines = ["# Written by `tisi-pay demo` on its first run: the demo's settings, read by every",
             "# `tisi-pay` command run in this folder (variables set in the shell win).",
             "# Test values only; delete this file before configuring a real bot here."]
    lines += [f"{name}={value}" for name, value in demo_environment(host, port).items()]
    path.write_text("\n".join(lines) + "\n")
    return True


# The examples the chat, the README and the help show (2568110400012345, ท 5137-2/10) are demo
# invoices: fixed numbers, due dates counted from today so that they stay payable.
DEMO_INVOICE_PREFIX = "25681104"


def demo_invoice_rows() -> list[dict]:
    today = today_bangkok()
    tax_a, tax_b = with_check_digit("010555012345"), with_check_digit("010554698765")

    def row(seq, fee, amount, days, license_no="", payer="บริษัท ไทยอุตสาหกรรมเหล็ก จำกัด", tax=tax_a, desc=""):
        return {
            "invoice_no": f"{DEMO_INVOICE_PREFIX}{seq:08d}", "ref2": f"6811{seq % 10000:04d}",
            "license_no": license_no, "tax_id": tax, "payer_name": payer, "fee_code": fee,
            "description": desc, "amount": amount, "due_date": (today + timedelta(days=days)).isoformat(),
        }

    return [
        row(12345, "LICENSE", "1000.00", 30, "ท5137-2/10", desc="ค่าธรรมเนียมใบอนุญาตทำผลิตภัณฑ์ มอก. 2434-2555"),
        row(12346, "ANNUAL", "500.00", 20, "ท5137-2/10", desc="ค่าธรรมเนียมรายปี"),
        row(12347, "INSPECTION", "36000.00", 15, "ส1234-5/67", payer="ห้างหุ้นส่วนจำกัด สยามมาตรฐาน", tax=tax_b,
            desc="ค่าตรวจประเมินโรงงาน"),
        row(12348, "STANDARD_BOOK", "350.00", 10, payer="นาย สมชาย ใจดี", tax=tax_b, desc="หนังสือ มอก. 2434-2555"),
        row(12349, "TRANSLATION", "1200.50", -3, "น2001-1/68", desc="ค่าแปลเอกสาร (หมดอายุแล้ว)"),
    ]


def prepare(settings: Settings) -> list[dict]:
    from bot.data.db import Database
    from bot.data.migrate import upgrade
    from bot.ledger.invoices import upsert_invoices

    upgrade(settings.database_url)
    rows = demo_invoice_rows()
    db = Database(settings.database_url)
    with db.transaction() as session:
        upsert_invoices(session, enumerate(rows, start=2), actor="demo")
    db.dispose()
    return rows


DEMO_STAFF = "demo-admin"


def demo_staff(settings: Settings) -> dict:
    """The demo's staff console account (admin), made on the first run and kept in
    instance/demo-staff.json: its password is set (no one-time password to change) and the
    simulator shows its current code at /simulator/staff."""

    from sqlalchemy import select, update

    from bot.data.db import Database
    from bot.data.models import StaffAccount
    from bot.data.states import StaffRole
    from bot.ledger.staff import add_account

    path = INSTANCE / "demo-staff.json"
    db = Database(settings.database_url)
    try:
        with db.transaction() as session:
            exists = session.scalar(select(StaffAccount.id).where(StaffAccount.name == DEMO_STAFF)) is not None
            if exists and path.exists():
                return json.loads(path.read_text())
            if exists:  # the file was deleted: the account cannot be used without it, so start it again
                session.execute(update(StaffAccount).where(StaffAccount.name == DEMO_STAFF)
                                .values(name=f"{DEMO_STAFF}-old-{secrets.token_hex(3)}", disabled_at=utcnow()))
            made = add_account(session, DEMO_STAFF, StaffRole.ADMIN, actor="demo")
            session.execute(update(StaffAccount).where(StaffAccount.name == DEMO_STAFF).values(password_temporary=False))
    finally:
        db.dispose()
    account = {"name": made.name, "password": made.password, "secret": made.totp_secret, "uri": made.totp_uri}
    path.write_text(json.dumps(account, indent=1))
    path.chmod(0o600)
    return account


def build_demo_app(host: str, port: int):
    """The demo app, with the fake LINE API mounted at /fake-line; and the demo invoices."""
    from bot.dev.fake_line import FakeLine
    from bot.dev.simulator import init_simulator
    from bot.factory import create_app

    settings = demo_settings(host, port)
    rows = prepare(settings)
    staff = demo_staff(settings)
    fake = FakeLine(access_token=settings.line_channel_access_token)
    app = create_app(settings)
    init_simulator(app, fake, bank_secret=DEMO_BANK_SECRET, staff=staff)
    # Flask's documented way to mount other WSGI apps beside it:
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {  # type: ignore[method-assign]
        "/fake-line": fake, "/fake-line-data": fake.data_host})
    write_demo_statement(app, rows)
    return app, rows


# The demo's statement file: one invoice paid (through the bank's real endpoint) and in the file,
# one in the file that the bank never confirmed to us: the one difference reconciliation finds.
DEMO_PAID, DEMO_NOT_ONLINE = 3, 2  # indexes into demo_invoice_rows(): the standard book, the inspection


def write_demo_statement(app: Flask, rows: list[dict]) -> Path:
    """instance/demo-statement-YYYYMMDD.txt, Krungthai's layout, for today (Bangkok): to upload in
    the console's reconciliation page (or `tisi-pay reconcile`)."""
    from bot.core.dates import to_bangkok
    from bot.core.signing import bank_signature
    from bot.core.statement import build_statement
    from bot.ledger.invoices import find_invoice

    tisi = app.extensions["tisi"]
    paid = rows[DEMO_PAID]
    with tisi.db.sessions() as session:
        inv = find_invoice(session, paid["invoice_no"])
        already = inv is not None and inv.status == "paid"
    now = to_bangkok(utcnow())
    if not already:
        body = json.dumps({
            "command": "payment", "bankCode": "006", "bankRef": f"DEMO{now:%Y%m%d}", "billerId": tisi.settings.biller_id,
            "ref1": paid["invoice_no"], "ref2": paid["ref2"], "amount": paid["amount"], "channel": "COUNTER",
            "transDateTime": now.isoformat(timespec="seconds")}).encode()
        stamp = str(int(time.time()))
        app.test_client().post("/bank/ktb/billpayment", data=body, headers={
            "Content-Type": "application/json", "X-Bank-Timestamp": stamp,
            "X-Bank-Signature": bank_signature(DEMO_BANK_SECRET, stamp, body)})
    details = [{"paid_on": now.date(), "paid_at": now.time().replace(microsecond=0), "customer_name": row["payer_name"],
                "ref1": row["invoice_no"], "ref2": row["ref2"], "kind": "C", "amount": Decimal(row["amount"])}
               for row in (paid, rows[DEMO_NOT_ONLINE])]
    path = INSTANCE / f"demo-statement-{now:%Y%m%d}.txt"
    path.write_bytes(build_statement("1234567890", "TISI", now.date(), details, framing="krungthai"))
    return path


def run_demo(host: str, port: int, serve: bool = True) -> None:
    app, rows = build_demo_app(host, port)
    if write_env_file(host, port):
        print("Wrote ./.env with the demo's settings: other tisi-pay commands in this folder use the demo.")
    print(f"TISI Pay demo: open http://{host}:{port}/simulator  (database: {app.extensions['tisi'].settings.database_url})")
    print("Demo invoices: " + ", ".join(r["invoice_no"] for r in rows) + "; licenses ท5137-2/10, ส1234-5/67")
    print(f"Staff console: http://{host}:{port}/staff  (account {DEMO_STAFF}; its password and current code: "
          f"http://{host}:{port}/simulator/staff)")
    if serve:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


if __name__ == "__main__":  # pragma: no cover
    run_demo("127.0.0.1", int(os.environ.get("PORT", "5000")))
