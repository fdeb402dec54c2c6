"""The three readings of the status at a date (domain.md §5) agree on random histories.

The status is read in Python (``pathway_status.status_at``, what a follow-up check stores),
as SQL EXISTS clauses (``indicators.status.at_date``, the indicators) and as SQL flags
(``open_flags`` + ``stably_housed_flag``, the cohort table). All three are built from the
rules of ``domain.pathway_status``; this test holds them together. Histories are recorded
and voided through ``services.events``, so the interval table is filled exactly as in
production (refused steps, such as an end with nothing to close, are simply not recorded),
then every participant's status is read on every day where it may change, up to the cut.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM
from cohort.domain import pathway_status
from cohort.domain.enums import Contract, EventType, Family, HousingType, Resource, Scheme
from cohort.domain.pathway_status import (
    DEFAULT_STABLE_HOUSING,
    DURABLE_MIN_MONTHS,
    OPEN_ENDED_CONTRACTS,
    STATUS_NAMES,
)
from cohort.errors import CohortError
from cohort.indicators import status
from cohort.indicators.base import Cut, without_jit
from cohort.schemas.event_attributes import load_attributes
from cohort.services import events, followups
from tests.builders import NOW, TODAY, enrol, register, structure

PEOPLE = 3
FIRST = dt.date(2023, 3, 1)
SPAN = 40  # days: short, so that same-date ties and overlaps are frequent

LIFECYCLE = {
    Family.EMPLOYMENT: (EventType.EMPLOYMENT_START, EventType.EMPLOYMENT_END),
    Family.TRAINING: (EventType.TRAINING_START, EventType.TRAINING_END),
    Family.SCHOOL: (EventType.SCHOOL_ENROLMENT, EventType.SCHOOL_EXIT),
    Family.SCHEME: (EventType.SCHEME_ENTRY, EventType.SCHEME_EXIT),
    Family.RESOURCE: (EventType.RESOURCE_START, EventType.RESOURCE_END),
    Family.HOUSING: (EventType.HOUSING_ENTRY, EventType.HOUSING_EXIT),
}
END_ATTRIBUTES: dict[Family, dict[str, Any]] = {Family.HOUSING: {"reason": "other"}}
MONTHS = st.sampled_from([1, DURABLE_MIN_MONTHS - 1, DURABLE_MIN_MONTHS,
                          DURABLE_MIN_MONTHS + 1, 24])


def _contract(contract: str) -> st.SearchStrategy[dict[str, Any]]:
    # A fixed-term contract always has its planned months (the attributes schema says so).
    months = st.one_of(st.none(), MONTHS) if contract in OPEN_ENDED_CONTRACTS else MONTHS
    return months.map(lambda m: {"contract": contract} | ({} if m is None
                                                           else {"planned_months": m}))


START_ATTRIBUTES: dict[Family, st.SearchStrategy[dict[str, Any]]] = {
    Family.EMPLOYMENT: st.sampled_from([c.value for c in Contract]).flatmap(_contract),
    Family.TRAINING: st.builds(lambda q: {"qualifying": q}, st.booleans()),
    Family.SCHOOL: st.just({}),
    Family.SCHEME: st.builds(lambda s: {"scheme": s}, st.sampled_from([s.value for s in Scheme])),
    Family.RESOURCE: st.builds(lambda r: {"resource": r},
                               st.sampled_from([r.value for r in Resource])),
    Family.HOUSING: st.builds(lambda h, v: {"housing_type": h, "via_programme": v},
                              # half the time a type that one of the stable sets counts
                              st.one_of(st.sampled_from(["social_rental", "sliding_lease",
                                                         "youth_residence"]),
                                        st.sampled_from([h.value for h in HousingType])),
                              st.booleans()),
}
STABLE_SETS = st.sampled_from([
    DEFAULT_STABLE_HOUSING,
    (HousingType.SOCIAL_RENTAL.value, HousingType.YOUTH_RESIDENCE.value,
     HousingType.FAMILY.value),
])


# Housing (latest entry only) and employment (a start predicate) are the subtle rules: drawn
# more often. Half the dates fall on a few anchor days, so that one person's events often
# share a date (ties broken by recording order).
FAMILIES = st.sampled_from([*LIFECYCLE, Family.HOUSING, Family.HOUSING, Family.EMPLOYMENT])
OFFSETS = st.one_of(st.sampled_from([0, 10, 20]), st.integers(0, SPAN))


@dataclass(frozen=True)
class Step:
    """One thing a coordinator does, in recording order: record a start or an end, or void
    one of the person's events (``pick`` chooses which, and which start a named end names)."""

    who: int
    action: str  # "start", "end", "void"
    family: Family = Family.EMPLOYMENT
    day: dt.date = FIRST
    attributes: dict[str, Any] = field(default_factory=dict)
    named: bool = False
    pick: int = 0


@st.composite
def steps(draw: st.DrawFn) -> Step:
    who = draw(st.integers(0, PEOPLE - 1))
    action = draw(st.sampled_from(["start", "start", "end", "end", "void"]))
    family = draw(FAMILIES)
    day = FIRST + dt.timedelta(days=draw(OFFSETS))
    if action == "start":
        return Step(who, action, family, day, draw(START_ATTRIBUTES[family]))
    return Step(who, action, family, day, dict(END_ATTRIBUTES.get(family, {})),
                named=draw(st.booleans()), pick=draw(st.integers(0, 99)))


@pytest.fixture
def cast(session: Session, keyring: Any) -> dict[str, Any]:
    """Participants enrolled before the window, so every date in it may carry an event."""
    where = structure(session)
    people = [register(session, keyring) for _ in range(PEOPLE)]
    for p in people:
        enrol(session, keyring, p, "62-A6", where, FIRST - dt.timedelta(days=30))
    return {"people": people, "keyring": keyring}


@dataclass
class Recorded:
    uuid: uuid.UUID
    family: Family
    start: bool


def _play(session: Session, keyring: Any, participant: Any, mine: list[Step]) -> int:
    """Record one person's steps through the services; return how many were accepted."""
    alive: list[Recorded] = []
    accepted = 0
    for step in mine:
        if step.action == "void":
            if alive:
                victim = alive.pop(step.pick % len(alive))
                event = events.get_event(session, victim.uuid)
                events.void(session, SYSTEM, event, "erreur de saisie", now=NOW)
                accepted += 1
            continue
        start_type, end_type = LIFECYCLE[step.family]
        type_ = start_type if step.action == "start" else end_type
        closes = None
        if step.action == "end" and step.named:
            named = [r for r in alive if r.start and r.family is step.family]
            closes = named[step.pick % len(named)].uuid if named else None
        data = {"id": uuid.uuid4(), "participant_id": participant.uuid, "type": type_.value,
                "date": step.day, "enrolment_id": None, "operation_id": None,
                "closes": closes, "attributes": load_attributes(type_, step.attributes)}
        try:
            with session.begin_nested():
                event = events.record(session, keyring, SYSTEM, data, today=TODAY,
                                      now=NOW).event
        except CohortError:
            continue  # refused at recording time (e.g. nothing to close): never stored
        alive.append(Recorded(event.uuid, step.family, step.action == "start"))
        accepted += 1
    return accepted


def _days(mine: list[Step], as_of: dt.date) -> list[dt.date]:
    """The days a person's status can change (their events' dates), the days before them,
    the first day and the cut: a status is constant between two of the person's event
    dates, so these see every state that reading every day would."""
    one = dt.timedelta(days=1)
    days = {FIRST - one, as_of} | {s.day for s in mine} | {s.day - one for s in mine}
    return sorted(d for d in days if d <= as_of)


def _sql_readings(session: Session, probes: list[tuple[int, dt.date]], cut: Cut,
                  stable: tuple[str, ...]) -> tuple[list[tuple[bool, ...]],
                                                    list[tuple[bool, ...]]]:
    """The EXISTS form and the flag form, for every (participant, day) probe.

    Both forms are correlated to a probe row, as the indicators correlate them to their
    population; one statement, compiled once, is run per probe.
    """
    without_jit(session)  # as the indicator statements run
    probe = sa.select(sa.bindparam("pid", type_=sa.Integer).label("pid"),
                      sa.bindparam("day", type_=sa.Date).label("day")).subquery("probe")

    def as_int(clause: Any) -> Any:
        return sa.case((clause, 1), else_=0)

    query = sa.select(
        *[as_int(status.at_date(name, probe.c.pid, probe.c.day, cut, stable)).label(name)
          for name in STATUS_NAMES],
        status.open_flags(probe.c.pid, probe.c.day, cut).label("bits"),
        as_int(status.stably_housed_flag(probe.c.pid, probe.c.day, cut, stable)).label("housed"),
    )
    by_exists, by_flags = [], []
    for pid, day in probes:
        row = session.execute(query, {"pid": pid, "day": day}).one()
        by_exists.append(tuple(bool(getattr(row, name)) for name in STATUS_NAMES))
        bits = row.bits or 0
        read = {name: bool(bits & bit) for name, bit in status.OPEN_FLAGS.items()}
        read["stably_housed"] = bool(row.housed)
        by_flags.append(tuple(read[name] for name in STATUS_NAMES))
    return by_exists, by_flags


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(history=st.lists(steps(), min_size=8, max_size=30),
       cut_day=st.one_of(st.just(SPAN + 1), st.integers(0, SPAN + 1)), stable=STABLE_SETS)
def test_python_exists_and_flags_read_the_same_status(
        session: Session, cast: dict[str, Any], history: list[Step], cut_day: int,
        stable: tuple[str, ...]) -> None:
    """Every participant, on every day a status may change up to the cut: the three
    readings give one status."""
    as_of = FIRST + dt.timedelta(days=cut_day)
    cut = Cut(period_from=dt.date(2023, 1, 1), period_to=dt.date(2023, 12, 31), as_of=as_of)
    nested = session.begin_nested()
    try:
        for who, participant in enumerate(cast["people"]):
            _play(session, cast["keyring"], participant, [s for s in history if s.who == who])
        session.flush()
        probes, expected = [], []
        for who, participant in enumerate(cast["people"]):
            intervals, starts, _ = followups.resolved_starts(session, participant.id)
            for day in _days([s for s in history if s.who == who], as_of):
                reading = pathway_status.status_at(intervals, starts, day, stable)
                probes.append((participant.id, day))
                expected.append(tuple(getattr(reading, name) for name in STATUS_NAMES))
        by_exists, by_flags = _sql_readings(session, probes, cut, stable)
    finally:
        nested.rollback()
    for (pid, day), python, exists, flags in zip(probes, expected, by_exists, by_flags,
                                                 strict=True):
        assert exists == python, f"EXISTS vs Python, participant {pid} on {day}"
        assert flags == python, f"flags vs Python, participant {pid} on {day}"
