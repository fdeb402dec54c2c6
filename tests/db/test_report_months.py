"""People accompanied per month (the report's monthly series) against a direct count.

The SQL merges each person's enrolments in an action into islands of months and counts
with running sums, taking a shortcut for people with one enrolment; here any mix of
overlapping, adjacent, separate, open and later-ended enrolments is counted month by
month in Python, per domain.md §7: a person counts once in a month when one of their
enrolments in the action, as known at A, covers part of it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from cohort.indicators.base import Cut
from cohort.models import Enrolment
from cohort.report.figures import accompanied_by_month, months_of
from tests.builders import action, register, structure

PEOPLE = 3
ACTIONS = ("62-A4", "62-A6")
DAYS = st.dates(min_value=dt.date(2022, 9, 1), max_value=dt.date(2024, 3, 31))
SPANS = st.tuples(st.integers(0, PEOPLE - 1), st.sampled_from(ACTIONS), DAYS,
                  st.one_of(st.none(), st.integers(0, 400)))
CUTS = st.sampled_from([dt.date(2023, 8, 14), dt.date(2023, 12, 31), dt.date(2024, 2, 29)])


@pytest.fixture
def cast(session: Session, keyring: Any) -> dict[str, Any]:
    people = [register(session, keyring) for _ in range(PEOPLE)]
    return {"people": [p.id for p in people], "structure": structure(session).id,
            "actions": {code: action(session, code).id for code in ACTIONS}}


def _expected(spans: list[tuple[int, str, dt.date, dt.date | None]],
              cut: Cut) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for label, first, last in months_of(cut):
        for code in ACTIONS:
            people = set()
            for who, where, start, end in spans:
                known_end = end if end is not None and end <= cut.as_of else None
                in_period = start <= cut.period_to and (known_end is None
                                                        or known_end >= cut.period_from)
                covers = start <= last and (known_end is None or known_end >= first)
                if where == code and start <= cut.as_of and in_period and covers:
                    people.add(who)
            if people:
                counts[(code, label)] = len(people)
    return counts


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=st.lists(SPANS, max_size=7), as_of=CUTS)
def test_accompanied_per_month_counts_each_person_once_a_month(
        session: Session, cast: dict[str, Any], drawn: list[Any], as_of: dt.date) -> None:
    spans, open_ones = [], set()
    for who, code, start, length in drawn:
        if length is None and (who, code) in open_ones:
            length = 30  # one open enrolment per person and action (a database rule)
        if length is None:
            open_ones.add((who, code))
        spans.append((who, code, start,
                      None if length is None else start + dt.timedelta(days=length)))
    cut = Cut(dt.date(2023, 1, 1), dt.date(2023, 12, 31), as_of)
    nested = session.begin_nested()
    try:
        for who, code, start, end in spans:
            session.add(Enrolment(
                participant_id=cast["people"][who], action_id=cast["actions"][code],
                structure_id=cast["structure"], start_date=start, end_date=end,
                exit_reason=None if end is None else "other", rsa_at_entry=False,
                age_at_entry=30, under_26=False, ase_past=False))
        session.flush()
        found = accompanied_by_month(session, list(cast["actions"].values()), cut)
    finally:
        nested.rollback()
    codes = {ident: code for code, ident in cast["actions"].items()}
    assert {(codes[a], m): n for (a, m), n in found.items()} == _expected(spans, cut)
