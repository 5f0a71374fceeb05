"""When reminders are due and when quiet hours hold them (pure)."""
from datetime import date, datetime, time, timezone

import pytest

from bot.core.dates import BANGKOK
from bot.core.schedule import QuietHours, parse_reminder_days, reminder_due

DUE = date(2026, 12, 31)


@pytest.mark.parametrize("days_before, expected", [
    (30, None), (8, None),
    (7, ("remind7", 7)), (5, ("remind7", 5)), (2, ("remind7", 2)),  # a missed run still reminds, late
    (1, ("remind1", 1)), (0, ("remind1", 0)),  # the due date itself
    (-1, ("overdue", -1)), (-7, ("overdue", -7)), (-8, None),  # a week after, then old news
])
def test_reminder_windows(days_before, expected):
    today = date.fromordinal(DUE.toordinal() - days_before)
    assert reminder_due(DUE, today, (7, 1)) == expected


def test_reminder_days_parse():
    assert parse_reminder_days("7,1") == (7, 1)
    assert parse_reminder_days(" 1, 14 ,7,7") == (14, 7, 1)
    assert parse_reminder_days("") == ()
    for bad in ("x", "-1", "61", "1.5"):
        with pytest.raises(ValueError):
            parse_reminder_days(bad)


def _bkk(h, m=0):
    return datetime(2026, 12, 1, h, m, tzinfo=BANGKOK)


def test_quiet_hours_wrap_midnight_in_bangkok_time():
    quiet = QuietHours.parse("20:00-08:00")
    assert quiet.contains(_bkk(20)) and quiet.contains(_bkk(23, 59)) and quiet.contains(_bkk(3)) and quiet.contains(_bkk(7, 59))
    assert not quiet.contains(_bkk(8)) and not quiet.contains(_bkk(12)) and not quiet.contains(_bkk(19, 59))
    assert quiet.contains(datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc))  # 21:00 in Bangkok
    assert quiet.release_at(_bkk(22)) == datetime(2026, 12, 2, 8, 0, tzinfo=BANGKOK)
    assert quiet.release_at(_bkk(6)) == datetime(2026, 12, 1, 8, 0, tzinfo=BANGKOK)
    assert quiet.release_at(_bkk(9)) == _bkk(9)
    lunch = QuietHours.parse("12:00-13:00")
    assert lunch.contains(_bkk(12, 30)) and not lunch.contains(_bkk(13)) and lunch.start == time(12)
    assert QuietHours.parse("off") is None and QuietHours.parse("") is None
    for bad in ("20-08", "25:00-01:00", "08:00-08:00", "night"):
        with pytest.raises(ValueError):
            QuietHours.parse(bad)
