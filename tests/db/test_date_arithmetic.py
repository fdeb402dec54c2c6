"""Property tests: the SQL date arithmetic the indicators use agrees with the Python rules
(domain.md §7 "N months after D"), on SQLite and PostgreSQL, for any date and shift."""

from __future__ import annotations

import calendar
import datetime as dt

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohort.domain.calendar import add_months
from cohort.indicators import sqlfuncs

DATES = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2080, 12, 31))
SHIFTS = st.integers(min_value=-240, max_value=240)


@given(day=DATES, months=SHIFTS)
def test_add_months_keeps_the_day_or_clamps_to_the_month_end(day: dt.date,
                                                            months: int) -> None:
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    last = calendar.monthrange(later.year, later.month)[1]
    assert later.day == min(day.day, last)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=DATES, months=SHIFTS, days=st.integers(min_value=-400, max_value=400))
def test_sql_date_arithmetic_matches_python(connection: sa.Connection, day: dt.date,
                                            months: int, days: int) -> None:
    literal = sa.literal(day, sa.Date)
    row = connection.execute(sa.select(
        sa.type_coerce(sqlfuncs.add_months(literal, months), sa.String),
        sa.type_coerce(sqlfuncs.add_days(literal, days), sa.String),
        sqlfuncs.month_index(literal))).one()
    assert dt.date.fromisoformat(str(row[0])[:10]) == add_months(day, months)
    assert dt.date.fromisoformat(str(row[1])[:10]) == day + dt.timedelta(days=days)
    assert row[2] == day.year * 12 + day.month - 1
