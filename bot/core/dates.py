"""Dates for people: stored in UTC, shown in Asia/Bangkok; Thai years in the Buddhist era.

Babel knows only the Gregorian calendar (its Thai long format prints "ค.ศ."), so day and
month names come from Babel with patterns that have no era or year, and the year is added
here: BE = CE + 543.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_month_names

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


# -- a day as people type it ------------------------------------------------------------------------
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_ISO_DAY = re.compile(r"(?<![0-9])([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?![0-9])")
_NUMERIC_DAY = re.compile(r"(?<![0-9])([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4}|[0-9]{2})(?![0-9])")
_NAMED_DAY = re.compile(r"(?<![0-9])([0-9]{1,2}) ?([^\s0-9]+) ?([0-9]{4}|[0-9]{2})(?![0-9])")


@lru_cache(maxsize=1)
def _month_numbers() -> dict[str, int]:
    """Month names as written in Thai and English, full and short, from Babel, with and without
    the dots of the Thai abbreviations ("ธ.ค.", "ธค"), lowercase."""
    names: dict[str, int] = {}
    for locale in ("th_TH", "en_US"):
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=locale).items():
                names[name.lower()] = number
                names[name.lower().replace(".", "")] = number
    return names


def _year(text: str) -> int:
    """A written year: four digits in either era; two digits are the Buddhist era's ("69" is 2569),
    as Thai forms abbreviate it."""
    year = int(text)
    return gregorian_year(year if len(text) == 4 else 2500 + year)


def parse_day(text: str) -> date | None:
    """The first day written in `text`: "7 ธ.ค. 2569", "7 ธันวาคม 69", "7/12/2569", "2026-12-07",
    "7 Dec 2026", Thai digits too; None if there is none (or it is no real day)."""
    text = text.translate(_THAI_DIGITS).lower()
    for pattern in (_ISO_DAY, _NUMERIC_DAY, _NAMED_DAY):
        for found in pattern.finditer(text):
            if pattern is _ISO_DAY:
                year, month, day = _year(found[1]), int(found[2]), int(found[3])
            elif pattern is _NUMERIC_DAY:
                day, month, year = int(found[1]), int(found[2]), _year(found[3])
            else:
                month_number = _month_numbers().get(found[2].replace(".", ""))
                if month_number is None:
                    continue
                day, month, year = int(found[1]), month_number, _year(found[3])
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None
