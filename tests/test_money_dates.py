"""Money exact, dates in Bangkok, Thai years in the Buddhist era (Babel knows only Gregorian)."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from bot.core.dates import (
    buddhist_year,
    format_datetime_local,
    format_long_date,
    format_short_date,
    parse_day,
    today_bangkok,
)
from bot.core.money import (
    MoneyError,
    format_number,
    from_satang,
    parse_amount,
    to_satang,
)


@pytest.mark.parametrize("raw, expected", [
    ("1000.00", Decimal("1000.00")), ("1000", Decimal("1000.00")), ("0.5", Decimal("0.50")),
    ("36000.25", Decimal("36000.25")), (Decimal("12.3"), Decimal("12.30")), ("999999999999.99", Decimal("999999999999.99")),
])
def test_parse_amount(raw, expected):
    assert parse_amount(raw) == expected


@pytest.mark.parametrize("raw", ["1e3", "1,000.00", "-5.00", "0.001", "0", "0.00", "", " ", "abc", "1.", ".5",
                                 "NaN", "Infinity", "01000.00", 1000.0, True, None, "1000000000000.00", "๑๐๐๐"])
def test_parse_amount_refuses(raw):
    with pytest.raises(MoneyError):
        parse_amount(raw)


def test_satang_round_trip_is_exact():
    for text in ("0.01", "0.10", "1000.00", "1200.50", "999999999999.99"):
        assert from_satang(to_satang(Decimal(text))) == Decimal(text)
    assert to_satang(Decimal("0.07")) == 7  # a float would give 7.000000000000001


def test_money_formatting():
    assert format_number(Decimal("36000.5"), "th") == "36,000.50"
    assert format_number(Decimal("1000"), "en") == "1,000.00"


def test_buddhist_era_years():
    assert buddhist_year(date(2025, 12, 4)) == 2568
    assert format_long_date(date(2025, 12, 4), "th") == "4 ธันวาคม 2568"
    assert format_long_date(date(2025, 12, 4), "en") == "4 December 2025"
    assert format_short_date(date(2026, 1, 1), "th") == "1 ม.ค. 2569"
    assert "ค.ศ." not in format_long_date(date(2025, 12, 4), "th")


def test_datetime_shown_in_bangkok():
    moment = datetime(2026, 11, 25, 17, 30, tzinfo=timezone.utc)  # 00:30 next day in Bangkok
    assert format_datetime_local(moment, "th") == "26 พ.ย. 2569 00:30 น."
    assert format_datetime_local(moment, "en") == "26 Nov 2026, 00:30"
    naive_utc = datetime(2026, 11, 25, 17, 30)  # SQLite hands back naive UTC
    assert format_datetime_local(naive_utc, "en") == "26 Nov 2026, 00:30"


def test_today_in_bangkok_not_utc():
    assert today_bangkok(datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)) == date(2026, 11, 26)


@pytest.mark.parametrize("text, day", [
    ("7 ธ.ค. 2569", date(2026, 12, 7)), ("7 ธันวาคม 2569", date(2026, 12, 7)), ("7 ธ.ค. 69", date(2026, 12, 7)),
    ("7ธค2569", date(2026, 12, 7)), ("๗ ธ.ค. ๒๕๖๙", date(2026, 12, 7)), ("7/12/2569", date(2026, 12, 7)),
    ("07.12.2026", date(2026, 12, 7)), ("7-12-69", date(2026, 12, 7)), ("2026-12-07", date(2026, 12, 7)),
    ("2569-12-07", date(2026, 12, 7)), ("7 Dec 2026", date(2026, 12, 7)), ("7 december 2026", date(2026, 12, 7)),
    ("1 ม.ค. 2570", date(2027, 1, 1)), ("29 ก.พ. 2567", date(2024, 2, 29)), ("31 มีนาคม 2569", date(2026, 3, 31)),
    ("ชำระวันที่ 30 ก.ย. 2569 qr", date(2026, 9, 30)),
    ("29 ก.พ. 2569", None), ("31/4/2569", None), ("7 ธันวา 2569", None), ("7 xyz 2569", None), ("2568110400012345", None),
    ("1000.00", None), ("ท 5137-2/10", None), ("", None), ("7 ธ.ค.", None),
])
def test_a_day_as_people_type_it(text, day):
    """Buddhist-era or Gregorian years (two digits are the Buddhist era's), Thai month names full
    or short with or without their dots, English ones, Thai digits; None for no real day."""
    assert parse_day(text) == day
