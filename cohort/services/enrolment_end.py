"""End an enrolment and, in the same unit of work, the participant's periods still open
that the structure recorded (issue 17, item 3).

Need-to-know (domain.md §1): a structure changes only the events it recorded, so the
periods it may close are its own; the others' open periods are listed for information
(type and dates, nothing else). Each closing is an ordinary end event recorded through
``events.record``, so every rule and refusal of §5 applies; one refusal undoes the end
and every closing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import Actor, Role
from cohort.db import core
from cohort.domain.enums import EventType, Family
from cohort.domain.event_types import KINDS, Boundary
from cohort.errors import CohortError, Conflict, Rejected
from cohort.identity.keyring import Keyring
from cohort.models import Enrolment, Event, EventInterval, Participant
from cohort.schemas.event_attributes import load_attributes
from cohort.services import access, enrolments, events
from cohort.services.need_to_know import owned_by

# The end type that closes each family's periods.
CLOSING_TYPE: dict[Family, EventType] = {
    k.family: k.type for k in KINDS.values()
    if k.boundary is Boundary.END and k.family is not None
}


@dataclass(frozen=True)
class OpenPeriod:
    """A period still open. ``own``: recorded by the actor's structure (it may end it);
    otherwise it is shown as a fact only (family, start type and date)."""

    start_event_id: uuid.UUID
    family: Family
    start_type: EventType
    start_date: dt.date
    own: bool
    closing_type: EventType


def _may_end_any(actor: Actor) -> bool:
    return actor.role in (Role.ADMIN, Role.SYSTEM) or actor.structure_id is None


def open_periods(session: Session, actor: Actor, participant: Participant, *,
                 now: dt.datetime) -> list[OpenPeriod]:
    """The participant's periods open now (current resolution), oldest first, each marked
    with whether the actor's structure may end it (an administrator may end any)."""
    access.readable_participant(session, actor, participant, now=now)
    own = sa.true() if _may_end_any(actor) else owned_by(actor.structure_id)
    rows = core(session).execute(
        sa.select(Event.uuid, EventInterval.family, Event.type, EventInterval.start_date,
                  sa.case((own, True), else_=False))
        .join(Event, Event.id == EventInterval.start_event_id)
        .where(EventInterval.participant_id == participant.id,
               EventInterval.valid_to.is_(None), EventInterval.end_date.is_(None))
        .order_by(EventInterval.start_date, EventInterval.start_event_id)
    ).all()
    return [OpenPeriod(start_event_id=r[0], family=Family(r[1]), start_type=EventType(r[2]),
                       start_date=r[3], own=bool(r[4]),
                       closing_type=CLOSING_TYPE[Family(r[1])])
            for r in rows]


def end(session: Session, keyring: Keyring, actor: Actor, enrolment: Enrolment,
        data: dict[str, Any], *, today: dt.date, now: dt.datetime) -> Enrolment:
    """End the enrolment (``enrolments.end``) and close the periods in ``close_periods``.

    Each item names the start event of an open period of the participant that the
    actor's structure recorded, the client's uuid of the closing event (a retry reuses
    it), and optionally its own date (default: the enrolment's last day) and the closing
    type's attributes (e.g. a housing exit's reason). A refused closing raises with its
    fields under ``close_periods.<index>`` and ``details["close_period"]`` naming the
    period; nothing is written. Sent again after it succeeded (same closing ids), it
    answers the ended enrolment and writes nothing.
    """
    closings: list[dict[str, Any]] = list(data.get("close_periods") or [])
    end_data = {k: v for k, v in data.items() if k != "close_periods"}
    if closings and enrolment.end_date is not None and _already_recorded(session, closings):
        return _replay(session, keyring, actor, enrolment, end_data, closings,
                       today=today, now=now)
    _refuse_repeated(closings)
    try:
        with session.begin_nested():
            enrolments.end(session, actor, enrolment, end_data, today=today, now=now)
            if closings:
                periods = {p.start_event_id: p for p in open_periods(
                    session, actor, enrolment.participant, now=now)}
                for index, closing in enumerate(closings):
                    try:
                        _close(session, keyring, actor, enrolment, index, closing, periods,
                               today=today, now=now)
                    except CohortError as error:
                        raise _about_period(error, index, closing) from None
    except CohortError:
        session.expire(enrolment)  # its end was rolled back with the savepoint
        raise
    return enrolment


def _refuse_repeated(closings: list[dict[str, Any]]) -> None:
    seen: set[Any] = set()
    for index, closing in enumerate(closings):
        if closing["start_event_id"] in seen:
            raise Rejected(f"close_periods.{index}.start_event_id", "period listed twice")
        seen.add(closing["start_event_id"])


def _already_recorded(session: Session, closings: list[dict[str, Any]]) -> bool:
    return core(session).execute(
        sa.select(Event.id).where(Event.uuid == closings[0]["id"])).first() is not None


def _replay(session: Session, keyring: Keyring, actor: Actor, enrolment: Enrolment,
            end_data: dict[str, Any], closings: list[dict[str, Any]], *, today: dt.date,
            now: dt.datetime) -> Enrolment:
    """A retry of an end that succeeded: the same end and the same closings, or a 409."""
    if (enrolment.end_date != end_data["end_date"]
            or enrolment.exit_reason != end_data["exit_reason"]):
        raise Conflict("the enrolment is already ended", errors={"end_date": ["already ended"]})
    with session.begin_nested():  # a closing the first request did not have: undone
        for index, closing in enumerate(closings):
            try:
                start = _start_event(session, enrolment, index, closing)
                body = _closing_body(enrolment, index, closing, start.type,
                                     start.enrolment_uuid)
                replayed = events.record(session, keyring, actor, body, today=today, now=now)
            except CohortError as error:
                raise _about_period(error, index, closing) from None
            if replayed.created:
                raise Conflict("the enrolment is already ended",
                               errors={"end_date": ["already ended"]})
    return enrolment


_START = (
    sa.select(Event.id, Event.type, Event.participant_id, Enrolment.uuid.label("enrolment_uuid"))
    .outerjoin(Enrolment, Enrolment.id == Event.enrolment_id)
    .where(Event.uuid == sa.bindparam("start_uuid"))
)


def _start_event(session: Session, enrolment: Enrolment, index: int,
                 closing: dict[str, Any]) -> Any:
    field = f"close_periods.{index}.start_event_id"
    start = core(session).execute(_START, {"start_uuid": closing["start_event_id"]}).first()
    if (start is None or start.participant_id != enrolment.participant_id
            or KINDS[EventType(start.type)].boundary is not Boundary.START):
        raise Rejected(field, "not an open period of the participant")
    return start


def _closing_body(enrolment: Enrolment, index: int, closing: dict[str, Any],
                  start_type: str, start_enrolment: uuid.UUID | None) -> dict[str, Any]:
    """The closing as the event service's input (the API's event body, validated)."""
    family = KINDS[EventType(start_type)].family
    assert family is not None  # a start always has a family
    closing_type = CLOSING_TYPE[family]
    try:
        attributes = load_attributes(closing_type, closing.get("attributes") or {})
    except ma.ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {}
        nested = messages.get("attributes", {})
        name, reasons = next(iter(nested.items())) if isinstance(nested, dict) and nested \
            else ("attributes", ["invalid"])
        raise Rejected(f"close_periods.{index}.{name}",
                       [str(r) for r in reasons] if isinstance(reasons, list)
                       else [str(reasons)]) from None
    return {
        "id": closing["id"], "participant_id": enrolment.participant.uuid,
        "type": closing_type.value, "date": closing.get("date") or enrolment.end_date,
        "enrolment_id": start_enrolment if KINDS[closing_type].needs_enrolment else None,
        "operation_id": None, "closes": closing["start_event_id"], "attributes": attributes,
    }


def _close(session: Session, keyring: Keyring, actor: Actor, enrolment: Enrolment, index: int,
           closing: dict[str, Any], periods: dict[uuid.UUID, OpenPeriod], *, today: dt.date,
           now: dt.datetime) -> None:
    field = f"close_periods.{index}.start_event_id"
    period = periods.get(closing["start_event_id"])
    if period is None:
        raise Rejected(field, "not an open period of the participant")
    if not period.own:
        raise Rejected(field, "recorded by another structure: only it may end this period")
    start = _start_event(session, enrolment, index, closing)
    body = _closing_body(enrolment, index, closing, start.type, start.enrolment_uuid)
    events.record(session, keyring, actor, body, today=today, now=now)


# The event service's fields, as the closing's: what it closes and its type are fixed by
# the period, so a refusal about them is a refusal of the closing's date.
_CLOSING_FIELD = {"closes": "date", "type": "date", "participant_id": "", "enrolment_id": "",
                  "id": "id"}


def _about_period(error: CohortError, index: int, closing: dict[str, Any]) -> CohortError:
    """The closing's refusal, its fields under ``close_periods.<index>`` and the period
    named in ``details`` (the page shows it on that period's line)."""
    prefix = f"close_periods.{index}"
    renamed: dict[str, list[str]] = {}
    for name, reasons in error.errors.items():
        if name.startswith(prefix):
            key = name
        else:
            own = _CLOSING_FIELD.get(name, name)
            key = f"{prefix}.{own}" if own else prefix
        renamed.setdefault(key, []).extend(reasons)
    error.errors = renamed or {prefix: [error.message]}
    error.details = {**error.details, "close_period": str(closing["start_event_id"])}
    return error
