"""Record pathway events (idempotent on the client uuid), void them, resolve intervals."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cohort.actors import Actor
from cohort.db import core, padded
from cohort.domain import rules
from cohort.domain.enums import EventType
from cohort.domain.event_types import Boundary, kind_of
from cohort.domain.intervals import EventFact, Resolution, resolve
from cohort.errors import CohortError, Conflict, NotFound, Rejected
from cohort.identity.keyring import Keyring
from cohort.models import Enrolment, Event, EventInterval, EventVoid, Operation, Participant
from cohort.services import access, alerts, need_to_know
from cohort.services.lookup import by_uuid, not_found, public_uuid
from cohort.services.participants import birth_date_of

# Which attribute is promoted to Event.category, per type.
_CATEGORY = {
    EventType.HOUSING_ENTRY: "housing_type",
    EventType.HOUSING_EXIT: "reason",
    EventType.EMPLOYMENT_START: "contract",
    EventType.SCHEME_ENTRY: "scheme",
    EventType.RESOURCE_START: "resource",
    EventType.CONTACT: "mode",
}


@dataclass(frozen=True)
class RecordedEvent:
    """The columns callers read of a recorded event (no ORM object: the hot path is Core)."""

    id: int
    uuid: uuid.UUID
    participant_id: int
    enrolment_id: int | None
    operation_id: int | None
    type: str
    date: dt.date
    closes_id: int | None
    attributes: dict[str, Any]
    recorded_at: dt.datetime


@dataclass(frozen=True)
class Recorded:
    event: RecordedEvent
    created: bool  # False: the same event was already recorded (idempotent replay)


def promoted_columns(event_type: EventType, attributes: dict[str, Any]) -> dict[str, Any]:
    """The attributes copied into their own columns, so indicator SQL needs no JSON."""
    category_key = _CATEGORY.get(event_type)
    return {
        "category": attributes.get(category_key) if category_key else None,
        "qualifying": attributes.get("qualifying"),
        "via_programme": attributes.get("via_programme")
        if event_type is EventType.HOUSING_ENTRY else None,
        "planned_months": attributes.get("planned_months"),
        "hours": Decimal(attributes["hours"]) if "hours" in attributes else None,
    }


def canonical_body(data: dict[str, Any]) -> str:
    """The validated body as canonical JSON (sorted keys, no spaces): what the digest hashes."""
    return json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))


def body_digest(data: dict[str, Any]) -> str:
    """SHA-256 of the validated body: the same uuid must come back with the same facts."""
    return hashlib.sha256(canonical_body(data).encode()).hexdigest()


# Everything record() needs to know before its checks, in one statement: the participant
# (and whether the actor's structure follows them, the coordinator's scope), the sealed
# birth date, the first enrolment start, and whether the client's uuid was already used.
# Built once: it runs for every event posted.
_SUBJECT = sa.select(
    Participant.id, Participant.uuid, Participant.identity_sealed, Participant.identity_version,
    access.FOLLOWED_BY_ACTOR.label("followed"),
    sa.select(sa.func.min(Enrolment.start_date)).where(
        Enrolment.participant_id == Participant.id).scalar_subquery().label("first_start"),
    sa.exists().where(Event.uuid == sa.bindparam("event_uuid")).label("uuid_used"),
    # A non-voided event of the same type on the same date (identical starts, read below
    # only when there is one).
    sa.exists().where(
        Event.participant_id == Participant.id, Event.type == sa.bindparam("event_type"),
        Event.date == sa.bindparam("event_date"),
        ~sa.exists().where(EventVoid.event_id == Event.id),
    ).label("same_day"),
).where(Participant.uuid == sa.bindparam("participant_uuid"))

_COLUMNS = (Event.id, Event.uuid, Event.participant_id, Event.enrolment_id, Event.operation_id,
            Event.type, Event.date, Event.closes_id, Event.attributes, Event.recorded_at)
_BY_EVENT_UUID = sa.select(*_COLUMNS, Event.body_sha256).where(
    Event.uuid == sa.bindparam("event_uuid"))
# A concurrent request with the same uuid may commit first: the insert then does nothing
# (PostgreSQL waits for that transaction), and record() answers as for a replay. On
# PostgreSQL the uuid is unique per (uuid, date) (a partitioned table's unique keys hold
# its partition key, migration 0023), so record() first takes a transaction lock on the
# uuid: a concurrent claim with another date waits, then finds the first and replays.
_INSERT = {
    "sqlite": sqlite.insert(Event).on_conflict_do_nothing(index_elements=[Event.uuid])
    .returning(*_COLUMNS),
    "postgresql": postgresql.insert(Event).on_conflict_do_nothing(
        index_elements=[Event.uuid, Event.date]).returning(*_COLUMNS),
}
_CLAIM_UUID = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:event_uuid, 0))")


def named_by_key(session: Session, keyring: Keyring, data: dict[str, Any]) -> None:
    """A body naming its participant by identity or NIR (``participant``) gets their uuid
    as ``participant_id`` instead, in place, before anything is fingerprinted: the event's
    digest is the same whichever way it was named (issue 22)."""
    key = data.pop("participant", None)
    if key is not None:
        from cohort.services.natural_keys import participant_by_key

        data["participant_id"] = participant_by_key(session, keyring, key).uuid


def record(session: Session, keyring: Keyring, actor: Actor, data: dict[str, Any],
           *, today: dt.date, now: dt.datetime, corrects_id: int | None = None,
           observed_at_check: bool = False) -> Recorded:
    """Record one event, or return the one already recorded under the same client uuid.

    The rules are checked in this order: the participant exists and the actor may write
    for them; a replay (same uuid) is answered before any other check, since the state the
    original was checked against has changed since (its own interval, for one); then the
    date, the links and, for an end, that it closes something.

    ``corrects_id``: the event this one replaces (``correct`` records it so).
    ``observed_at_check``: written by a six-month follow-up result, which states the
    person's situation on the check's day and so may end a period another structure
    recorded (domain.md §6); any other end closes only the structure's own periods.
    """
    named_by_key(session, keyring, data)
    digest = body_digest(data)
    event_uuid: uuid.UUID = data["id"]
    db = core(session)
    if db.dialect.name == "postgresql":
        db.execute(_CLAIM_UUID, {"event_uuid": str(event_uuid)})
    participant = db.execute(_SUBJECT, {
        "participant_uuid": public_uuid(data["participant_id"], "participant_id"),
        "event_uuid": event_uuid, "actor_structure_id": actor.structure_id,
        "event_type": data["type"], "event_date": data["date"],
    }).one_or_none()
    if participant is None:
        raise not_found("participant_id")
    access.writable_participant(session, actor, participant, now=now,
                                followed=participant.followed)
    if participant.uuid_used:
        return _replay(db, event_uuid, digest)

    event_type = EventType(data["type"])
    kind = kind_of(event_type)
    date: dt.date = data["date"]
    rules.check_event_date(date, today=today, birth=birth_date_of(keyring, participant),
                           first_start=participant.first_start)

    enrolment_id = None
    if data.get("enrolment_id"):
        enrolment = by_uuid(session, Enrolment, data["enrolment_id"], "enrolment_id")
        rules.check_enrolment_link(event_type, participant.id, enrolment.participant_id)
        rules.check_enrolment_not_cancelled(enrolment.cancelled_at is not None)
        rules.check_within_enrolment(event_type, date,
                                     (enrolment.start_date, enrolment.end_date))
        need_to_know.require_own_enrolment(actor, enrolment)
        enrolment_id = enrolment.id
    else:
        rules.check_enrolment_link(event_type, participant.id, None)
    operation_id = None
    if data.get("operation_id"):
        operation_id = by_uuid(session, Operation, data["operation_id"], "operation_id").id
    rules.check_operation_link(event_type, named=operation_id is not None)

    closes_id = None
    if data.get("closes"):
        start = db.execute(
            sa.select(Event.id, Event.participant_id, Event.type).where(
                Event.uuid == data["closes"])
        ).one_or_none()
        rules.check_closes(event_type, participant.id,
                           (start.participant_id, start.type) if start is not None else None)
        closes_id = None if start is None else start.id
        if closes_id is not None and not observed_at_check:
            need_to_know.require_own_event(session, actor, closes_id, field="closes")

    if kind.boundary is Boundary.END:
        closed = _check_something_to_close(session, participant.id, event_type, date,
                                           closes_id)
        if closes_id is None and isinstance(closed, int) and not observed_at_check:
            need_to_know.require_own_event(session, actor, closed, field="closes")

    attributes = data.get("attributes") or {}
    if kind.boundary is Boundary.START and participant.same_day:
        rules.check_not_identical_start(_identical(
            db, participant.id, event_type, date, attributes))
    inserted = db.execute(_INSERT[db.dialect.name], {
        "uuid": event_uuid, "participant_id": participant.id, "enrolment_id": enrolment_id,
        "operation_id": operation_id, "type": event_type.value, "date": date,
        "closes_id": closes_id, "corrects_id": corrects_id, "attributes": attributes,
        **promoted_columns(event_type, attributes),
        "body_sha256": digest, "recorded_at": now,
        "recorded_by_structure_id": actor.structure_id,
    }).one_or_none()
    if inserted is None:
        return _replay(db, event_uuid, digest)
    event = RecordedEvent(**inserted._mapping)

    if kind.boundary is not Boundary.POINT:
        refresh_intervals(session, participant.id, now=now)
    alerts.on_event_recorded(session, event, now=now)  # an ASE youth's support break
    return Recorded(event, created=True)


_NEW = object()

_SAME_DAY = sa.select(Event.uuid, Event.attributes).where(
    Event.participant_id == sa.bindparam("participant_id"),
    Event.type == sa.bindparam("event_type"), Event.date == sa.bindparam("event_date"),
    ~sa.exists().where(EventVoid.event_id == Event.id),
).order_by(Event.id)


def attributes_key(attributes: dict[str, Any] | None) -> str:
    """Attributes as canonical JSON: two events with the same key have the same facts."""
    return json.dumps(attributes or {}, sort_keys=True, default=str, separators=(",", ":"))


def _identical(db: Connection, participant_id: int, event_type: EventType, date: dt.date,
               attributes: dict[str, Any]) -> uuid.UUID | None:
    """The first non-voided event of the participant identical to this one, if any."""
    key = attributes_key(attributes)
    for row in db.execute(_SAME_DAY, {"participant_id": participant_id,
                                      "event_type": event_type.value, "event_date": date}):
        if attributes_key(row.attributes) == key:
            return row.uuid
    return None


def _check_something_to_close(session: Session, participant_id: int, event_type: EventType,
                              date: dt.date, closes_id: int | None) -> Any:
    """Refuse an end that would close nothing, resolving as if it were already recorded;
    return the start event it closes."""
    facts = facts_of(session, participant_id)
    seq = max((f.seq for f in facts), default=0) + 1
    facts.append(EventFact(key=_NEW, type=event_type, date=date, seq=seq, closes=closes_id))
    closed = resolve(facts).closed_by.get(_NEW)
    rules.check_end_closes(closed, named=closes_id is not None)
    return closed


def _replay(db: Connection, event_uuid: uuid.UUID, digest: str) -> Recorded:
    existing = db.execute(_BY_EVENT_UUID, {"event_uuid": event_uuid}).one()
    if existing.body_sha256 != digest:
        raise Conflict(
            "an event with this id was already recorded with a different body",
            errors={"id": ["already used for a different event"]},
        )
    return Recorded(RecordedEvent(**{c.key: existing._mapping[c.key] for c in _COLUMNS}),
                    created=False)


def void(session: Session, actor: Actor, recorded: Event | RecordedEvent, reason: str,
         *, now: dt.datetime) -> EventVoid:
    """Void an event with a reason; intervals re-resolve as if it had never been recorded."""
    event = session.get(Event, recorded.id)  # the same object when `recorded` is one
    assert event is not None  # callers pass an event they have just read or recorded
    participant = session.get(Participant, event.participant_id)
    assert participant is not None  # the foreign key guarantees it
    access.writable_participant(session, actor, participant, now=now, field="event_id")
    need_to_know.require_own_event(session, actor, event.id)
    if not reason.strip():
        raise Rejected("reason", "a reason is required to void an event")
    if event.void is not None:
        raise Conflict("the event is already voided", errors={"id": ["already voided"]})
    voided = EventVoid(event_id=event.id, reason=reason.strip(), voided_at=now)
    try:
        with session.begin_nested():
            session.add(voided)
    except IntegrityError:
        raise Conflict("the event is already voided", errors={"id": ["already voided"]}) from None
    session.refresh(event)
    refresh_intervals(session, event.participant_id, now=now)
    return voided


_CORRECTION_OF = sa.select(Event.corrects_id).where(Event.uuid == sa.bindparam("event_uuid"))


def correct(session: Session, keyring: Keyring, actor: Actor, event_id: uuid.UUID | str,
            data: dict[str, Any], reason: str, *, today: dt.date,
            now: dt.datetime) -> Recorded:
    """Void an event and record its replacement in one step (domain.md §5).

    The replacement names the event it corrects and passes every check of a normal
    recording, made as if the old event were already voided (an end moved to another
    date, a start recorded again with other details); if it is refused, nothing is
    voided. Idempotent on the replacement's client uuid: a retry answers the replacement
    already recorded.
    """
    named_by_key(session, keyring, data)
    old = get_event(session, event_id)
    replayed = core(session).execute(_CORRECTION_OF, {"event_uuid": data["id"]}).one_or_none()
    if replayed is not None:
        if replayed.corrects_id != old.id:
            raise Conflict("an event with this id was already recorded with a different body",
                           errors={"id": ["already used for a different event"]})
        return record(session, keyring, actor, data, today=today, now=now)
    participant = session.get(Participant, old.participant_id)
    assert participant is not None  # the foreign key guarantees it
    access.writable_participant(session, actor, participant, now=now, field="event_id")
    need_to_know.require_own_event(session, actor, old.id)
    if public_uuid(data["participant_id"], "participant_id") != participant.uuid:
        raise Rejected("participant_id", "a correction is for the corrected event's participant")
    try:
        with session.begin_nested():
            void(session, actor, old, reason, now=now)
            recorded = record(session, keyring, actor, data, today=today, now=now,
                              corrects_id=old.id)
    except CohortError:
        session.expire(old)  # its void was rolled back with the savepoint
        raise
    return recorded


def facts_of(session: Session, participant_id: int) -> list[EventFact]:
    """The participant's non-voided interval events, as resolution input."""
    return facts_by_participant(session, [participant_id]).get(participant_id, [])


_TYPES = {t.value: t for t in EventType}
START_TYPES = frozenset(t.value for t in EventType if kind_of(t).boundary is Boundary.START)
INTERVAL_TYPES = sorted(t.value for t in EventType if kind_of(t).boundary is not Boundary.POINT)


def facts_by_participant(db: Session | Connection, participant_ids: Sequence[int]
                         ) -> dict[int, list[EventFact]]:
    """Several participants' non-voided interval events in one query (bulk import)."""
    rows = db.execute(
        sa.select(Event.participant_id, Event.id, Event.type, Event.date, Event.closes_id)
        .outerjoin(EventVoid, EventVoid.event_id == Event.id)
        .where(Event.participant_id.in_(padded(participant_ids)), EventVoid.id.is_(None),
               Event.type.in_(INTERVAL_TYPES))
    ).all()
    facts: dict[int, list[EventFact]] = {}
    for r in rows:
        facts.setdefault(r.participant_id, []).append(
            EventFact(key=r.id, type=_TYPES[r.type], date=r.date, seq=r.id, closes=r.closes_id))
    return facts


@dataclass(frozen=True)
class IntervalChanges:
    """How to bring a participant's current interval rows to a new resolution."""

    superseded: list[int]  # ids of current rows that no longer hold: valid_to = now
    new: list[dict[str, Any]]  # rows to insert, valid from now


def interval_changes(participant_id: int, current: Iterable[Any], resolution: Resolution,
                     *, now: dt.datetime) -> IntervalChanges:
    """Diff the current rows (``valid_to`` null) against the resolution; keep what holds."""
    wanted = {
        (i.start_key, i.end_key, i.start_date, i.end_date): i for i in resolution.intervals
    }
    superseded = []
    for row in current:
        key = (row.start_event_id, row.end_event_id, row.start_date, row.end_date)
        if key in wanted:
            del wanted[key]
        else:
            superseded.append(row.id)
    new = [
        {
            "participant_id": participant_id,
            "family": interval.family.value,
            "start_event_id": interval.start_key,
            "end_event_id": interval.end_key,
            "start_date": interval.start_date,
            "end_date": interval.end_date,
            "valid_from": now,
            "valid_to": None,
        }
        for interval in wanted.values()
    ]
    return IntervalChanges(superseded, new)


def refresh_intervals(session: Session, participant_id: int, *, now: dt.datetime) -> Resolution:
    """Re-resolve a participant's intervals; supersede changed rows, keep the history.

    Rows carry ``valid_from``/``valid_to`` (recording time), so a query "as recorded
    before T" reads the intervals exactly as they were resolved at T.
    """
    session.flush()
    resolution = resolve(facts_of(session, participant_id))
    current = session.execute(
        sa.select(EventInterval).where(
            EventInterval.participant_id == participant_id, EventInterval.valid_to.is_(None)
        )
    ).scalars().all()
    changes = interval_changes(participant_id, current, resolution, now=now)
    for row in current:
        if row.id in changes.superseded:
            row.valid_to = now
    session.add_all(EventInterval(**values) for values in changes.new)
    session.flush()
    return resolution


def get_event(session: Session, event_id: uuid.UUID | str) -> Event:
    try:
        return by_uuid(session, Event, event_id, "event_id")
    except NotFound:
        raise NotFound("event not found", errors={"event_id": ["not found"]}) from None
