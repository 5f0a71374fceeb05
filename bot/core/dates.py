"""Dates for people: stored in UTC, shown in Asia/Bangkok; Thai years in the Buddhist era.

Babel knows only the Gregorian calendar (its Thai long format prints "ค.ศ."), so day and
month names come from Babel with patterns that have no era or year, and the year is added
here: BE = CE + 543.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

BANGKOK = ZoneInfo("Asia/Bangkok")
BE_OFFSET = 543
BE_YEARS_FROM = 2400  # a year at or above this is a Buddhist-era one (CE 1857): no date we handle is that old


def looks_buddhist(year: int) -> bool:
    return year >= BE_YEARS_FROM


def gregorian_year(year: int) -> int:
    """A year from a document that may be written in either era."""
    return year - BE_OFFSET if looks_buddhist(year) else year


def buddhist_year(d: date) -> int:
    return d.year + BE_OFFSET


FISCAL_YEAR_STARTS = 10  # the Thai government's fiscal year runs 1 October – 30 September


def thai_fiscal_year(moment: datetime) -> int:
    """The Thai government fiscal year (Buddhist era) of a moment, by its Bangkok date: 1 October
    2569 (CE 2026) starts fiscal year 2570."""
    local = to_bangkok(moment).date()
    return buddhist_year(local) + (1 if local.month >= FISCAL_YEAR_STARTS else 0)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def today_bangkok(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(BANGKOK).date()


def to_bangkok(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        # Stored values are UTC; some drivers (SQLite) hand them back naive.
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(BANGKOK)


@lru_cache(maxsize=4096)  # pure, and Babel's formatting is most of a card's cost
def format_long_date(d: date, lang: str) -> str:
    """th: '4 ธันวาคม 2568'; en: '4 December 2025'."""
    if lang == "th":
        return f"{format_date(d, 'd MMMM', locale='th_TH')} {buddhist_year(d)}"
    return format_date(d, "d MMMM y", locale="en_US")


@lru_cache(maxsize=4096)  # pure, and Babel's formatting is most of a card's cost
def format_short_date(d: date, lang: str) -> str:
    """th: '4 ธ.ค. 2568'; en: '4 Dec 2025'."""
    if lang == "th":
        return f"{format_date(d, 'd MMM', locale='th_TH')} {buddhist_year(d)}"
    return format_date(d, "d MMM y", locale="en_US")


def format_datetime_local(moment: datetime, lang: str) -> str:
    """th: '25 พ.ย. 2569 14:30 น.'; en: '25 Nov 2026, 14:30' (Bangkok time)."""
    local = to_bangkok(moment)
    hm = format_time(local, "HH:mm", locale="th_TH" if lang == "th" else "en_US")
    if lang == "th":
        return f"{format_short_date(local.date(), lang)} {hm} น."
    return f"{format_short_date(local.date(), lang)}, {hm}"
