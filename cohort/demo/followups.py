"""The demo's six-month checks: results recorded as a coordinator would, then the sweep.

A reached participant's situation is read from their pathway on the check date, so the
check confirms the events instead of adding its own (the plan's event counts stay exact,
and no later step of the plan meets an interval it did not expect). After the plan, the
sweep and the digests run once, through the services `cohort followups remind` uses, so
overdue checks of ASE youths have their alerts when the demo opens.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import Actor
from cohort.demo.items import CheckResult, DemoError
from cohort.domain.enums import Family
from cohort.domain.followup import CheckState, Start, latest_housing, open_at, state_on
from cohort.domain.intervals import resolve
from cohort.identity.keyring import Keyring
from cohort.models import Alert, Enrolment, Event, EventVoid, FollowUpCheck
from cohort.schemas.event_attributes import EmploymentStart, TrainingStart
from cohort.schemas.followups import SituationSchema
from cohort.services import events, followups, notify


def situation_on(session: Session, participant_id: int, day: dt.date) -> dict[str, Any]:
    """What the participant's recorded pathway says on `day`, as a check's situation."""
    intervals = resolve(events.facts_of(session, participant_id)).intervals
    keys = [i.start_key for i in intervals]
    rows = session.execute(
        sa.select(Event.id, Event.type, Event.date, Event.attributes)
        .outerjoin(EventVoid, EventVoid.event_id == Event.id)
        .where(Event.id.in_(keys), EventVoid.id.is_(None))
    ).all() if keys else []
    starts = {r.id: Start(key=r.id, type=r.type, date=r.date, seq=r.id,
                          attributes=r.attributes or {}) for r in rows}
    current = open_at(intervals, starts, day)

    def first(family: Family) -> dict[str, Any] | None:
        found = [o.start.attributes for o in current if o.family is family]
        return found[0] if found else None

    job, training, scheme = first(Family.EMPLOYMENT), first(Family.TRAINING), first(Family.SCHEME)
    situation: dict[str, Any] = {
        "employment": _only(job, EmploymentStart) if job is not None else None,
        "training": _only(training, TrainingStart) if training is not None else None,
        "school": first(Family.SCHOOL) is not None,
        "scheme": scheme.get("scheme") if scheme is not None else None,
        "resources": sorted({o.start.attributes["resource"] for o in current
                             if o.family is Family.RESOURCE}),
    }
    housing = latest_housing(intervals, starts, day)
    if housing is not None and housing[0].open_at(day):
        situation["housing_type"] = housing[1].attributes["housing_type"]
    return SituationSchema().load(situation)


def _only(attributes: dict[str, Any], schema: type[Any]) -> dict[str, Any]:
    """The attributes a situation element takes (the schema's own fields)."""
    return {k: v for k, v in attributes.items() if k in schema().fields and v is not None}


def record(session: Session, keyring: Keyring, actor: Actor, enrolment: Enrolment,
           item: CheckResult, *, today: dt.date, now: dt.datetime) -> None:
    """Record one planned result on the enrolment's check (scheduled when it ended)."""
    check = followups.live_check(session, enrolment.id)
    if check is None:
        raise DemoError("an ended demo enrolment has no follow-up check")
    data: dict[str, Any] = {"expected_version": check.version, "date": item.date,
                            "outcome": item.outcome, "attempts": item.attempts,
                            "situation": None}
    if item.outcome == "reached":
        data["situation"] = situation_on(session, enrolment.participant_id, item.date)
    result = followups.record_result(session, keyring, actor, check.uuid, data, today=today,
                                     now=now)
    if result.check.event_ids:
        raise DemoError("a demo check result disagreed with the recorded pathway")


@dataclass(frozen=True)
class FollowUpState:
    """Where the checks stand on the demo's today, and the alerts open for ASE referents."""

    checks: dict[str, int]
    open_alerts: int

    def line(self) -> str:
        states = ", ".join(f"{s} {n}" for s, n in self.checks.items()) or "none"
        return f"follow-up checks today: {states}; open alerts: {self.open_alerts}"


def sweep_and_remind(session: Session, *, today: dt.date, now: dt.datetime) -> FollowUpState:
    """The daily sweep and digests, once, as `cohort followups remind` runs them (no e-mail)."""
    followups.sweep(session, today=today, now=now)
    notify.digests(session, today=today, now=now)
    return state_of(session, today=today)


def state_of(session: Session, *, today: dt.date) -> FollowUpState:
    counts = {s.value: 0 for s in (CheckState.UPCOMING, CheckState.DUE, CheckState.DONE,
                                   CheckState.OVERDUE)}
    for status, start, end in session.execute(
            sa.select(FollowUpCheck.status, FollowUpCheck.window_start, FollowUpCheck.window_end)):
        state = state_on(status, start, end, today).value
        if state in counts:
            counts[state] += 1
    alerts = session.execute(sa.select(sa.func.count()).select_from(Alert)
                             .where(Alert.closed_at.is_(None))).scalar_one()
    return FollowUpState(counts, alerts)
