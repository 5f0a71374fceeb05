"""`tisi-pay reconcile FILE`: the bank's statement against the payments confirmed online."""
from dataclasses import replace
from datetime import date, time
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import cli
from bot.core.statement import StatementError, build_statement, parse_statement
from bot.data.models import StatementFile
from tests.conftest import invoice_row

DAY = date(2026, 11, 25)


def _detail(row, amount="1000.00", kind="C", paid_on=DAY):
    return {"paid_on": paid_on, "paid_at": time(14, 30), "customer_name": "บริษัท ไทยอุตสาหกรรมเหล็ก จำกัด",
            "ref1": row["invoice_no"], "ref2": row["ref2"], "kind": kind, "amount": Decimal(amount)}


def _run(database_url, tmp_path, data: bytes, name="stmt.txt", *options):
    path = tmp_path / name
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["reconcile", *options, str(path)], env={"DATABASE_URL": database_url})
    return result.exit_code, result.output


def test_balanced_day(database_url, tmp_path, bank, seed, db):
    rows = seed(invoice_row(1), invoice_row(2, amount="500.00"))
    for i, row in enumerate(rows):
        assert bank.post(bank.body("payment", row, bank_ref=f"S{i}")).get_json()["respCode"] == "0000"
    data = build_statement("1234567890", "TISI", DAY, [_detail(rows[0]), _detail(rows[1], "500.00")])
    code, out = _run(database_url, tmp_path, data)
    assert code == 0 and "BALANCED" in out and "matched: 2" in out
    again_code, again = _run(database_url, tmp_path, data)  # the same file again changes nothing
    assert again_code == 0 and "already reconciled" in again
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StatementFile)) == 1


def test_every_kind_of_discrepancy_is_reported(database_url, tmp_path, bank, seed):
    rows = seed(*(invoice_row(i) for i in range(1, 6)))
    bank.post(bank.body("payment", rows[0], bank_ref="OK1"))
    bank.post(bank.body("payment", rows[1], bank_ref="MIS1"))
    bank.post(bank.body("payment", rows[3], bank_ref="ONLINE_ONLY"))
    bank.post(bank.body("payment", rows[4], bank_ref="REV1"))
    bank.post(bank.body("reversal", rows[4], bank_ref="REV1"))
    unknown = dict(rows[2], invoice_no="2568119999999999")
    details = [_detail(rows[0]), _detail(rows[1], "999.00"), _detail(rows[2]), _detail(unknown),
               _detail(rows[4]), _detail(rows[4], kind="D")]
    code, out = _run(database_url, tmp_path, build_statement("1234567890", "TISI", DAY, details))
    assert code == 1 and "NOT BALANCED" in out, out
    assert "matched: 2" in out and "matched_reversal: 1" in out and "amount_mismatch: 1" in out
    assert "in_file_not_online: 1" in out and "unknown_invoice: 1" in out and "online_not_in_file: 1" in out
    assert "bank_ref=ONLINE_ONLY" in out and "online_amount=1000.00" in out


def test_the_report_in_thai_for_the_finance_office(database_url, tmp_path, bank, seed):
    rows = seed(invoice_row(1), invoice_row(2, amount="12345.50"))
    bank.post(bank.body("payment", rows[0], bank_ref="OK1"))
    data = build_statement("1234567890", "TISI", DAY, [_detail(rows[0]), _detail(rows[1], "12345.50")])
    code, out = _run(database_url, tmp_path, data, "stmt.txt", "--lang", "th")
    assert code == 1
    assert "รายการเดินบัญชีวันที่ 25 พฤศจิกายน 2569 (รหัสบริการ 9433): มีรายการไม่ตรงกัน" in out.splitlines()[0], out
    assert "ตรงกัน: 1" in out and "matched" not in out
    [line] = [x for x in out.splitlines() if rows[1]["invoice_no"] in x]
    assert "บรรทัด 3" in line and "12,345.50 บาท" in line
    again = _run(database_url, tmp_path, data, "stmt.txt", "--lang", "th")[1]
    assert "กระทบยอดไปแล้วเมื่อ" in again and "2569" in again
    assert CliRunner().invoke(cli, ["reconcile", "--lang", "fr", str(tmp_path / "stmt.txt")]).exit_code == 2


def _valid():
    row = invoice_row(1)
    return build_statement("1234567890", "สมอ.", DAY, [_detail(row), _detail(row, "10.00", kind="D")])


def _replace(data: bytes, line: int, start: int, new: bytes) -> bytes:
    lines = data.split(b"\r\n")
    record = lines[line - 1]
    lines[line - 1] = record[: start - 1] + new + record[start - 1 + len(new):]
    return b"\r\n".join(lines)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.replace(b"\r\n", b"\r\nX", 1), "bytes"),
    (lambda d: b"\r\n".join(d.split(b"\r\n")[:-2]) + b"\r\n", "record type"),  # no trailer
    (lambda d: _replace(d, 2, 2, b"000009"), "sequence"),
    (lambda d: _replace(d, 2, 8, b"014"), "bank code"),
    (lambda d: _replace(d, 2, 164, b"0000000100001"), "trailer says"),
    (lambda d: _replace(d, 2, 153, b"X"), "neither C nor D"),
    (lambda d: _replace(d, 2, 21, b"31022026"), "real date"),
    (lambda d: _replace(d, 2, 11, b"9999999999"), "company account"),
    (lambda d: b"", "at least"),
])
def test_untrustworthy_files_are_rejected_whole(mutate, message):
    parse_statement(_valid())  # the unmutated file is fine
    with pytest.raises(StatementError, match=message):
        parse_statement(mutate(_valid()))


def test_thai_names_are_read_from_tis620_bytes_and_buddhist_years_accepted():
    data = _replace(_valid(), 1, 61, b"25112569")  # effective date in the Buddhist era
    statement = parse_statement(data)
    assert statement.effective_date == DAY
    assert statement.details[0].customer_name == "บริษัท ไทยอุตสาหกรรมเหล็ก จำกัด"
    assert statement.details[1].amount == Decimal("10.00") and statement.debit_count == 1


def test_rejected_file_exit_code_and_nothing_stored(database_url, tmp_path, db):
    code, out = _run(database_url, tmp_path, _valid()[:-40])
    assert code == 2
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StatementFile)) == 0


# -- the file as Krungthai writes it ----------------------------------------------------------------
def test_krungthai_framing_is_read_like_the_compact_file():
    """LF, an empty line between records, no final newline (as a file received from Krungthai)."""
    row = invoice_row(1)
    details = [_detail(row), _detail(row, "10.00", kind="D")]
    compact = build_statement("1234567890", "สมอ.", DAY, details)
    framed = build_statement("1234567890", "สมอ.", DAY, details, framing="krungthai")
    assert b"\n\n" in framed and b"\r" not in framed and not framed.endswith(b"\n")
    crlf = framed.replace(b"\n", b"\r\n")  # the same, CRLF, as a Windows copy
    parsed = [parse_statement(data) for data in (compact, framed, crlf)]
    # The same statement; only the line numbers (kept for error messages) follow the framing.
    same = [replace(s, details=tuple(replace(d, line=0) for d in s.details)) for s in parsed]
    assert same[0] == same[1] == same[2]
    assert [d.line for d in parsed[1].details] == [3, 5]
    assert parsed[1].service_code == "9433"


def test_an_error_in_a_framed_file_names_the_line_an_editor_shows():
    row = invoice_row(1)
    framed = build_statement("1234567890", "สมอ.", DAY, [_detail(row)], framing="krungthai")
    lines = framed.split(b"\n")  # H, "", D, "", T: the detail is line 3 of the file
    lines[2] = lines[2][:152] + b"X" + lines[2][153:]
    with pytest.raises(StatementError, match="line 3: kind of transaction"):
        parse_statement(b"\n".join(lines))


def test_framed_statement_reconciles_like_the_compact_one_and_is_the_same_file(database_url, tmp_path, bank, seed, db):
    rows = seed(invoice_row(1), invoice_row(2, amount="500.00"))
    for i, row in enumerate(rows):
        assert bank.post(bank.body("payment", row, bank_ref=f"F{i}")).get_json()["respCode"] == "0000"
    details = [_detail(rows[0]), _detail(rows[1], "500.00")]
    framed = build_statement("1234567890", "TISI", DAY, details, framing="krungthai")
    code, out = _run(database_url, tmp_path, framed, name="ktb.txt")
    assert code == 0 and "BALANCED" in out and "matched: 2" in out and "service code 9433" in out
    compact = build_statement("1234567890", "TISI", DAY, details)
    again_code, again = _run(database_url, tmp_path, compact, name="compact.txt")
    assert again_code == 0 and "already reconciled" in again  # the same records, framed another way
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StatementFile)) == 1
