"""Follow-up checks (domain.md §6): scheduled when an enrolment ends, worked from a list,
recorded once, swept for overdue ones.

Ending an enrolment schedules its check at end + N months (window −before/+after days,
from the action's settings, else the programme's); correcting the end moves it, reopening
cancels it, erasing the participant cancels (or deletes) it. Recording a reached check
writes the reported situation as events dated the check date, only where it differs from
the status derived for that date, in the same transaction, through events.record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from cohort.actors import Actor, Role
from cohort.domain import followup, pathway_status
from cohort.domain.followup import CheckState, CheckStatus, Outcome, PlannedEvent, Window
from cohort.domain.intervals import resolve
from cohort.domain.pathway_status import Start
from cohort.errors import Conflict, Forbidden, Rejected
from cohort.identity.keyring import Keyring
from cohort.models import (
    Action,
    Alert,
    Enrolment,
    Event,
    EventVoid,
    FollowUpCheck,
    Notification,
    Participant,
    Programme,
    Structure,
)
from cohort.schemas.event_attributes import load_attributes
from cohort.services import access, alerts, events
from cohort.services.lookup import by_uuid

# Event uuids written by a check are uuid5(namespace, "<check uuid>/<what>"): a retried
# result writes the same events, which events.record then recognises as already recorded.
EVENT_NAMESPACE = uuid.UUID("6f1c2d4e-8a43-5b0e-9c1f-2f6c0b7d9e51")


# --- scheduling ------------------------------------------------------------------------------

def window_of(session: Session, enrolment: Enrolment) -> Window:
    """The check window of an ended enrolment, from its action's and programme's settings."""
    assert enrolment.end_date is not None
    action = session.get(Action, enrolment.action_id)
    assert action is not None
    programme = session.get(Programme, action.programme_id)
    assert programme is not None
    months, before, after = followup.window_settings(programme.settings or {},
                                                     action.settings or {})
    return followup.window_for(enrolment.end_date, months=months, before=before, after=after)


def live_check(session: Session, enrolment_id: int) -> FollowUpCheck | None:
    """The enrolment's check that is not cancelled (at most one: a unique index says so)."""
    return session.execute(
        sa.select(FollowUpCheck).where(FollowUpCheck.enrolment_id == enrolment_id,
                                       FollowUpCheck.status != CheckStatus.CANCELLED.value)
    ).scalar_one_or_none()


def schedule(session: Session, enrolment: Enrolment, *, now: dt.datetime) -> FollowUpCheck:
    """A new check for an ended enrolment."""
    window = window_of(session, enrolment)
    check = FollowUpCheck(enrolment_id=enrolment.id, participant_id=enrolment.participant_id,
                          structure_id=enrolment.structure_id, action_id=enrolment.action_id,
                          due_date=window.due, window_start=window.start,
                          window_end=window.end, status=CheckStatus.SCHEDULED.value,
                          created_at=now)
    session.add(check)
    session.flush()
    return check


def reschedule(check: FollowUpCheck, window: Window) -> bool:
    """Move a waiting check to a new window; True when it moved."""
    if (check.due_date, check.window_start, check.window_end) == (window.due, window.start,
                                                                  window.end):
        return False
    check.due_date, check.window_start, check.window_end = window.due, window.start, window.end
    return True


def cancel(check: FollowUpCheck, reason: str, *, now: dt.datetime) -> None:
    """A waiting check no longer applies (reopened enrolment, erased participant)."""
    check.status = CheckStatus.CANCELLED.value
    check.cancelled_at = now
    check.cancel_reason = reason


def sync(session: Session, enrolment: Enrolment, *, now: dt.datetime) -> FollowUpCheck | None:
    """Bring an enrolment's check in line with its end date: schedule, move or cancel.

    A check already done keeps its date and result: it records what happened (for a
    cancelled enrolment it stays in the history, counted nowhere).
    """
    check = live_check(session, enrolment.id)
    participant = session.get(Participant, enrolment.participant_id)
    erased = participant is not None and participant.erased_at is not None
    cancelled = enrolment.cancelled_at is not None
    if enrolment.end_date is None or erased or cancelled:
        if check is not None and check.status == CheckStatus.SCHEDULED:
            cancel(check, "erased" if erased else "enrolment_cancelled" if cancelled
                   else "reopened", now=now)
            session.flush()
        return None
    if check is None:
        return schedule(session, enrolment, now=now)
    if check.status == CheckStatus.SCHEDULED and reschedule(check, window_of(session, enrolment)):
        session.flush()
    return check


def on_erasure(session: Session, participant: Participant, *, delete: bool,
               now: dt.datetime) -> None:
    """lifecycle's hook: cancel an erased participant's waiting checks, or delete them with
    their alerts and messages when the pathway itself is deleted."""
    pid = participant.id
    if not delete:
        for check in session.execute(sa.select(FollowUpCheck).where(
                FollowUpCheck.participant_id == pid,
                FollowUpCheck.status == CheckStatus.SCHEDULED.value)).scalars():
            cancel(check, "erased", now=now)
        session.flush()
        return
    session.flush()
    alert_ids = sa.select(Alert.id).where(Alert.participant_id == pid)
    session.execute(sa.delete(Notification).where(Notification.alert_id.in_(alert_ids)))
    session.execute(sa.delete(Alert).where(Alert.participant_id == pid))
    session.execute(sa.delete(FollowUpCheck).where(FollowUpCheck.participant_id == pid))


# --- the worklist ----------------------------------------------------------------------------

def state_of(today: dt.date) -> sa.ColumnElement[str]:
    """The worklist state as SQL (domain.followup.state_on says the same in Python)."""
    c = FollowUpCheck
    return sa.case(
        (c.status == CheckStatus.DONE.value, CheckState.DONE.value),
        (c.status == CheckStatus.CANCELLED.value, CheckState.CANCELLED.value),
        (c.window_start > today, CheckState.UPCOMING.value),
        (c.window_end >= today, CheckState.DUE.value),
        else_=CheckState.OVERDUE.value,
    )


def _scope(actor: Actor) -> sa.ColumnElement[bool]:
    """Coordinators see their structure's checks; administrators every structure's."""
    if actor.role is Role.COORDINATOR and actor.structure_id is not None:
        return FollowUpCheck.structure_id == actor.structure_id
    if actor.role in (Role.ADMIN, Role.SYSTEM):
        return sa.true()
    raise Forbidden("follow-up checks are run by coordinators")


SORTS = {
    "due_date": (FollowUpCheck.due_date,),
    "-due_date": (FollowUpCheck.due_date.desc(),),
    "action": (Action.code, FollowUpCheck.due_date),
    "-action": (Action.code.desc(), FollowUpCheck.due_date),
    "checked_on": (FollowUpCheck.checked_on, FollowUpCheck.due_date),
    "-checked_on": (FollowUpCheck.checked_on.desc(), FollowUpCheck.due_date),
}


def _of_cancelled_enrolment() -> sa.ColumnElement[bool]:
    """The check belongs to a cancelled enrolment (its check is out of every list)."""
    return FollowUpCheck.enrolment_id.in_(
        sa.select(Enrolment.id).where(Enrolment.cancelled_at.is_not(None)))


def _filtered(actor: Actor, filters: dict[str, Any]) -> sa.Select[Any]:
    query = (sa.select(FollowUpCheck).join(Action, Action.id == FollowUpCheck.action_id)
             .where(_scope(actor), ~_of_cancelled_enrolment()))
    if filters.get("action_id"):
        query = query.where(Action.uuid == filters["action_id"])
    return query


def worklist_query(actor: Actor, filters: dict[str, Any], *,
                   today: dt.date) -> sa.Select[tuple[FollowUpCheck]]:
    """The actor's checks in the requested states (default: all but cancelled), sorted."""
    states = filters.get("state") or [s.value for s in CheckState if s is not CheckState.CANCELLED]
    query = _filtered(actor, filters).where(state_of(today).in_(states))
    return query.order_by(*SORTS[filters.get("sort") or "due_date"], FollowUpCheck.id)


def state_counts(session: Session, actor: Actor, filters: dict[str, Any], *,
                 today: dt.date) -> dict[str, int]:
    """How many checks in each state (the state filter aside), in one query."""
    state = state_of(today).label("state")
    inner = _filtered(actor, filters).with_only_columns(state).subquery()
    counts = {s.value: 0 for s in CheckState}
    for name, count in session.execute(
            sa.select(inner.c.state, sa.func.count()).group_by(inner.c.state)):
        counts[name] = int(count)
    return counts


def check_views(session: Session, checks: Sequence[FollowUpCheck], *,
                today: dt.date) -> list[dict[str, Any]]:
    """Plain dicts with the related public uuids (one query for the page)."""
    if not checks:
        return []
    rows = session.execute(
        sa.select(FollowUpCheck.id, Enrolment.uuid, Enrolment.end_date, Participant.uuid,
                  Participant.ase_past, Action.uuid, Action.code, Structure.name)
        .join(Enrolment, Enrolment.id == FollowUpCheck.enrolment_id)
        .join(Participant, Participant.id == FollowUpCheck.participant_id)
        .join(Action, Action.id == FollowUpCheck.action_id)
        .join(Structure, Structure.id == FollowUpCheck.structure_id)
        .where(FollowUpCheck.id.in_([c.id for c in checks]))
    ).all()
    related = {r[0]: r for r in rows}
    views = []
    for c in checks:
        (_, enrolment_uuid, end_date, participant_uuid, ase_past, action_uuid, code,
         structure_name) = related[c.id]
        views.append({
            "id": c.uuid, "enrolment_id": enrolment_uuid, "participant_id": participant_uuid,
            "ase_past": ase_past, "action_id": action_uuid, "action_code": code,
            "structure_name": structure_name,
            "enrolment_end_date": end_date, "due_date": c.due_date,
            "window_start": c.window_start, "window_end": c.window_end,
            "status": c.status, "state": followup.state_on(c.status, c.window_start,
                                                           c.window_end, today).value,
            "outcome": c.outcome, "attempts": c.attempts, "checked_on": c.checked_on,
            "situation": c.situation,
            "status_at_check": None if c.in_pathway is None else {
                "in_pathway": c.in_pathway, "durable_employment": c.durable_employment,
                "stably_housed": c.stably_housed, "has_resources": c.has_resources},
            "event_ids": c.event_ids or [], "recorded_at": c.recorded_at,
            "version": c.version,
        })
    return views


def readable_check(session: Session, actor: Actor, check_id: uuid.UUID | str) -> FollowUpCheck:
    """One check of the actor's worklist; another structure's answers 404 (no oracle)."""
    check = by_uuid(session, FollowUpCheck, check_id, "check_id")
    if not session.execute(sa.select(FollowUpCheck.id)
                           .where(FollowUpCheck.id == check.id, _scope(actor))).first():
        raise access.OutOfScope("followup_check", check.uuid, "check_id")
    return check


# --- recording a result ----------------------------------------------------------------------

@dataclass(frozen=True)
class Recorded:
    check: FollowUpCheck
    created: bool  # False: the same result was already recorded (a retried request)


def result_digest(data: dict[str, Any]) -> str:
    """SHA-256 of the result as given (without the version it was sent against)."""
    body = {k: v for k, v in data.items() if k != "expected_version"}
    canonical = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _writable_check(session: Session, actor: Actor, check_id: uuid.UUID | str,
                    *, now: dt.datetime) -> FollowUpCheck:
    access.require_person_role(actor)
    check = by_uuid(session, FollowUpCheck, check_id, "check_id")
    # Lock the row (PostgreSQL): a second coordinator waits, then sees the new version.
    session.execute(sa.select(FollowUpCheck).where(FollowUpCheck.id == check.id)
                    .with_for_update().execution_options(populate_existing=True))
    if actor.role is Role.COORDINATOR:
        if check.structure_id != actor.structure_id:
            raise access.OutOfScope("followup_check", check.uuid, "check_id")
    elif actor.role is Role.ADMIN:
        participant = session.get(Participant, check.participant_id)
        assert participant is not None
        access.writable_participant(session, actor, participant, now=now, field="check_id")
    elif actor.role is not Role.SYSTEM:
        raise Forbidden("follow-up checks are recorded by coordinators")
    return check


def resolved_starts(session: Session, participant_id: int
                    ) -> tuple[list[Any], dict[Any, Start], dict[Any, uuid.UUID]]:
    """The participant's resolved intervals, their start events, and those events' uuids:
    what ``pathway_status.status_at`` reads (tests/db/test_status_forms.py reads it too)."""
    resolution = resolve(events.facts_of(session, participant_id))
    ids = [i.start_key for i in resolution.intervals]
    rows = session.execute(
        sa.select(Event.id, Event.uuid, Event.type, Event.date, Event.attributes)
        .outerjoin(EventVoid, EventVoid.event_id == Event.id)
        .where(Event.id.in_(ids), EventVoid.id.is_(None))
    ).all() if ids else []
    starts = {r.id: Start(key=r.id, type=r.type, date=r.date, seq=r.id,
                          attributes=r.attributes or {}) for r in rows}
    return resolution.intervals, starts, {r.id: r.uuid for r in rows}


def _write(session: Session, keyring: Keyring, actor: Actor, check: FollowUpCheck,
           participant: Participant, planned: PlannedEvent, uuids: dict[Any, uuid.UUID], *,
           day: dt.date, today: dt.date, now: dt.datetime) -> events.RecordedEvent:
    data = {
        "id": uuid.uuid5(EVENT_NAMESPACE, f"{check.uuid}/{planned.name}"),
        "participant_id": participant.uuid, "type": planned.type.value,
        "date": day, "enrolment_id": None, "operation_id": None,
        "closes": uuids[planned.closes] if planned.closes is not None else None,
        "attributes": load_attributes(planned.type, planned.attributes),
    }
    return events.record(session, keyring, actor, data, today=today, now=now,
                         observed_at_check=True).event


def record_result(session: Session, keyring: Keyring, actor: Actor, check_id: uuid.UUID | str,
                  data: dict[str, Any], *, today: dt.date, now: dt.datetime) -> Recorded:
    """Record a check once: reached (with the situation), not reached, or refused.

    ``expected_version`` must be the version the client read: two coordinators cannot
    both record the same check (the second gets a Conflict).
    """
    check = _writable_check(session, actor, check_id, now=now)
    digest = result_digest(data)
    if check.status == CheckStatus.DONE:
        if check.result_sha256 == digest and check.recorded_by_user_id == actor.user_id:
            return Recorded(check, created=False)
        raise Conflict("this check was already recorded",
                       errors={"expected_version": ["the check is already done"]})
    if check.status == CheckStatus.CANCELLED:
        raise Conflict("this check was cancelled", errors={"check_id": ["cancelled"]})
    if data["expected_version"] != check.version:
        raise Conflict("the check changed since it was read",
                       errors={"expected_version": ["stale"]})
    checked_on: dt.date = data["date"]
    if checked_on > today:
        raise Rejected("date", "is in the future")
    if checked_on < check.window_start:
        raise Rejected("date", f"is before the check's window opens "
                               f"({check.window_start.isoformat()})")
    participant = session.get(Participant, check.participant_id)
    assert participant is not None

    # The check's own columns change only after the events are written, so that the
    # flushes events.record makes do not bump its version more than once.
    written: list[events.RecordedEvent] = []
    status = None
    if data["outcome"] == Outcome.REACHED:
        intervals, starts, uuids = resolved_starts(session, participant.id)
        for planned in followup.plan_events(data["situation"], intervals, starts, checked_on):
            written.append(_write(session, keyring, actor, check, participant, planned, uuids,
                                  day=checked_on, today=today, now=now))
        intervals, starts, _ = resolved_starts(session, participant.id)
        status = pathway_status.status_at(intervals, starts, checked_on,
                                          _stable_housing(session, check))
    if status is not None:
        check.in_pathway = status.in_pathway
        check.durable_employment = status.durable_employment
        check.stably_housed = status.stably_housed
        check.has_resources = status.has_resources
        check.situation = data["situation"]
    check.checked_on = checked_on
    check.status = CheckStatus.DONE.value
    check.outcome = data["outcome"]
    check.attempts = data.get("attempts")
    check.event_ids = [str(e.uuid) for e in written]
    check.result_sha256 = digest
    check.recorded_at = now
    check.recorded_by_user_id = actor.user_id
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("the check changed since it was read",
                       errors={"expected_version": ["already recorded by someone else"]}
                       ) from None
    return Recorded(check, created=True)


def _stable_housing(session: Session, check: FollowUpCheck) -> Sequence[str]:
    action = session.get(Action, check.action_id)
    assert action is not None
    programme = session.get(Programme, action.programme_id)
    stable = (programme.settings or {}).get("stable_housing") if programme else None
    return stable or pathway_status.DEFAULT_STABLE_HOUSING


# --- the daily sweep -------------------------------------------------------------------------

@dataclass(frozen=True)
class Swept:
    scheduled: int  # ended enrolments that had no check (e.g. ended by a CSV import)
    alerts: int  # new alerts for ASE youths' overdue checks


def sweep(session: Session, *, today: dt.date, now: dt.datetime) -> Swept:
    """Schedule missing checks, then alert on ASE youths' overdue checks (idempotent)."""
    missing = session.execute(
        sa.select(Enrolment)
        .join(Participant, Participant.id == Enrolment.participant_id)
        .where(Enrolment.end_date.is_not(None), Enrolment.cancelled_at.is_(None),
               Participant.erased_at.is_(None),
               ~sa.exists().where(FollowUpCheck.enrolment_id == Enrolment.id,
                                  FollowUpCheck.status != CheckStatus.CANCELLED.value))
        .order_by(Enrolment.id)
    ).scalars().all()
    for enrolment in missing:
        schedule(session, enrolment, now=now)
    overdue = session.execute(
        sa.select(FollowUpCheck)
        .join(Participant, Participant.id == FollowUpCheck.participant_id)
        .where(FollowUpCheck.status == CheckStatus.SCHEDULED.value,
               FollowUpCheck.window_end < today, Participant.ase_past.is_(True),
               ~sa.exists().where(Alert.check_id == FollowUpCheck.id))
        .order_by(FollowUpCheck.id)
    ).scalars().all()
    raised = sum(1 for check in overdue
                 if alerts.raise_for_overdue(session, check, now=now) is not None)
    return Swept(scheduled=len(missing), alerts=raised)
