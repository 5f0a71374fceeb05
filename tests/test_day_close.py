"""The day's close (ปิดยอดประจำวัน), on SQLite and PostgreSQL, through the console's real routing and
the bank's signed endpoint: what a finance officer signs off for a Bangkok day (takings by fee and
channel, receipts first to last with gaps, reversals and voids, double payments to refund,
differences with the bank's statement), closing it as a link of the audit chain, a late reversal
shown as a change since the close, and the signed PDF as four PDF readers copy it out."""
from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from bot.config import Settings
from bot.core.dates import BANGKOK, format_long_date, today_bangkok
from bot.core.i18n import Translator
from bot.core.statement import build_statement
from bot.data.models import Receipt, StaffActionEntry
from bot.data.states import ReconcileOutcome, StaffAction
from bot.ledger.audit import verify
from bot.ledger.dayclose import Change, compare
from bot.render.dayclose import figure_name, figure_value
from tests.conftest import BANK_SECRET, RECEIPT_PASSWORD, invoice_row, make_env, receipt_env
from tests.pdfreaders import missing


@pytest.fixture
def settings(database_url, fake_line, receipt_p12) -> Settings:
    """Receipts on: the close lists the numbers issued."""
    return Settings.from_env(make_env(database_url, fake_line.url, **receipt_env(receipt_p12)))


def _at(day, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), tzinfo=BANGKOK).isoformat()


@pytest.fixture
def a_day(seed, bank, db, clock):
    """Yesterday (Bangkok): three payments (two fees, two channels), one paid twice, one reversed
    the same day; a payment of the day before, which is not yesterday's. The bank's statement of
    yesterday, with one record the bank never confirmed online."""
    day = today_bangkok() - timedelta(days=1)
    rows = seed(invoice_row(1), invoice_row(2, amount="500.00", fee_code="INSPECTION"), invoice_row(3, amount="250.25"),
                invoice_row(4, amount="70.00"), invoice_row(5, amount="36000.00"))
    # the bank tells us of each as it happens (the clock at its time): a receipt is issued at once
    for i, (row, channel, hour) in enumerate(zip(rows[:3], ("QR", "ATM", "QR"), (9, 10, 11))):
        clock.at(_at(day, hour))
        assert bank.post(bank.body("payment", row, bank_ref=f"D{i}", channel=channel,
                                   transDateTime=_at(day, hour))).get_json()["respCode"] == "0000"
    clock.at(_at(day, 12))
    bank.post(bank.body("payment", rows[0], bank_ref="D9", channel="COUNTER", transDateTime=_at(day, 12)))  # twice
    clock.at(_at(day, 13))  # the bank reverses one at 13:00 that day
    bank.post(bank.body("reversal", rows[2], bank_ref="D2", transDateTime=_at(day, 13)))
    clock.at(_at(day - timedelta(days=1), 15))
    bank.post(bank.body("payment", rows[3], bank_ref="E1", transDateTime=_at(day - timedelta(days=1), 15)))
    clock.stop()
    from tests.test_reconcile import _detail

    details = [_detail(rows[0], paid_on=day), _detail(rows[1], amount="500.00", paid_on=day),
               _detail(rows[2], amount="250.25", paid_on=day), _detail(rows[2], amount="250.25", kind="D", paid_on=day),
               _detail(rows[4], amount="36000.00", paid_on=day)]
    from bot.ledger.reconcile import reconcile_file

    with db.transaction() as s:
        report = reconcile_file(s, build_statement("1234567890", "TISI", day, details))
    assert [line["outcome"] for line in report.lines if not ReconcileOutcome(line["outcome"]).balanced] == [
        "in_file_not_online"]
    return day, rows


def _page(client, day) -> str:
    answer = client.client.get(f"/staff/close?day={day.isoformat()}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start:page.index("</table>", start)]


def test_the_close_adds_up_what_finance_signs_off(a_day, signed_in):
    day, rows = a_day
    page = _page(signed_in("viewer"), day)
    assert format_long_date(day, "th") in page and str(day.year + 543) in page
    assert re.search(r'id="close-count">2<', page) and re.search(r'id="close-total">1,500.00<', page)
    by_fee = _section(page, "close-by-fee")
    assert "ค่าธรรมเนียมใบอนุญาต" in by_fee and "1,000.00" in by_fee and "500.00" in by_fee
    by_channel = _section(page, "close-by-channel")
    assert "คิวอาร์" in by_channel or "Thai QR" in by_channel
    assert "1,500.00" in page[page.index('id="close-by-channel"'):page.index('id="close-receipts"')]  # totals row
    # Three receipts were issued for the day's payments (the reversed one's too: it is void, not unissued).
    receipts = _section(page, "close-receipts")
    numbers = re.findall(r"TISI-\d{4}-\d{6}", receipts)
    assert len(numbers) == 2 and numbers[0].endswith("000001") and numbers[1].endswith("000003"), receipts
    assert ">3<" in receipts and "ไม่มี" in receipts  # no gaps
    reversals = _section(page, "close-reversals-table")
    assert rows[2]["invoice_no"] in reversals and "250.25" in reversals and "TISI-" in reversals  # its receipt voided
    doubles = _section(page, "close-doubles-table")
    assert rows[0]["invoice_no"] in doubles and "D9" in doubles
    differences = page[page.index('id="close-differences"'):]
    assert rows[4]["invoice_no"] in differences and "36,000.00" in differences
    assert rows[3]["invoice_no"] not in page  # the day before's payment
    assert 'id="not-closed"' in page and 'id="close-form"' not in page  # a viewer reads, cannot close
    before = _page(signed_in("viewer", name="viewer2"), day - timedelta(days=1))
    assert re.search(r'id="close-count">1<', before) and rows[3]["invoice_no"] not in _section(
        before, "close-reversals-table") and rows[2]["invoice_no"] not in before  # the day before: one payment


def test_a_gap_in_the_receipt_numbers_is_listed(a_day, signed_in, db):
    day, _ = a_day
    with db.transaction() as s:  # the day's last receipt (3) renumbered 6, as if numbers had been lost
        last = s.scalars(select(Receipt).where(Receipt.seq == 3)).one()
        prefix = last.number[:-6]
        s.execute(update(Receipt).where(Receipt.payment_id == last.payment_id).values(seq=6, number=f"{prefix}000006"))
    receipts = _section(_page(signed_in("viewer"), day), "close-receipts")
    # 4 went to the day before's payment: not a gap
    assert f"{prefix}000003, {prefix}000005<" in receipts and 'class="error"' in receipts, receipts


def test_closing_is_an_audit_entry_and_a_late_reversal_shows_what_changed(a_day, signed_in, bank, db):
    day, rows = a_day
    viewer = signed_in("viewer")
    assert viewer.post("/staff/close", {"day": day.isoformat()}, token_from="/staff/").status_code == 403
    finance = signed_in("finance")
    done = finance.post("/staff/close", {"day": day.isoformat()}, token_from=f"/staff/close?day={day}")
    assert done.status_code == 302 and "done=1" in done.headers["Location"]
    page = finance.client.get(done.headers["Location"]).get_data(as_text=True)
    assert 'id="done"' in page and "finance1" in page and 'id="unchanged"' in page and 'id="close-form"' not in page
    with db.sessions() as s:
        (entry,) = s.scalars(select(StaffActionEntry).where(StaffActionEntry.action == StaffAction.DAY_CLOSED))
        assert entry.target == f"day {day.isoformat()}" and entry.account == "finance1"
        figures = json.loads(entry.detail)["figures"]
        assert figures["payments"] == [2, "1500.00"] and figures["differences"] == 1
        assert verify(s, BANK_SECRET).intact  # the close is a link of the chain
    again = finance.post("/staff/close", {"day": day.isoformat()}, token_from=f"/staff/close?day={day}")
    assert "problem=unchanged" in again.headers["Location"]
    assert "ไม่มีการเปลี่ยนแปลง" in finance.client.get(again.headers["Location"]).get_data(as_text=True)
    future = finance.post("/staff/close", {"day": (today_bangkok() + timedelta(days=1)).isoformat()},
                          token_from="/staff/close")
    assert "problem=future" in future.headers["Location"]

    # A reversal arrives today for a payment of the closed day.
    bank.post(bank.body("reversal", rows[1], bank_ref="D1", transDateTime=_at(today_bangkok(), 0, 5)))
    page = _page(finance, day)
    changed = page[page.index('id="changed"'):page.index("</ul>", page.index('id="changed"'))]
    assert "1,500.00 บาท → 1 รายการ 1,000.00 บาท" in changed, changed
    assert "ค่าธรรมเนียม" in changed and 'id="close-form"' in page
    # the reversal is today's: today's close lists it, with the receipt it voided
    todays = _section(_page(finance, today_bangkok()), "close-reversals-table")
    assert rows[1]["invoice_no"] in todays and rows[2]["invoice_no"] not in todays  # not yesterday's reversal
    closed_again = finance.post("/staff/close", {"day": day.isoformat()}, token_from=f"/staff/close?day={day}")
    assert "done=1" in closed_again.headers["Location"]
    with db.sessions() as s:
        entries = list(s.scalars(select(StaffActionEntry).where(StaffActionEntry.action == StaffAction.DAY_CLOSED)
                                 .order_by(StaffActionEntry.id)))
    assert len(entries) == 2 and "payments" in json.loads(entries[1].detail)["changed"]


def test_the_printed_close_is_signed_and_copies_out_in_thai(a_day, signed_in, bank, receipt_p12):
    from bot.render.pades import ReceiptSigner, check_signature

    day, rows = a_day
    finance = signed_in("finance")
    finance.post("/staff/close", {"day": day.isoformat()}, token_from=f"/staff/close?day={day}")
    bank.post(bank.body("reversal", rows[1], bank_ref="D1", transDateTime=_at(today_bangkok(), 0, 5)))
    answer = finance.client.get(f"/staff/close.pdf?day={day.isoformat()}")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    pdf = answer.data
    certificate = ReceiptSigner(receipt_p12, RECEIPT_PASSWORD).certificate
    assert check_signature(pdf, [certificate]).ok
    assert not check_signature(pdf + b"%tampered\n", [certificate]).ok
    thai_day = format_long_date(day, "th")
    wanted = ["ปิดยอดประจำวัน", "สำนักงานมาตรฐานผลิตภัณฑ์อุตสาหกรรม", thai_day, "ยอดรับตามประเภทค่าธรรมเนียม",
              "1,000.00", "ใบเสร็จรับเงินที่ออก", "รายการยกเลิกการชำระ", rows[2]["invoice_no"], rows[0]["invoice_no"],
              "ผลต่างกับรายการเดินบัญชีของธนาคาร", "36,000.00", "มีการเปลี่ยนแปลงหลังปิดยอด", "ปิดยอดเมื่อ"]
    assert missing(pdf, wanted) == {}


def test_a_day_is_asked_for_as_staff_write_it(signed_in):
    viewer = signed_in("viewer")
    day = today_bangkok() - timedelta(days=3)
    thai = f"{day.day}/{day.month}/{day.year + 543}"
    page = viewer.client.get(f"/staff/close?day={thai}").get_data(as_text=True)
    assert format_long_date(day, "th") in page
    wrong = viewer.client.get("/staff/close?day=yesterday-ish")
    assert wrong.status_code == 400 and 'id="close-error"' in wrong.get_data(as_text=True)
    assert viewer.client.get("/staff/close.pdf?day=yesterday-ish").status_code == 400
    assert viewer.client.get("/staff/close").status_code == 200  # today


def test_what_changed_is_said_in_words():
    before = {"payments": [2, "1500.00"], "fee:LICENSE": [1, "1000.00"], "reversals": [], "differences": None}
    after = {"payments": [1, "1000.00"], "reversals": ["2568 D1"], "differences": 0}
    changes = compare(before, after)
    assert changes == [Change("payments", [2, "1500.00"], [1, "1000.00"]), Change("reversals", [], ["2568 D1"]),
                       Change("differences", None, 0), Change("fee:LICENSE", [1, "1000.00"], None)]
    th, en = Translator("th"), Translator("en")
    assert figure_value("payments", [2, "1500.00"], th) == "2 รายการ 1,500.00 บาท"
    assert figure_value("differences", None, en) == "not imported" and figure_value("reversals", [], en) == "none"
    assert figure_value("receipts:TISI-2570", ["TISI-2570-000001", "TISI-2570-000004", 3, ["TISI-2570-000002"]],
                        en) == "TISI-2570-000001 to TISI-2570-000004 (3) · missing: TISI-2570-000002"
    assert figure_name("fee:LICENSE", th).startswith("ค่าธรรมเนียม: ") and figure_name("channel:QR", en).startswith(
        "Channel: ")
    assert Decimal(after["payments"][1]) == Decimal("1000.00")
