"""Calendar arithmetic used by the rules: month arithmetic with end-of-month clamp, ages."""

from __future__ import annotations

import calendar
import datetime as dt
import functools


@functools.lru_cache(maxsize=16384)  # pure, and called once per event by the date rules
def add_months(d: dt.date, months: int) -> dt.date:
    """Same day N months later, or the month's last day (2023-08-31 + 6 → 2024-02-29)."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(d.day, last))


def end_of_month(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def age_in_years(birth: dt.date, on: dt.date) -> int:
    """Age in completed years on a date (someone born 29 Feb turns a year older on 1 March)."""
    years = on.year - birth.year
    if (on.month, on.day) < (birth.month, birth.day):
        years -= 1
    return years


def birth_month(birth: dt.date) -> str:
    """The clear attribute kept for indicators: YYYY-MM."""
    return f"{birth.year:04d}-{birth.month:02d}"
