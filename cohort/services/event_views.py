"""Plain-dict views of events with their related public uuids (one query per page)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cohort.actors import Actor
from cohort.db import core
from cohort.domain.event_types import Boundary, kind_of
from cohort.models import Enrolment, Event, EventInterval, EventVoid, Operation, Participant
from cohort.services import access, need_to_know
from cohort.services.events import Recorded, RecordedEvent

# Built once, with the event ids as an expanding parameter: this runs for every event
# posted, and constructing the seven-join select cost more than running it (a fresh alias
# per call even defeated the statement cache: ~6 ms per event).
_CLOSES = aliased(Event, name="closes")
_STARTED = aliased(Event, name="started")
_CORRECTS = aliased(Event, name="corrects")
_CORRECTED_BY = aliased(Event, name="corrected_by")
_RELATED = (
    sa.select(Event.id, Participant.uuid, Enrolment.uuid, Operation.uuid, _CLOSES.uuid,
              EventVoid.reason, EventVoid.voided_at, _STARTED.uuid, _CORRECTS.uuid,
              _CORRECTED_BY.uuid)
    .join(Participant, Participant.id == Event.participant_id)
    .outerjoin(Enrolment, Enrolment.id == Event.enrolment_id)
    .outerjoin(Operation, Operation.id == Event.operation_id)
    .outerjoin(_CLOSES, _CLOSES.id == Event.closes_id)
    .outerjoin(EventVoid, EventVoid.event_id == Event.id)
    .outerjoin(EventInterval, sa.and_(EventInterval.end_event_id == Event.id,
                                      EventInterval.valid_to.is_(None)))
    .outerjoin(_STARTED, _STARTED.id == EventInterval.start_event_id)
    .outerjoin(_CORRECTS, _CORRECTS.id == Event.corrects_id)
    .outerjoin(_CORRECTED_BY, _CORRECTED_BY.corrects_id == Event.id)
    .where(Event.id.in_(sa.bindparam("ids", expanding=True)))
)


def event_views(session: Session, items: Sequence[Event | RecordedEvent],
                actor: Actor | None = None) -> list[dict[str, Any]]:
    """The events as the API and the pages show them; with an `actor`, another
    structure's events as facts only (need_to_know), each marked ``own`` or not."""
    if not items:
        return []
    own = (need_to_know.own_event_ids(session, actor, [e.id for e in items])
           if actor is not None else {e.id for e in items})
    rows = core(session).execute(_RELATED, {"ids": [e.id for e in items]}).all()
    related = {r[0]: r for r in rows}
    views = []
    for e in items:
        (_, p_uuid, enr_uuid, op_uuid, closes_uuid, void_reason, voided_at, closed,
         corrects, corrected_by) = related[e.id]
        views.append({
            "id": e.uuid, "participant_id": p_uuid, "type": e.type, "date": e.date,
            "attributes": e.attributes, "enrolment_id": enr_uuid, "operation_id": op_uuid,
            "closes": closes_uuid, "closed": closed, "recorded_at": e.recorded_at,
            "voided": voided_at is not None, "void_reason": void_reason, "voided_at": voided_at,
            "corrects": corrects, "corrected_by": corrected_by, "own": True,
        })
        if e.id not in own:
            views[-1] = need_to_know.fact_only_event(views[-1])
    return views


def event_view(session: Session, event: Event | RecordedEvent,
               actor: Actor | None = None) -> dict[str, Any]:
    return event_views(session, [event], actor)[0]


def recorded_view(session: Session, recorded: Recorded, data: dict[str, Any]) -> dict[str, Any]:
    """The view of what events.record returned, as event_view would read it.

    A new event that ends nothing is described by the request that was just checked and
    stored (its links by the uuids the client sent; nothing closes it or voids it yet),
    so it needs no query; a replay or an end (whose ``closed`` comes from the intervals
    just resolved) is read back.
    """
    event = recorded.event
    if not recorded.created or kind_of(event.type).boundary is Boundary.END:
        return event_view(session, event)
    return {
        "id": event.uuid, "participant_id": data["participant_id"], "type": event.type,
        "date": event.date, "attributes": event.attributes,
        "enrolment_id": data.get("enrolment_id"), "operation_id": data.get("operation_id"),
        "closes": None, "closed": None, "recorded_at": event.recorded_at,
        "voided": False, "void_reason": None, "voided_at": None,
        "corrects": None, "corrected_by": None, "own": True,
    }


def event_list_query(actor: Actor, filters: dict[str, Any], *,
                     now: dt.datetime) -> sa.Select[tuple[Event]]:
    """The events of the participants the actor may see, in date then recording order."""
    access.require_person_role(actor)
    query = (sa.select(Event).join(Participant, Participant.id == Event.participant_id)
             .where(access.visible(actor, now=now)).order_by(Event.date, Event.id))
    if filters.get("participant_id"):
        query = query.where(Participant.uuid == filters["participant_id"])
    if filters.get("type"):
        query = query.where(Event.type == filters["type"])
    if filters.get("date_from"):
        query = query.where(Event.date >= filters["date_from"])
    if filters.get("date_to"):
        query = query.where(Event.date <= filters["date_to"])
    return query
