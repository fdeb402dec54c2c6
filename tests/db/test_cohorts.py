"""Cohort table against hand-computed values (P = 2023 by quarter, A = 2024-03-31), and
the follow-up-check clause of "known" at its boundaries (P = 2023 by month)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM
from cohort.indicators.base import Cut
from cohort.indicators.cohorts import cohort_table
from cohort.models import Event
from cohort.services import enrolments, followups
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


def _check(session: Session, keyring: Any, e: Any, outcome: str, day: dt.date,
           recorded: dt.datetime | None = None) -> None:
    """Record e's check on `day`; a reached one reports "not in employment", which matches
    the derived status and so writes no event: only the check can make its person known."""
    check = followups.live_check(session, e.id)
    assert check is not None
    when = recorded or max(NOW, dt.datetime.combine(day, dt.time(12), dt.UTC))
    followups.record_result(session, keyring, SYSTEM, check.uuid, {
        "expected_version": check.version, "date": day, "outcome": outcome,
        "attempts": 2 if outcome == "not_reached" else None,
        "situation": {"employment": None} if outcome == "reached" else None},
        today=max(day, when.date()), now=when)


def test_a_reached_check_within_45_days_of_the_horizon_makes_a_member_known(
        session: Session, keyring: Any) -> None:
    """One member per month of 2023, entered on the 15th (the 27th in December) and no
    longer enrolled at H = entry + 12 months, with no event at all: only a check can make
    them known at H. A = 2024-12-31."""
    s, k = session, keyring
    ml = structure(s)
    cases = {  # month: (end of the enrolment, outcome, check date or None: never done)
        1: (D(2023, 2, 28), "reached", D(2023, 12, 1)),  # H − 45: known
        2: (D(2023, 3, 31), "reached", D(2024, 3, 31)),  # H + 45: known
        3: (D(2023, 4, 30), "reached", D(2024, 1, 29)),  # H − 46
        4: (D(2023, 5, 31), "reached", D(2024, 5, 31)),  # H + 46
        5: (D(2023, 6, 30), "not_reached", D(2024, 5, 15)),  # at H, not reached
        6: (D(2023, 7, 31), "refused", D(2024, 6, 15)),  # at H, refused to answer
        7: (D(2023, 8, 31), "reached", D(2024, 7, 15)),  # at H, recorded on 20 August
        8: (D(2023, 9, 30), "reached", D(2024, 7, 1)),  # H − 45, recorded that day: known
        9: (D(2024, 3, 15), "scheduled", None),  # due on H, never done
        10: (D(2024, 4, 15), "reached", D(2024, 12, 14)),  # due on H, done at H + 60
        11: (D(2023, 12, 31), "reached", D(2024, 11, 15)),  # at H: known
        12: (D(2024, 1, 31), "reached", D(2025, 1, 6)),  # H + 10, after A
    }
    members = []
    for month, (end, outcome, day) in cases.items():
        member = register(s, k)
        members.append(member.id)
        e = enrol(s, k, member, "62-A6", ml, D(2023, month, 27 if month == 12 else 15))
        _end(s, e, end)
        if day is not None:
            late = dt.datetime(2024, 8, 20, 9, 0, tzinfo=dt.UTC) if month == 7 else None
            _check(s, k, e, outcome, day, recorded=late)
    s.flush()
    assert s.execute(sa.select(sa.func.count()).select_from(Event)
                     .where(Event.participant_id.in_(members))).scalar_one() == 0
    a6 = [action(s, "62-A6").id]

    def known(cut: Cut) -> dict[str, int]:
        rows = [r for r in cohort_table(s, a6, cut, grain="month") if r.horizon == "entry_12m"]
        assert [(r.members, r.observable) for r in rows] == [(1, 1)] * 12
        return {r.cohort: r.known for r in rows}

    def months(*known_ones: int) -> dict[str, int]:
        return {f"2023-{m:02d}": int(m in known_ones) for m in range(1, 13)}

    year = Cut(period_from=D(2023, 1, 1), period_to=D(2023, 12, 31), as_of=D(2024, 12, 31))
    assert known(year) == months(1, 2, 7, 8, 11)
    # As of 31 January 2025, December's check (H + 10) is on or before A.
    later = Cut(year.period_from, year.period_to, as_of=D(2025, 1, 31))
    assert known(later) == months(1, 2, 7, 8, 11, 12)
    # Recorded before 1 August 2024: July's result (recorded 20 August) and the checks
    # recorded on their dates from then on are not yet there.
    before = Cut(year.period_from, year.period_to, year.as_of,
                 recorded_before=dt.datetime(2024, 8, 1, tzinfo=dt.UTC))
    assert known(before) == months(1, 2, 8)
