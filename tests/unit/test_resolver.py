"""Interval resolution against an oracle written from domain.md §5, not from the code.

The oracle below walks the calendar one day at a time, as a coordinator reading the spec
would: on each day the day's starts open, then the day's ends close, each in recording
order; a named end closes its start only if it is still open; an implicit end closes the
latest-starting open interval of its family (ties: the later recorded); an end that finds
nothing closes nothing; voided events do not exist. It shares nothing with
``cohort.domain.intervals`` (not even the event families), and both the whole resolution
(``resolve``) and the incremental one the import uses (``Resolver``) are checked against it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cohort.domain.enums import EventType as T
from cohort.domain.intervals import EventFact, Resolver, order_key, resolve

# domain.md §5, the event table: which types open and which close an interval of a family.
OPENS = {"housing_entry": "housing", "training_start": "training",
         "employment_start": "employment", "school_enrolment": "school",
         "scheme_entry": "scheme", "resource_start": "resource",
         "support_break": "support_break", "childcare_start": "childcare"}
CLOSES = {"housing_exit": "housing", "training_end": "training",
          "employment_end": "employment", "school_exit": "school", "scheme_exit": "scheme",
          "resource_end": "resource", "support_resumed": "support_break",
          "childcare_end": "childcare"}
FIRST = dt.date(2023, 1, 1)
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Written:
    """An event as recorded: ``key`` is also its recording order."""

    key: int
    type: str
    date: dt.date
    closes: int | None = None
    voided: bool = False


@dataclass(frozen=True)
class Outcome:
    intervals: dict[int, tuple[str, dt.date, int | None, dt.date | None]]  # start → its span
    closed_by: dict[int, int | None]  # end → the start it closed (None: nothing)
    open_on: dict[dt.date, set[int]]  # day → the starts open that day


def oracle(history: list[Written]) -> Outcome:
    """Resolve by walking the calendar day by day (domain.md §5)."""
    live = [e for e in history if not e.voided]
    intervals: dict[int, tuple[str, dt.date, int | None, dt.date | None]] = {}
    closed_by: dict[int, int | None] = {}
    open_on: dict[dt.date, set[int]] = {}
    still_open: dict[int, Written] = {}
    if not live:
        return Outcome(intervals, closed_by, open_on)
    day, last = min(e.date for e in live) - ONE_DAY, max(e.date for e in live) + ONE_DAY
    while day <= last:
        today = sorted((e for e in live if e.date == day), key=lambda e: e.key)
        for e in today:
            if e.type in OPENS:
                still_open[e.key] = e
                intervals[e.key] = (OPENS[e.type], e.date, None, None)
        for e in today:
            if e.type not in CLOSES:
                continue
            if e.closes is not None:
                target = still_open.get(e.closes)
            else:
                mine = [s for s in still_open.values() if OPENS[s.type] == CLOSES[e.type]]
                target = max(mine, key=lambda s: (s.date, s.key)) if mine else None
            closed_by[e.key] = target.key if target else None
            if target is not None:
                del still_open[target.key]
                intervals[target.key] = (OPENS[target.type], target.date, e.key, e.date)
        open_on[day] = set(still_open)
        day += ONE_DAY
    return Outcome(intervals, closed_by, open_on)


TYPES = ["housing_entry", "housing_exit", "employment_start", "employment_end",
         "training_start", "training_end", "resource_start", "resource_end", "contact"]


@st.composite
def histories(draw: st.DrawFn) -> list[Written]:
    """Events in recording order over a few days (many same-date ties), some ends naming
    a start of their family (possibly dated after them, or voided), some events voided."""
    written: list[Written] = []
    for key in range(1, draw(st.integers(1, 16)) + 1):
        type_ = draw(st.sampled_from(TYPES))
        date = FIRST + dt.timedelta(days=draw(st.integers(0, 8)))
        closes = None
        if type_ in CLOSES and draw(st.booleans()):
            named = [w.key for w in written if OPENS.get(w.type) == CLOSES[type_]]
            closes = draw(st.sampled_from(named)) if named else None
        voided = draw(st.integers(0, 4)) == 0
        written.append(Written(key, type_, date, closes, voided))
    return written


def facts(history: list[Written]) -> list[EventFact]:
    """What the service hands the resolver: the non-voided events (seq: recording order)."""
    return [EventFact(key=w.key, type=T(w.type), date=w.date, seq=w.key, closes=w.closes)
            for w in history if not w.voided]


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(histories())
def test_resolve_matches_the_day_by_day_reading_of_the_spec(history: list[Written]) -> None:
    expected = oracle(history)
    resolution = resolve(facts(history))
    assert resolution.closed_by == expected.closed_by
    assert {i.start_key: (i.family.value, i.start_date, i.end_key, i.end_date)
            for i in resolution.intervals} == expected.intervals
    for day, open_keys in expected.open_on.items():
        assert {i.start_key for i in resolution.intervals if i.open_at(day)} == open_keys, day


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(histories())
def test_each_end_closes_what_the_full_resolution_says(history: list[Written]) -> None:
    """Recording events one by one: an end fed in order closes what the spec's reading of
    the history so far says; out of order, the caller resolves again (as the import does)."""
    resolver = Resolver()
    so_far: list[Written] = []
    for written in (w for w in history if not w.voided):
        (fact,) = facts([written])
        expected = oracle([*so_far, written]).closed_by.get(written.key)
        if resolver.follows(fact):
            target = resolver.target(fact)
            if written.type in CLOSES:
                assert (target.key if target else None) == expected
            resolver.feed(fact)
        else:
            resolver = Resolver()
            for known in sorted(facts([*so_far, written]), key=order_key):
                resolver.feed(known)
        so_far.append(written)
    fed = facts(history)
    assert resolver.last == (max(order_key(f) for f in fed) if fed else None)


def test_feeding_out_of_order_is_refused() -> None:
    resolver = Resolver()
    resolver.feed(EventFact(key=1, type=T.HOUSING_ENTRY, date=dt.date(2023, 5, 1), seq=1))
    earlier = EventFact(key=2, type=T.HOUSING_EXIT, date=dt.date(2023, 4, 1), seq=2)
    assert not resolver.follows(earlier)
    with pytest.raises(ValueError, match="order"):
        resolver.feed(earlier)


def test_the_oracle_reads_the_spec_examples() -> None:
    """The oracle itself, on the cases §5 spells out."""
    d = [FIRST + dt.timedelta(days=n) for n in range(4)]
    same_day = oracle([Written(1, "employment_end", d[1]), Written(2, "employment_start", d[1]),
                       Written(3, "employment_start", d[0])])
    assert same_day.closed_by == {1: 2}  # starts before ends on one date; latest start
    assert same_day.open_on[d[1]] == {3}  # open at D: start <= D < end
    named_twice = oracle([Written(1, "training_start", d[0]),
                          Written(2, "training_end", d[1], closes=1),
                          Written(3, "training_end", d[2], closes=1)])
    assert named_twice.closed_by == {2: 1, 3: None}  # only while still open
    voided = oracle([Written(1, "housing_entry", d[0], voided=True),
                     Written(2, "housing_entry", d[1]),
                     Written(3, "housing_exit", d[2], closes=1),
                     Written(4, "housing_exit", d[3])])
    assert voided.closed_by == {3: None, 4: 2}
    assert voided.intervals == {2: ("housing", d[1], 4, d[3])}
