"""The incremental resolver the import uses answers as the whole resolution does."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cohort.domain.enums import EventType as T
from cohort.domain.event_types import Boundary, kind_of
from cohort.domain.intervals import EventFact, Resolver, order_key, resolve

TYPES = [T.HOUSING_ENTRY, T.HOUSING_EXIT, T.TRAINING_START, T.TRAINING_END, T.CONTACT,
         T.EMPLOYMENT_START, T.EMPLOYMENT_END]


@st.composite
def histories(draw: st.DrawFn) -> list[EventFact]:
    """Events in recording order, some ends naming an earlier start."""
    facts: list[EventFact] = []
    for seq in range(1, draw(st.integers(1, 14)) + 1):
        type_ = draw(st.sampled_from(TYPES))
        date = dt.date(2023, 1, 1) + dt.timedelta(days=draw(st.integers(0, 20)))
        starts = [f.key for f in facts if kind_of(f.type).boundary is Boundary.START]
        closes = None
        if kind_of(type_).boundary is Boundary.END and starts and draw(st.booleans()):
            closes = draw(st.sampled_from(starts))
        facts.append(EventFact(key=seq, type=type_, date=date, seq=seq, closes=closes))
    return facts


@settings(max_examples=300, deadline=None)
@given(histories())
def test_each_end_closes_what_the_full_resolution_says(facts: list[EventFact]) -> None:
    """Recording events one by one: an end fed in order closes what resolving the whole
    history with it closes; out of order, the caller resolves again (as the import does)."""
    resolver = Resolver()
    so_far: list[EventFact] = []
    for fact in facts:
        expected = resolve([*so_far, fact]).closed_by.get(fact.key)
        if resolver.follows(fact):
            target = resolver.target(fact)
            if kind_of(fact.type).boundary is Boundary.END:
                assert (target.key if target else None) == expected
            resolver.feed(fact)
        else:
            resolver = Resolver()
            for known in sorted([*so_far, fact], key=order_key):
                resolver.feed(known)
        so_far.append(fact)
    assert resolver.last == max(order_key(f) for f in facts)


def test_feeding_out_of_order_is_refused() -> None:
    resolver = Resolver()
    resolver.feed(EventFact(key=1, type=T.HOUSING_ENTRY, date=dt.date(2023, 5, 1), seq=1))
    earlier = EventFact(key=2, type=T.HOUSING_EXIT, date=dt.date(2023, 4, 1), seq=2)
    assert not resolver.follows(earlier)
    with pytest.raises(ValueError, match="order"):
        resolver.feed(earlier)
