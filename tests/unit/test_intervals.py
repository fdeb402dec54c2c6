"""Interval resolution (domain.md §5): which end closes which start.

Each event is written ``(key, type, date, seq[, closes])``; ``seq`` is the recording order.
Voiding an event is removing it from the input.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from cohort.domain.enums import EventType as T
from cohort.domain.enums import Family
from cohort.domain.intervals import EventFact, Interval, resolve


def ev(key: str, type_: T, date: str, seq: int, closes: str | None = None) -> EventFact:
    return EventFact(key=key, type=type_, date=dt.date.fromisoformat(date), seq=seq, closes=closes)


def closed_by(events: list[EventFact]) -> dict[object, object]:
    return dict(resolve(events).closed_by)


def interval(events: list[EventFact], start_key: str) -> Interval:
    return next(i for i in resolve(events).intervals if i.start_key == start_key)


def without(events: list[EventFact], *voided: str) -> list[EventFact]:
    return [e for e in events if e.key not in voided]


# ---- implicit ends ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("events", "expected"),
    [
        pytest.param(
            [ev("s1", T.EMPLOYMENT_START, "2023-01-10", 1),
             ev("s2", T.EMPLOYMENT_START, "2023-03-01", 2),
             ev("x", T.EMPLOYMENT_END, "2023-04-01", 3)],
            {"x": "s2"}, id="latest-starting-open-interval",
        ),
        pytest.param(
            [ev("s2", T.EMPLOYMENT_START, "2023-03-01", 1),
             ev("s1", T.EMPLOYMENT_START, "2023-01-10", 2),
             ev("x", T.EMPLOYMENT_END, "2023-04-01", 3)],
            {"x": "s2"}, id="start-date-beats-recording-order",
        ),
        pytest.param(
            [ev("s1", T.EMPLOYMENT_START, "2023-01-10", 1),
             ev("s2", T.EMPLOYMENT_START, "2023-05-01", 2),
             ev("x", T.EMPLOYMENT_END, "2023-04-01", 3)],
            {"x": "s1"}, id="start-after-the-end-is-not-a-candidate",
        ),
        pytest.param(
            [ev("s1", T.TRAINING_START, "2023-03-01", 1),
             ev("s2", T.TRAINING_START, "2023-03-01", 2),
             ev("x", T.TRAINING_END, "2023-04-01", 3)],
            {"x": "s2"}, id="same-start-date-later-recorded",
        ),
        pytest.param(
            [ev("s2", T.TRAINING_START, "2023-03-01", 7),
             ev("s1", T.TRAINING_START, "2023-03-01", 4),
             ev("x", T.TRAINING_END, "2023-04-01", 9)],
            {"x": "s2"}, id="same-start-date-later-recorded-listed-first",
        ),
        pytest.param(
            [ev("s1", T.HOUSING_ENTRY, "2023-01-01", 1),
             ev("x", T.HOUSING_EXIT, "2023-03-01", 2),
             ev("s2", T.HOUSING_ENTRY, "2023-03-01", 3)],
            {"x": "s2"}, id="start-on-the-end-date-recorded-later-is-closed",
        ),
        pytest.param(
            [ev("s1", T.SCHEME_ENTRY, "2023-01-01", 1),
             ev("s2", T.SCHEME_ENTRY, "2023-02-01", 2),
             ev("a", T.SCHEME_EXIT, "2023-03-01", 3),
             ev("b", T.SCHEME_EXIT, "2023-04-01", 4)],
            {"a": "s2", "b": "s1"}, id="successive-ends-unwind",
        ),
        pytest.param(
            [ev("s1", T.RESOURCE_START, "2023-01-01", 1),
             ev("s2", T.RESOURCE_START, "2023-02-01", 2),
             ev("b", T.RESOURCE_END, "2023-03-01", 4),
             ev("a", T.RESOURCE_END, "2023-03-01", 3)],
            {"a": "s2", "b": "s1"}, id="same-date-ends-in-recording-order",
        ),
        pytest.param(
            [ev("x", T.EMPLOYMENT_END, "2023-04-01", 1)],
            {"x": None}, id="nothing-open",
        ),
        pytest.param(
            [ev("x", T.EMPLOYMENT_END, "2023-04-01", 1),
             ev("s", T.EMPLOYMENT_START, "2023-05-01", 2)],
            {"x": None}, id="only-a-later-start",
        ),
        pytest.param(
            [ev("s", T.TRAINING_START, "2023-01-01", 1),
             ev("x", T.EMPLOYMENT_END, "2023-04-01", 2),
             ev("b", T.SUPPORT_RESUMED, "2023-04-02", 3)],
            {"x": None, "b": None}, id="families-do-not-cross",
        ),
    ],
)
def test_implicit_end(events: list[EventFact], expected: dict[str, str | None]) -> None:
    assert closed_by(events) == expected


def test_resolution_does_not_depend_on_input_order() -> None:
    events = [
        ev("s1", T.HOUSING_ENTRY, "2023-01-01", 1),
        ev("s2", T.HOUSING_ENTRY, "2023-02-01", 2),
        ev("s3", T.HOUSING_ENTRY, "2023-02-01", 3),
        ev("a", T.HOUSING_EXIT, "2023-02-01", 4),
        ev("b", T.HOUSING_EXIT, "2023-03-01", 5, closes="s1"),
        ev("c", T.HOUSING_EXIT, "2023-03-01", 6),
    ]
    expected = {"a": "s3", "b": "s1", "c": "s2"}
    for perm in itertools.permutations(events):
        assert closed_by(list(perm)) == expected


# ---- named ends -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("events", "expected"),
    [
        pytest.param(
            [ev("s1", T.EMPLOYMENT_START, "2023-01-01", 1),
             ev("s2", T.EMPLOYMENT_START, "2023-02-01", 2),
             ev("x", T.EMPLOYMENT_END, "2023-03-01", 3, closes="s1")],
            {"x": "s1"}, id="closes-the-named-not-the-latest",
        ),
        pytest.param(
            [ev("s1", T.EMPLOYMENT_START, "2023-01-01", 1),
             ev("s2", T.EMPLOYMENT_START, "2023-02-01", 2),
             ev("a", T.EMPLOYMENT_END, "2023-03-01", 3, closes="s1"),
             ev("b", T.EMPLOYMENT_END, "2023-04-01", 4, closes="s1")],
            {"a": "s1", "b": None}, id="already-closed-closes-nothing-not-another",
        ),
        pytest.param(
            [ev("s1", T.EMPLOYMENT_START, "2023-01-01", 1),
             ev("a", T.EMPLOYMENT_END, "2023-03-01", 2),
             ev("b", T.EMPLOYMENT_END, "2023-04-01", 3, closes="s1")],
            {"a": "s1", "b": None}, id="closed-earlier-by-an-implicit-end",
        ),
        pytest.param(
            [ev("s0", T.EMPLOYMENT_START, "2023-01-01", 1),
             ev("x", T.EMPLOYMENT_END, "2023-03-01", 2, closes="s1"),
             ev("s1", T.EMPLOYMENT_START, "2023-05-01", 3)],
            {"x": None}, id="start-dated-after-the-end",
        ),
        pytest.param(
            [ev("x", T.EMPLOYMENT_END, "2023-03-01", 1, closes="s1"),
             ev("s1", T.EMPLOYMENT_START, "2023-03-01", 2)],
            {"x": "s1"}, id="start-on-the-end-date-counts-as-before",
        ),
        pytest.param(
            [ev("t", T.TRAINING_START, "2023-01-01", 1),
             ev("x", T.HOUSING_EXIT, "2023-03-01", 2, closes="t")],
            {"x": None}, id="start-of-another-family",
        ),
        pytest.param(
            [ev("x", T.HOUSING_EXIT, "2023-03-01", 1, closes="ghost")],
            {"x": None}, id="unknown-start",
        ),
    ],
)
def test_named_end(events: list[EventFact], expected: dict[str, str | None]) -> None:
    assert closed_by(events) == expected


def test_named_end_that_finds_nothing_leaves_the_start_open() -> None:
    events = [
        ev("x", T.EMPLOYMENT_END, "2023-03-01", 1, closes="s1"),
        ev("s1", T.EMPLOYMENT_START, "2023-05-01", 2),
    ]
    assert interval(events, "s1").end_key is None


# ---- interval bounds --------------------------------------------------------------------

def test_interval_carries_its_family_and_both_dates() -> None:
    events = [
        ev("s", T.CHILDCARE_START, "2023-03-01", 1),
        ev("x", T.CHILDCARE_END, "2023-03-10", 2),
        ev("p", T.CONTACT, "2023-03-05", 3),
        ev("l", T.LINK_PERSON_CHOSEN, "2023-03-05", 4),
    ]
    res = resolve(events)
    assert res.intervals == [
        Interval(Family.CHILDCARE, "s", dt.date(2023, 3, 1), "x", dt.date(2023, 3, 10))
    ]
    assert res.closed_by == {"x": "s"}  # point events close nothing and open nothing


@pytest.mark.parametrize(
    ("on", "is_open"),
    [("2023-02-28", False), ("2023-03-01", True), ("2023-03-09", True), ("2023-03-10", False)],
)
def test_open_at_includes_start_excludes_end(on: str, is_open: bool) -> None:
    events = [
        ev("s", T.SCHOOL_ENROLMENT, "2023-03-01", 1),
        ev("x", T.SCHOOL_EXIT, "2023-03-10", 2),
    ]
    assert interval(events, "s").open_at(dt.date.fromisoformat(on)) is is_open


@pytest.mark.parametrize(("on", "is_open"), [("2023-02-28", False), ("2023-03-01", True),
                                             ("2099-12-31", True)])
def test_interval_without_end_stays_open(on: str, is_open: bool) -> None:
    events = [ev("s", T.SCHOOL_ENROLMENT, "2023-03-01", 1)]
    assert interval(events, "s").open_at(dt.date.fromisoformat(on)) is is_open


def test_same_date_start_and_end_closes_at_once() -> None:
    # the end was recorded first, but on one date starts are processed before ends
    events = [
        ev("x", T.SUPPORT_RESUMED, "2023-06-01", 1),
        ev("s", T.SUPPORT_BREAK, "2023-06-01", 2),
    ]
    assert closed_by(events) == {"x": "s"}
    empty = interval(events, "s")
    assert (empty.start_date, empty.end_date) == (dt.date(2023, 6, 1), dt.date(2023, 6, 1))
    assert not any(empty.open_at(dt.date(2023, m, d)) for m, d in [(5, 31), (6, 1), (6, 2)])


# ---- voids: resolution is a function of the non-voided events ---------------------------

NAMED = [
    ev("h1", T.HOUSING_ENTRY, "2023-01-01", 1),
    ev("h2", T.HOUSING_ENTRY, "2023-02-01", 2),
    ev("x", T.HOUSING_EXIT, "2023-03-01", 3, closes="h1"),
]
IMPLICIT = [
    ev("h1", T.HOUSING_ENTRY, "2023-01-01", 1),
    ev("h2", T.HOUSING_ENTRY, "2023-02-01", 2),
    ev("x", T.HOUSING_EXIT, "2023-03-01", 3),
]


@pytest.mark.parametrize(
    ("events", "voided", "expected_closed_by", "still_open"),
    [
        pytest.param(NAMED, (), {"x": "h1"}, {"h2"}, id="named-before-void"),
        pytest.param(NAMED, ("h1",), {"x": None}, {"h2"}, id="named-start-voided"),
        pytest.param(IMPLICIT, (), {"x": "h2"}, {"h1"}, id="implicit-before-void"),
        pytest.param(IMPLICIT, ("h2",), {"x": "h1"}, set(), id="implicit-falls-back"),
        pytest.param(IMPLICIT, ("h1", "h2"), {"x": None}, set(), id="implicit-nothing-left"),
        pytest.param(IMPLICIT, ("x",), {}, {"h1", "h2"}, id="end-voided-reopens"),
    ],
)
def test_voiding_re_resolves(
    events: list[EventFact], voided: tuple[str, ...],
    expected_closed_by: dict[str, str | None], still_open: set[str],
) -> None:
    remaining = without(events, *voided)
    res = resolve(remaining)
    assert res.closed_by == expected_closed_by
    assert {i.start_key for i in res.intervals if i.end_key is None} == still_open
    assert {i.start_key for i in res.intervals} == {"h1", "h2"} - set(voided)
