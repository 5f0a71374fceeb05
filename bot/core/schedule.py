"""When proactive notices go out: reminder days before the due date, the overdue notice, and
quiet hours (Asia/Bangkok) in which nothing but paid and reversal notices is pushed. Pure."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from .dates import to_bangkok

DEFAULT_REMINDER_DAYS = "7,1"
DEFAULT_QUIET_HOURS = "20:00-08:00"
MAX_REMINDER_DAY = 60
# An overdue notice is news only shortly after the due date: a first run of `remind` after a
# long outage (or on a database with years of history) must not send old invoices to everyone.
OVERDUE_WINDOW_DAYS = 7

_QUIET_RE = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])-([01]?[0-9]|2[0-3]):([0-5][0-9])\Z")


def parse_reminder_days(text: str) -> tuple[int, ...]:
    """'7,1' -> (7, 1): distinct whole days, largest first; ValueError naming the problem."""
    days = set()
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        if not part.isdigit() or not 0 <= int(part) <= MAX_REMINDER_DAY:
            raise ValueError(f"{part!r} is not a number of days from 0 to {MAX_REMINDER_DAY}")
        days.add(int(part))
    return tuple(sorted(days, reverse=True))


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> "QuietHours | None":
        """'20:00-08:00' (may wrap midnight); '' or 'off' for none."""
        text = (text or "").strip()
        if text.lower() in ("", "off", "none"):
            return None
        m = _QUIET_RE.match(text)
        if not m:
            raise ValueError(f"{text!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if (h1, m1) == (h2, m2):
            raise ValueError(f"{text!r} is empty: start and end are the same")
        return cls(time(h1, m1), time(h2, m2))

    def contains(self, moment: datetime) -> bool:
        local = to_bangkok(moment).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # wraps midnight

    def release_at(self, moment: datetime) -> datetime:
        """The moment itself outside quiet hours, else when they end (as an aware datetime)."""
        if not self.contains(moment):
            return moment
        local = to_bangkok(moment)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end


class ReminderKind:
    """Event-key prefixes of proactive notices: one (user, invoice, kind) at most once, ever."""

    NEW_INVOICE = "new"
    OVERDUE = "overdue"

    @staticmethod
    def before(days: int) -> str:
        return f"remind{days}"

    @staticmethod
    def plain(kind: str) -> str:
        """For operators: "remind7" -> "7-day reminders"."""
        if kind.startswith("remind") and kind[6:].isdigit():
            return f"{kind[6:]}-day reminders"
        return {ReminderKind.NEW_INVOICE: "new-invoice notices", ReminderKind.OVERDUE: "overdue notices"}.get(kind, kind)


def reminder_due(due: date, today: date, reminder_days: tuple[int, ...]) -> tuple[str, int] | None:
    """Which reminder an unpaid invoice is due for today: (kind, days left), or None.

    A reminder for d days before is due from that day until the next closer reminder day, so a
    run missed on the day still reminds later, but never two reminders at once; the overdue
    notice is due in the week after the due date."""
    left = (due - today).days
    if left < 0:
        return (ReminderKind.OVERDUE, left) if -left <= OVERDUE_WINDOW_DAYS else None
    window_end = -1
    for days in sorted(reminder_days):
        if window_end < left <= days:
            return ReminderKind.before(days), left
        window_end = days
    return None


DEFAULT_OFFICE_HOURS = "Mon-Fri 08:30-16:30"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_OFFICE_RE = re.compile(r"^([A-Za-z]{3})(?:-([A-Za-z]{3}))? +([01]?[0-9]|2[0-3]):([0-5][0-9])-([01]?[0-9]|2[0-3]):"
                        r"([0-5][0-9])\Z")


@dataclass(frozen=True)
class OfficeHours:
    """When staff answer conversations (Asia/Bangkok): 'Mon-Fri 08:30-16:30'; days and one span."""

    first_day: int  # 0 = Monday
    last_day: int
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> "OfficeHours":
        m = _OFFICE_RE.match(" ".join((text or "").split()))
        if not m:
            raise ValueError(f"{text!r} is not like 'Mon-Fri 08:30-16:30'")
        first, last = m.group(1).lower(), (m.group(2) or m.group(1)).lower()
        if first not in _WEEKDAYS or last not in _WEEKDAYS:
            raise ValueError(f"{text!r}: days are Mon, Tue, Wed, Thu, Fri, Sat, Sun")
        h1, m1, h2, m2 = (int(g) for g in m.groups()[2:])
        if (h2, m2) <= (h1, m1):
            raise ValueError(f"{text!r}: the hours must end after they start")
        return cls(_WEEKDAYS.index(first), _WEEKDAYS.index(last), time(h1, m1), time(h2, m2))

    def days(self) -> list[int]:
        span = (self.last_day - self.first_day) % 7
        return [(self.first_day + i) % 7 for i in range(span + 1)]

    def contains(self, moment: datetime) -> bool:
        local = to_bangkok(moment)
        return local.weekday() in self.days() and self.start <= local.time().replace(tzinfo=None) < self.end

    def describe(self, lang: str) -> str:
        """th: 'วันจันทร์–วันศุกร์ 08:30–16:30 น.'; en: 'Mon–Fri 08:30–16:30' (day names from Babel)."""
        from babel.dates import get_day_names

        names = get_day_names("wide" if lang == "th" else "abbreviated", locale="th_TH" if lang == "th" else "en_US")
        days = names[self.first_day] if self.first_day == self.last_day else (
            f"{names[self.first_day]}–{names[self.last_day]}")
        hours = f"{self.start:%H:%M}–{self.end:%H:%M}"
        return f"{days} {hours} น." if lang == "th" else f"{days} {hours}"
