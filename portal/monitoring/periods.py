"""Reporting periods: financial years (April to March) and their quarters.

A period is stored as a short key: "2019" for the year April 2019 to March 2020, and
"2019-Q1" for its first quarter, April to June 2019.
"""

from __future__ import annotations

import re
from datetime import date

from portal import clock

YEAR = "year"
QUARTER = "quarter"
PERIOD_TYPES = {YEAR: "Each year (April to March)", QUARTER: "Each quarter"}

_QUARTER_MONTHS = {1: ("April", "June", 0), 2: ("July", "September", 0)}
_QUARTER_MONTHS |= {3: ("October", "December", 0), 4: ("January", "March", 1)}
_YEAR_FORMS = [
    re.compile(r"^(\d{4})$"),
    re.compile(r"^(\d{4})\s*(?:to|-|/|–)\s*(\d{2}|\d{4})$"),
]
_QUARTER_FORMS = [
    re.compile(r"^(\d{4})\s*-?\s*Q([1-4])$", re.IGNORECASE),
    re.compile(r"^Q([1-4])\s+(\d{4})$", re.IGNORECASE),
]


def periods(period_type: str, first_year: int, last_year: int) -> list[str]:
    """Every period of a plan running from April ``first_year`` to March ``last_year + 1``."""
    years = [str(y) for y in range(first_year, last_year + 1)]
    if period_type == QUARTER:
        return [f"{y}-Q{q}" for y in years for q in range(1, 5)]
    return years


def year_of(key: str) -> int:
    return int(key[:4])


def label(key: str) -> str:
    """A period as people say it: "2019 to 2020" or "April to June 2019"."""
    year = year_of(key)
    if "-Q" in key:
        first, last, offset = _QUARTER_MONTHS[int(key[-1])]
        return f"{first} to {last} {year + offset}"
    return f"{year} to {year + 1}"


def financial_year(when: date | None = None) -> int:
    """The year whose April to March ``when`` falls in (today if not given)."""
    when = when or clock.utcnow().date()
    return when.year if when.month >= 4 else when.year - 1


def last_full_year(when: date | None = None) -> int:
    """The latest year (April to March) that has ended."""
    return financial_year(when) - 1


def plan_label(first_year: int, last_year: int) -> str:
    return f"April {first_year} to March {last_year + 1}"


def parse(text: str, period_type: str) -> str | None:
    """The period key written in ``text`` (as in a CSV file), or None if it is not one.

    Years may be written 2019, 2019-20, 2019/20 or "2019 to 2020"; quarters 2019-Q1,
    2019 Q1 or Q1 2019 (quarter 1 is April to June).
    """
    text = (text or "").strip()
    if period_type == QUARTER:
        for number, form in enumerate(_QUARTER_FORMS):
            match = form.match(text)
            if match:
                year, quarter = match.groups() if number == 0 else reversed(match.groups())
                return f"{year}-Q{quarter}"
        return None
    for form in _YEAR_FORMS:
        match = form.match(text)
        if match:
            year = int(match.group(1))
            if match.lastindex == 2:
                end = match.group(2)
                if int(end) % 100 != (year + 1) % 100 or (len(end) == 4 and int(end) != year + 1):
                    return None
            return str(year)
    return None
