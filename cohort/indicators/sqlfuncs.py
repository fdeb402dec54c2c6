"""Date arithmetic as SQL expressions that give the same answer on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class add_months(FunctionElement[Any]):  # noqa: N801 - reads like the SQL function it is
    """date + N calendar months, clamped to the month's last day (Aug 31 + 6 → Feb 29)."""

    type = sa.Date()
    inherit_cache = True
    name = "add_months"


@compiles(add_months, "postgresql")
def _add_months_pg(element: add_months, compiler: Any, **kw: Any) -> str:
    # PostgreSQL's interval arithmetic already clamps to the end of the month.
    date, months = list(element.clauses)
    return (f"CAST(({compiler.process(date, **kw)} + "
            f"make_interval(months => {compiler.process(months, **kw)})) AS DATE)")


@compiles(add_months, "sqlite")
def _add_months_sqlite(element: add_months, compiler: Any, **kw: Any) -> str:
    # SQLite's '+N months' overflows (Nov 30 + 3 → Mar 1): take the same day from the first
    # of the target month, capped at that month's last day.
    date, months = (compiler.process(c, **kw) for c in element.clauses)
    first = f"date({date}, 'start of month', printf('%+d months', {months}))"
    same_day = f"date({first}, printf('+%d days', CAST(strftime('%d', {date}) AS INTEGER) - 1))"
    last = f"date({first}, '+1 month', '-1 day')"
    return f"min({same_day}, {last})"


class add_days(FunctionElement[Any]):  # noqa: N801
    """date + N days."""

    type = sa.Date()
    inherit_cache = True
    name = "add_days"


@compiles(add_days, "postgresql")
def _add_days_pg(element: add_days, compiler: Any, **kw: Any) -> str:
    date, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(({date} + make_interval(days => {days})) AS DATE)"


@compiles(add_days, "sqlite")
def _add_days_sqlite(element: add_days, compiler: Any, **kw: Any) -> str:
    date, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"date({date}, printf('%+d days', {days}))"


class month_index(FunctionElement[int]):  # noqa: N801
    """year × 12 + month − 1: months compare and add as integers on both backends."""

    type = sa.Integer()
    inherit_cache = True
    name = "month_index"


@compiles(month_index, "postgresql")
def _month_index_pg(element: month_index, compiler: Any, **kw: Any) -> str:
    date = compiler.process(list(element.clauses)[0], **kw)
    return (f"(CAST(EXTRACT(year FROM {date}) AS INTEGER) * 12"
            f" + CAST(EXTRACT(month FROM {date}) AS INTEGER) - 1)")


@compiles(month_index, "sqlite")
def _month_index_sqlite(element: month_index, compiler: Any, **kw: Any) -> str:
    # Dates are 'YYYY-MM-DD' text on SQLite: cutting the text costs a fraction of
    # strftime's parse and format, which the cohort table and the monthly series call
    # several times per enrolment.
    date = compiler.process(list(element.clauses)[0], **kw)
    return (f"(CAST(substr({date}, 1, 4) AS INTEGER) * 12"
            f" + CAST(substr({date}, 6, 2) AS INTEGER) - 1)")


def birth_month_index(birth_month: Any) -> sa.ColumnElement[int]:
    """The same index from the clear 'YYYY-MM' birth month."""
    return (sa.cast(sa.func.substr(birth_month, 1, 4), sa.Integer) * 12
            + sa.cast(sa.func.substr(birth_month, 6, 2), sa.Integer) - 1)
