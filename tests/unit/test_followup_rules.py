"""The follow-up rules as pure functions: window, state, and what a situation writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cohort.domain.enums import EventType
from cohort.domain.followup import (
    CheckState,
    plan_events,
    state_on,
    window_for,
    window_settings,
)
from cohort.domain.intervals import EventFact, resolve
from cohort.domain.pathway_status import Start, status_at

D = dt.date


@pytest.mark.parametrize(("end", "due"), [
    (D(2023, 8, 31), D(2024, 2, 29)),  # leap year: the month's last day
    (D(2022, 8, 31), D(2023, 2, 28)),
    (D(2023, 6, 30), D(2023, 12, 30)),
    (D(2023, 12, 31), D(2024, 6, 30)),
])
def test_due_six_months_after_the_end(end: dt.date, due: dt.date) -> None:
    window = window_for(end)
    assert (window.due, window.start, window.end) == (
        due, due - dt.timedelta(days=15), due + dt.timedelta(days=45))


def test_the_action_overrides_the_programme() -> None:
    programme = {"followup_months": 6, "followup_window_before_days": 15,
                 "followup_window_after_days": 45}
    assert window_settings(programme, {}) == (6, 15, 45)
    assert window_settings(programme, {"followup_months": 12}) == (12, 15, 45)
    assert window_settings({}, {}) == (6, 15, 45)


def test_states_at_the_boundaries() -> None:
    start, end = D(2024, 2, 14), D(2024, 4, 14)
    assert state_on("scheduled", start, end, D(2024, 2, 13)) is CheckState.UPCOMING
    assert state_on("scheduled", start, end, D(2024, 2, 14)) is CheckState.DUE
    assert state_on("scheduled", start, end, D(2024, 4, 14)) is CheckState.DUE
    assert state_on("scheduled", start, end, D(2024, 4, 15)) is CheckState.OVERDUE
    assert state_on("done", start, end, D(2030, 1, 1)) is CheckState.DONE
    assert state_on("cancelled", start, end, D(2024, 3, 1)) is CheckState.CANCELLED


def _history(*events: tuple[str, dt.date, dict[str, Any]]) -> tuple[Any, dict[int, Start]]:
    facts = [EventFact(key=i, type=EventType(t), date=d, seq=i)
             for i, (t, d, _) in enumerate(events, start=1)]
    starts = {i: Start(key=i, type=t, date=d, seq=i, attributes=a)
              for i, (t, d, a) in enumerate(events, start=1)}
    return resolve(facts).intervals, starts


DAY = D(2024, 3, 1)


def test_absent_keys_write_nothing_and_matches_write_nothing() -> None:
    intervals, starts = _history(("scheme_entry", D(2023, 9, 1), {"scheme": "cej"}),
                                 ("school_enrolment", D(2023, 9, 1), {}))
    assert plan_events({}, intervals, starts, DAY) == []
    assert plan_events({"scheme": "cej", "school": True}, intervals, starts, DAY) == []


def test_what_differs_is_opened_or_closed() -> None:
    intervals, starts = _history(
        ("scheme_entry", D(2023, 9, 1), {"scheme": "cej"}),
        ("resource_start", D(2023, 9, 1), {"resource": "rsa"}),
        ("resource_start", D(2023, 9, 1), {"resource": "faj"}),
        ("employment_start", D(2023, 10, 1), {"contract": "cdd", "planned_months": 3}),
        ("housing_entry", D(2023, 9, 1), {"housing_type": "family"}),
    )
    planned = plan_events({"scheme": "e2c", "resources": ["rsa", "wage"], "employment": None,
                           "housing_type": "family", "school": False},
                          intervals, starts, DAY)
    assert sorted((p.type.value, p.closes, tuple(sorted(p.attributes.items())))
                  for p in planned) == [
        ("employment_end", 4, ()),
        ("resource_end", 3, ()),  # faj no longer received
        ("resource_start", None, (("resource", "wage"),)),
        ("scheme_entry", None, (("scheme", "e2c"),)),
    ]
    assert len({p.name for p in planned}) == len(planned)


def test_an_interval_ending_on_the_check_date_is_not_open_then() -> None:
    intervals, starts = _history(("training_start", D(2023, 9, 1), {"qualifying": True}),
                                 ("training_end", DAY, {}))
    planned = plan_events({"training": {"qualifying": True}}, intervals, starts, DAY)
    assert [p.type for p in planned] == [EventType.TRAINING_START]
    assert plan_events({"training": None}, intervals, starts, DAY) == []


def test_status_at_a_date() -> None:
    intervals, starts = _history(
        ("employment_start", D(2023, 10, 1), {"contract": "cdd", "planned_months": 6}),
        ("housing_entry", D(2023, 9, 1), {"housing_type": "social_rental"}),
        ("housing_entry", D(2024, 1, 1), {"housing_type": "family"}),
    )
    status = status_at(intervals, starts, DAY)
    assert (status.in_pathway, status.durable_employment, status.stably_housed,
            status.has_resources) == (True, True, False, False)
    earlier = status_at(intervals, starts, D(2023, 12, 31))
    assert earlier.stably_housed is True
