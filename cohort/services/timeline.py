"""A participant's pseudonymous record: enrolments, events in order, derived intervals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cohort import audit
from cohort.actors import Actor, Role
from cohort.domain.event_types import START_TYPES
from cohort.domain.followup import CheckStatus, state_on
from cohort.models import (
    Action,
    Enrolment,
    Event,
    EventInterval,
    FollowUpCheck,
    Participant,
    Structure,
)
from cohort.services import access, need_to_know
from cohort.services.event_views import event_views


def timeline(session: Session, actor: Actor, participant: Participant, *,
             now: dt.datetime, today: dt.date | None = None) -> dict[str, Any]:
    """Events in date order (starts before ends on a date, then recording order), voided
    ones included and marked, with the intervals as currently resolved.

    Each enrolment also carries its action's title, its structure's name and its live
    follow-up check (``followup``: status, window, state on ``today`` when given)."""
    access.readable_participant(session, actor, participant, now=now)
    if actor.role is Role.ADMIN:
        audit.append(session, actor, "participant.read", now=now, target_type="participant",
                     target_id=participant.uuid)
    ordered = session.execute(
        sa.select(Event)
        .where(Event.participant_id == participant.id)
        .order_by(Event.date, sa.case((Event.type.in_(sorted(START_TYPES)), 0), else_=1), Event.id)
    ).scalars().all()
    start_uuid = aliased(Event)
    end_uuid = aliased(Event)
    intervals = session.execute(
        sa.select(EventInterval, start_uuid.uuid, end_uuid.uuid, start_uuid.attributes,
                  start_uuid.type)
        .join(start_uuid, start_uuid.id == EventInterval.start_event_id)
        .outerjoin(end_uuid, end_uuid.id == EventInterval.end_event_id)
        .where(EventInterval.participant_id == participant.id, EventInterval.valid_to.is_(None))
        .order_by(EventInterval.start_date, EventInterval.start_event_id)
    ).all()
    events = event_views(session, ordered, actor)
    own_starts = need_to_know.own_event_ids(
        session, actor, [iv.start_event_id for iv, *_ in intervals])
    enrolments = session.execute(
        sa.select(Enrolment, Action.uuid, Action.code, Structure.uuid, Action.title,
                  Structure.name, FollowUpCheck)
        .join(Action, Action.id == Enrolment.action_id)
        .join(Structure, Structure.id == Enrolment.structure_id)
        .outerjoin(FollowUpCheck, sa.and_(
            FollowUpCheck.enrolment_id == Enrolment.id,
            FollowUpCheck.status != CheckStatus.CANCELLED.value))
        .where(Enrolment.participant_id == participant.id)
        .order_by(Enrolment.start_date, Enrolment.id)
    ).all()
    return {
        "participant": participant,
        "enrolments": [
            as_seen_by(actor, e, enrolment_view(e, action_uuid, code, structure_uuid)
                        | {"action_title": title, "structure_name": name,
                           "followup": _check_view(check, today)})
            for e, action_uuid, code, structure_uuid, title, name, check in enrolments
        ],
        "events": events,
        "intervals": [
            {
                "family": iv.family,
                "start_event_id": s_uuid,
                "end_event_id": e_uuid,
                "start_date": iv.start_date,
                "end_date": iv.end_date,
                "own": iv.start_event_id in own_starts,
                "attributes": (attrs if iv.start_event_id in own_starts else
                               need_to_know.fact_only_attributes(start_type, attrs)),
            }
            for iv, s_uuid, e_uuid, attrs, start_type in intervals
        ],
    }


def as_seen_by(actor: Actor, enrolment: Enrolment, view: dict[str, Any]) -> dict[str, Any]:
    """An enrolment as the actor may see it: another structure's without its free text."""
    if need_to_know.partial(actor) and enrolment.structure_id != actor.structure_id:
        return need_to_know.fact_only_enrolment(view)
    return view | {"own": True}


def _check_view(check: FollowUpCheck | None, today: dt.date | None) -> dict[str, Any] | None:
    if check is None:
        return None
    return {
        "id": check.uuid, "status": check.status, "due_date": check.due_date,
        "window_start": check.window_start, "window_end": check.window_end,
        "state": None if today is None else state_on(check.status, check.window_start,
                                                     check.window_end, today).value,
    }


def enrolment_view(e: Enrolment, action_uuid: Any, action_code: str,
                   structure_uuid: Any) -> dict[str, Any]:
    return {
        "id": e.uuid, "action_id": action_uuid, "action_code": action_code,
        "structure_id": structure_uuid, "start_date": e.start_date, "end_date": e.end_date,
        "exit_reason": e.exit_reason, "rsa_at_entry": e.rsa_at_entry,
        "age_at_entry": e.age_at_entry, "under_26": e.under_26, "ase_past": e.ase_past,
        "parent_child_0_3": e.parent_child_0_3, "intensity": e.intensity, "forced": e.forced,
        "cancelled_at": e.cancelled_at, "cancel_reason": e.cancel_reason,
        "version": e.version,
    }
