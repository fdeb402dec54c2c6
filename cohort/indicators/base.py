"""The cut every indicator shares: period P, as-of date A, optional recorded-before T.

As of A, events dated after A and enrolments starting after A are ignored, and an end
after A counts as still open. Recorded before T also ignores every row recorded at or after
T — events, voids, enrolments, enrolment ends, enrolment cancellations and interval
resolutions — so a report sent on 31 March can be computed again, identically, after later
corrections.

A cancelled enrolment (entered by mistake, domain.md §4) counts nowhere, like a voided
event: whatever its dates, from the moment its cancellation is recorded (before T, when T
is given). ``enrolment_known`` says so for every statement that reads enrolments, and
``check_counts`` for the follow-up checks of such an enrolment (a done one included).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cohort.models import Enrolment, Event, EventInterval, EventVoid, Participant


@dataclass(frozen=True)
class Cut:
    period_from: dt.date
    period_to: dt.date
    as_of: dt.date
    recorded_before: dt.datetime | None = None

    @property
    def last_day(self) -> dt.date:
        """min(P.to, A): the last day that can be observed in the period."""
        return min(self.period_to, self.as_of)


def without_jit(session: Session) -> None:
    """PostgreSQL only: no JIT compilation for the rest of the transaction. The indicator
    statements are estimated expensive (correlated look-ups × many rows) but run in well
    under a second; JIT compiled, optimised and inlined them for up to 3 s each (EXPLAIN
    ANALYZE of the cohort table: 3.2 s of JIT in 5.3 s)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL jit = off"))


def person_of(participant: Any = Participant) -> sa.ColumnElement[int]:
    """Linked duplicates count as one person."""
    return sa.func.coalesce(participant.merged_into_id, participant.id)


def person_of_id(participant_id: Any) -> sa.ColumnElement[int]:
    """``person_of`` from a participant id column, without joining the participant table:
    only the few merged duplicates are looked up (their ids are one small set per
    statement), where a join read a large participant row per enrolment or event."""
    merged = aliased(Participant)
    owner = aliased(Participant)
    duplicates = sa.select(merged.id).where(merged.merged_into_id.is_not(None))
    target = (sa.select(owner.merged_into_id).where(owner.id == participant_id)
              .correlate_except(owner).scalar_subquery())
    return sa.case((participant_id.in_(duplicates), target), else_=participant_id)


def recorded(column: Any, cut: Cut) -> sa.ColumnElement[bool]:
    return sa.true() if cut.recorded_before is None else column < cut.recorded_before


def end_as_of(enrolment: Any, cut: Cut) -> sa.ColumnElement[dt.date]:
    """An enrolment's end as known at the cut: NULL (open) when after A or recorded later."""
    known = enrolment.end_date <= cut.as_of
    if cut.recorded_before is not None:
        known = sa.and_(known, enrolment.end_recorded_at < cut.recorded_before)
    return sa.case((known, enrolment.end_date), else_=sa.null())


def not_cancelled(enrolment: Any, cut: Cut) -> sa.ColumnElement[bool]:
    """Not cancelled as known at the cut (a cancellation recorded at or after T is not)."""
    if cut.recorded_before is None:
        return enrolment.cancelled_at.is_(None)
    return sa.or_(enrolment.cancelled_at.is_(None),
                  enrolment.cancelled_at >= cut.recorded_before)


def enrolment_known(enrolment: Any, cut: Cut) -> sa.ColumnElement[bool]:
    """Started on or before A, recorded before T, and not cancelled as known at the cut."""
    return sa.and_(enrolment.start_date <= cut.as_of, recorded(enrolment.recorded_at, cut),
                   not_cancelled(enrolment, cut))


def cancelled_enrolment_ids(cut: Cut) -> sa.Select[Any]:
    """The ids of the enrolments cancelled as known at the cut (few: a partial index)."""
    e = aliased(Enrolment)
    clause = e.cancelled_at.is_not(None)
    if cut.recorded_before is not None:
        clause = sa.and_(clause, e.cancelled_at < cut.recorded_before)
    return sa.select(e.id).where(clause)


def check_counts(check: Any, cut: Cut) -> sa.ColumnElement[bool]:
    """A follow-up check whose enrolment is not cancelled as known at the cut: a check of a
    cancelled enrolment stays in its history (done or cancelled) but counts nowhere."""
    return check.enrolment_id.not_in(cancelled_enrolment_ids(cut))


def event_counts(event: Any, cut: Cut) -> sa.ColumnElement[bool]:
    """A stored, non-voided event dated on or before A (voids recorded before T count)."""
    void = aliased(EventVoid)
    voided = (sa.select(sa.literal(1)).select_from(void)
              .where(void.event_id == event.id, recorded(void.voided_at, cut))
              .correlate_except(void).exists())
    return sa.and_(event.date <= cut.as_of, recorded(event.recorded_at, cut), ~voided)


def interval_valid(interval: Any, cut: Cut) -> sa.ColumnElement[bool]:
    """The interval resolution in force at T (or now), started on or before A."""
    if cut.recorded_before is None:
        current = interval.valid_to.is_(None)
    else:
        current = sa.and_(interval.valid_from < cut.recorded_before,
                          sa.or_(interval.valid_to.is_(None),
                                 interval.valid_to >= cut.recorded_before))
    return sa.and_(current, interval.start_date <= cut.as_of)


def start_event(start: Any, interval: Any, cut: Cut) -> sa.ColumnElement[bool]:
    """The interval's start event, dated on or before A like its interval (its date is the
    interval's start, intervals.resolve): said here, it lets PostgreSQL leave the years
    after A out of the partitioned event table when planning (migration 0023). Not as an
    equality with the start date, which offered the planner a seek of the intervals by
    date alone, once per event (tests/db/test_query_plans.py)."""
    return sa.and_(start.id == interval.start_event_id, start.date <= cut.as_of)


def interval_end(interval: Any, cut: Cut) -> sa.ColumnElement[dt.date]:
    """An interval's end as of A (an end event dated after A is ignored: still open)."""
    return sa.case((interval.end_date <= cut.as_of, interval.end_date), else_=sa.null())


def _accompanied_where(e: Any, action_ids: list[int], cut: Cut) -> list[Any]:
    end = end_as_of(e, cut)
    return [e.action_id.in_(action_ids), enrolment_known(e, cut), e.start_date <= cut.period_to,
            sa.or_(end.is_(None), end >= cut.period_from)]


def accompanied(action_ids: list[int], cut: Cut, *,
                 birth_month: bool = False) -> sa.Subquery:
    """People accompanied in P (an enrolment with start ≤ P.to and no end or end ≥ P.from),
    one row per person carrying their latest-starting enrolment's attributes (and the
    participant's birth month when asked: only then is the participant table read)."""
    e = aliased(Enrolment)
    end = end_as_of(e, cut)
    person = person_of_id(e.participant_id)
    rank = sa.func.row_number().over(
        partition_by=person,
        order_by=(e.start_date.desc(), e.recorded_at.desc(), e.id.desc()),
    )
    ranked = (
        sa.select(
            person.label("person_id"),
            e.participant_id.label("participant_id"),
            e.id.label("enrolment_id"),
            e.start_date.label("start_date"),
            end.label("end_date"),
            e.rsa_at_entry.label("rsa"),
            e.under_26.label("under_26"),
            rank.label("rank"),
        )
        .where(*_accompanied_where(e, action_ids, cut))
        .subquery()
    )
    query = sa.select(ranked).where(ranked.c.rank == 1)
    if birth_month:
        query = (sa.select(ranked, Participant.birth_month.label("birth_month"))
                 .join(Participant, Participant.id == ranked.c.participant_id)
                 .where(ranked.c.rank == 1))
    return query.subquery("accompanied")


def accompanied_people(action_ids: list[int], cut: Cut) -> sa.Select[Any]:
    """The person ids of ``accompanied`` (possibly repeated), without ranking enrolments:
    for a set of people (a UNION, a DISTINCT count) the latest enrolment is not needed."""
    e = aliased(Enrolment)
    return (sa.select(person_of_id(e.participant_id).label("person_id"))
            .select_from(e)
            .where(*_accompanied_where(e, action_ids, cut)))


def valid_events(cut: Cut) -> Any:
    """An aliased Event and the clause that keeps only the events that count."""
    ev = aliased(Event)
    return ev, event_counts(ev, cut)


def valid_intervals(cut: Cut) -> Any:
    iv = aliased(EventInterval)
    return iv, interval_valid(iv, cut)
