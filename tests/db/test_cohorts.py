"""Cohort table against hand-computed values (P = 2023 by quarter, A = 2024-03-31)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from cohort.actors import SYSTEM
from cohort.indicators.base import Cut
from cohort.indicators.cohorts import cohort_table
from cohort.services import enrolments
from tests.builders import NOW, action, enrol, record, register, structure

D = dt.date
CUT = Cut(period_from=D(2023, 1, 1), period_to=D(2023, 12, 31), as_of=D(2024, 3, 31))


def _end(session: Session, e: Any, day: dt.date) -> None:
    enrolments.end(session, SYSTEM, e, {"end_date": day, "exit_reason": "end_of_support"},
                   today=D(2024, 6, 15), now=NOW)


def test_cohort_table_by_quarter(session: Session, keyring: Any) -> None:
    s, k = session, keyring
    ml = structure(s)
    m1 = register(s, k, birth_date=D(2005, 3, 10))
    e = enrol(s, k, m1, "62-A6", ml, D(2023, 1, 15))
    record(s, k, m1, "resource_start", D(2023, 1, 15), resource="young_adult_allowance")
    record(s, k, m1, "housing_entry", D(2023, 1, 20), housing_type="social_rental")
    record(s, k, m1, "training_start", D(2023, 2, 1), qualifying=True)
    _end(s, e, D(2023, 8, 31))
    record(s, k, m1, "contact", D(2024, 2, 29), mode="phone")  # exit + 6 months, exactly
    m2 = register(s, k, birth_date=D(2005, 6, 1))
    enrol(s, k, m2, "62-A6", ml, D(2023, 2, 10))
    record(s, k, m2, "employment_start", D(2023, 3, 1), contract="cdi")
    m3 = register(s, k, birth_date=D(2004, 1, 1))
    e = enrol(s, k, m3, "62-A6", ml, D(2022, 11, 1))
    _end(s, e, D(2022, 12, 31))
    enrol(s, k, m3, "62-A6", ml, D(2023, 4, 1))  # a re-entry is never a new entry
    m4 = register(s, k, birth_date=D(2005, 9, 1))
    enrol(s, k, m4, "62-A6", ml, D(2023, 10, 5))
    s.flush()

    rows = {(r.cohort, r.horizon): r for r in
            cohort_table(s, [action(s, "62-A6").id], CUT, grain="quarter")}
    assert sorted({c for c, _ in rows}) == ["2023-T1", "2023-T2", "2023-T3", "2023-T4"]

    def check(cohort: str, horizon: str, censored: int, known: int, pathway: int,
              durable: int, housed: int, resources: int, members: int) -> None:
        r = rows[(cohort, horizon)]
        assert (r.members, r.censored, r.known) == (members, censored, known), (cohort, horizon)
        assert r.counts == {"in_pathway": pathway, "durable_employment": durable,
                            "stably_housed": housed, "has_resources": resources}, horizon

    check("2023-T1", "entry", 0, 2, 0, 0, 0, 1, members=2)
    check("2023-T1", "exit", 1, 1, 1, 0, 1, 1, members=2)
    check("2023-T1", "exit_6m", 1, 1, 1, 0, 1, 1, members=2)
    check("2023-T1", "entry_6m", 0, 2, 2, 1, 1, 1, members=2)
    check("2023-T1", "entry_12m", 0, 1, 1, 1, 0, 0, members=2)
    check("2023-T1", "entry_18m", 2, 0, 0, 0, 0, 0, members=2)
    check("2023-T1", "entry_24m", 2, 0, 0, 0, 0, 0, members=2)
    assert rows[("2023-T1", "entry_12m")].share_unknown == 0.5
    assert rows[("2023-T1", "entry_18m")].share_unknown is None
    assert rows[("2023-T2", "entry")].members == 0
    check("2023-T4", "entry", 0, 1, 0, 0, 0, 0, members=1)
    check("2023-T4", "entry_6m", 1, 0, 0, 0, 0, 0, members=1)

    by_year = {(r.cohort, r.horizon): r for r in
               cohort_table(s, [action(s, "62-A6").id], CUT, grain="year")}
    assert by_year[("2023", "entry")].members == 3
    months = cohort_table(s, [action(s, "62-A6").id], CUT, grain="month")
    assert len(months) == 12 * 7
