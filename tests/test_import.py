"""`tisi-pay invoices import FILE.csv` (columns in docs/integrators.md)."""
import csv
import io
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import cli
from bot.core.dates import today_bangkok
from bot.data.models import AuditEntry, Invoice
from tests.conftest import NO_ENV_FILE, invoice_row

HEADER = ["invoice_no", "ref2", "license_no", "tax_id", "payer_name", "fee_code", "description", "amount", "due_date"]


def _csv(rows, header=HEADER, bom=False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header] if isinstance(row, dict) else row)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


def _run(database_url, tmp_path, data: bytes, *options: str):
    path = tmp_path / "invoices.csv"
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["invoices", "import", *options, str(path)], env={"DATABASE_URL": database_url})
    return result.exit_code, result.output


def _invoices(db):
    with db.sessions() as s:
        return {i.invoice_no: i for i in s.scalars(select(Invoice))}


def test_import_creates_and_reimport_changes_nothing(database_url, db, tmp_path):
    data = _csv([invoice_row(1), invoice_row(2, license_no="", amount="36000.5"), invoice_row(3, license_no="ท 5137 - 2/10")], bom=True)
    code, out = _run(database_url, tmp_path, data)
    assert code == 0, out
    assert "created: 3" in out and "rejected: 0" in out
    invoices = _invoices(db)
    assert invoices["2568110400000002"].amount == Decimal("36000.50")
    assert invoices["2568110400000002"].license_no is None
    assert invoices["2568110400000003"].license_no == "ท5137-2/10"
    with db.sessions() as s:
        audits = s.scalar(select(func.count()).select_from(AuditEntry))
    code, out = _run(database_url, tmp_path, data)
    assert code == 0 and "created: 0" in out and "updated: 0" in out and "unchanged: 3" in out
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audits


def test_columns_in_any_order(database_url, db, tmp_path):
    header = list(reversed(HEADER))
    code, out = _run(database_url, tmp_path, _csv([invoice_row(1)], header=header))
    assert code == 0 and "created: 1" in out


BAD_ROWS = [
    (dict(tax_id="0105550123452"), "tax_id"),  # wrong check digit
    (dict(tax_id="12345"), "tax_id"),
    (dict(invoice_no="2568-1104"), "invoice_no"),
    (dict(invoice_no="abc"), "invoice_no"),
    (dict(invoice_no="1" * 21), "invoice_no"),
    (dict(ref2=""), "ref2"),
    (dict(amount="0"), "amount"),
    (dict(amount="-100.00"), "amount"),
    (dict(amount="100.001"), "amount"),
    (dict(amount="1,000.00"), "amount"),
    (dict(amount="1e3"), "amount"),
    (dict(fee_code="PARKING"), "fee_code"),
    (dict(due_date="25/11/2026"), "due_date"),
    (dict(due_date="2026-02-30"), "due_date"),
    (dict(license_no="XYZ"), "license_no"),
    (dict(payer_name=""), "payer_name"),
]


@pytest.mark.parametrize("change, field", BAD_ROWS, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD_ROWS)])
def test_a_broken_row_is_reported_with_its_line_and_nothing_of_it_is_written(database_url, db, tmp_path, change, field):
    rows = [invoice_row(1), invoice_row(2, **change), invoice_row(3)]
    code, out = _run(database_url, tmp_path, _csv(rows))
    assert code == 1
    assert "created: 2" in out and "rejected: 1" in out
    assert f"line 3: {field}" in out
    assert set(_invoices(db)) == {"2568110400000001", "2568110400000003"}


def test_wrong_column_count_and_duplicates(database_url, db, tmp_path):
    rows = [invoice_row(1), ["only", "three", "cells"], invoice_row(1)]
    code, out = _run(database_url, tmp_path, _csv(rows))
    assert code == 1
    assert "line 3: expected 9 columns" in out and "line 4: invoice_no 2568110400000001 repeats line 2" in out
    assert len(_invoices(db)) == 1


def test_missing_columns_and_bad_encoding_reject_the_file(database_url, db, tmp_path):
    code, out = _run(database_url, tmp_path, _csv([invoice_row(1)], header=HEADER[:-1]))
    assert code == 1 and "missing columns: due_date" in out
    code, out = _run(database_url, tmp_path, "invoice_no\n".encode("utf-16"))
    assert code == 1 and "not UTF-8" in out
    assert _invoices(db) == {}


def test_update_of_an_unpaid_invoice_is_audited_and_paid_ones_are_protected(database_url, db, tmp_path):
    _run(database_url, tmp_path, _csv([invoice_row(1), invoice_row(2)]))
    with db.transaction() as s:
        s.scalar(select(Invoice).where(Invoice.invoice_no == "2568110400000002")).status = "paid"
    code, out = _run(database_url, tmp_path, _csv([invoice_row(1, amount="1500.00"), invoice_row(2, amount="1.00")]))
    assert code == 1 and "updated: 1" in out and "is paid; it can no longer be changed" in out
    invoices = _invoices(db)
    assert invoices["2568110400000001"].amount == Decimal("1500.00")
    assert invoices["2568110400000002"].amount == Decimal("1000.00")
    with db.sessions() as s:
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["created", "created", "amount_changed"]


def test_console_script_and_db_upgrade(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path}/cli.db")
    exe = os.path.join(os.path.dirname(sys.executable), "tisi-pay")
    up = subprocess.run([exe, "db", "upgrade"], cwd=NO_ENV_FILE, env=env, capture_output=True, text=True, timeout=60)
    assert up.returncode == 0, up.stderr
    path = tmp_path / "i.csv"
    path.write_bytes(_csv([invoice_row(1), invoice_row(2, tax_id="1")]))
    imp = subprocess.run([exe, "invoices", "import", str(path)], cwd=NO_ENV_FILE, env=env, capture_output=True, text=True, timeout=60)
    assert imp.returncode == 1 and "created: 1" in imp.stdout and "line 3: tax_id" in imp.stdout


def test_run_without_required_settings_names_them(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "BILLER", "SECRET", "PUBLIC"))}
    exe = os.path.join(os.path.dirname(sys.executable), "tisi-pay")
    result = subprocess.run([exe, "run", "--port", "9"], cwd=NO_ENV_FILE, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "LINE_CHANNEL_SECRET" in result.stderr and "BILLER_ID" in result.stderr and "SECRET_KEY" in result.stderr


def test_help_lists_our_commands_only():
    exe = os.path.join(os.path.dirname(sys.executable), "tisi-pay")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "BILLER", "SECRET", "PUBLIC", "DATABASE"))}
    shown = subprocess.run([exe, "--help"], cwd=NO_ENV_FILE, env=env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    listed = [line.split()[0] for line in shown.stdout.split("Commands:", 1)[1].splitlines()
              if line.startswith("  ") and not line.startswith("    ")]
    assert listed == ["demo", "run", "serve", "db", "invoices", "remind", "richmenu", "worker", "health", "reconcile", "audit", "receipt", "staff"]
    for flask_only in ("routes", "shell", "--env-file", "--app", "development server"):
        assert flask_only not in shown.stdout
    # Each with one line that says what it does (no "..." cut by the terminal width).
    assert "..." not in shown.stdout.split("Commands:", 1)[1]
    assert "Serve the web app" in shown.stdout
    for command in (["invoices", "import"], ["run"], ["audit", "verify"]):
        sub = subprocess.run([exe, *command, "--help"], cwd=NO_ENV_FILE, env=env, capture_output=True, text=True, timeout=60)
        assert sub.returncode == 0 and "CONTRACT" not in sub.stdout
    columns = subprocess.run([exe, "invoices", "import", "--help"], cwd=NO_ENV_FILE, env=env, capture_output=True, text=True,
                             timeout=60).stdout
    assert "invoice_no" in columns and "due_date" in columns and "docs/integrators.md" in columns


# -- mistakes a spreadsheet makes ------------------------------------------------------------------
def test_a_buddhist_era_due_date_is_refused_with_the_gregorian_one_to_write(database_url, db, tmp_path):
    year = today_bangkok().year  # this year's last day, written in the Buddhist era
    code, out = _run(database_url, tmp_path, _csv([invoice_row(1, due_date=f"{year + 543}-12-31")]))
    assert code == 1 and "rejected: 1" in out
    assert f"line 2: due_date {year + 543}-12-31 looks like a Buddhist-era year" in out and f"{year}-12-31" in out
    assert _invoices(db) == {}  # never shown as "31 ธันวาคม 3112" with a payable QR


def test_a_rejected_row_lists_every_problem(database_url, db, tmp_path):
    row = invoice_row(1, tax_id="1234567890123", fee_code="TIP", amount="12.345", due_date="2569-01-01")
    code, out = _run(database_url, tmp_path, _csv([row]))
    assert code == 1
    line = next(row for row in out.splitlines() if row.strip().startswith("line 2:"))
    for problem in ("tax_id", "fee_code", "amount", "Buddhist-era"):
        assert problem in line, line


def test_a_thai_windows_file_is_refused_with_a_hint_or_read_with_its_encoding(database_url, db, tmp_path):
    data = _csv([invoice_row(1, payer_name="บริษัท ไทยอุตสาหกรรมเหล็ก จำกัด")]).decode().encode("cp874")
    code, out = _run(database_url, tmp_path, data)
    assert code == 1 and "not UTF-8" in out and "--encoding tis-620" in out
    assert _invoices(db) == {}
    code, out = _run(database_url, tmp_path, data, "--encoding", "tis-620")
    assert code == 0 and "created: 1" in out
    assert _invoices(db)["2568110400000001"].payer_name == "บริษัท ไทยอุตสาหกรรมเหล็ก จำกัด"
