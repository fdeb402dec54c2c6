"""``demo load``'s work: the plan written through the services, then the checks swept.

Everything goes through the real services, so demo data obeys every rule the API
enforces (eligibility, event dates, intervals, voids, follow-up results). The plan is
replayed in recording-time order: ids grow with ``recorded_at`` as in production.
Two synthetic identities are kept by uuid (never in clear) so that ``demo load`` can
print them again, through the normal identity service, on a database already loaded.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort import clock
from cohort.actors import SYSTEM, Actor, Role
from cohort.clock import PARIS
from cohort.demo import followups
from cohort.demo.items import (
    CheckResult,
    CreateOperation,
    DatabaseNotEmpty,
    DemoError,
    DemoSummary,
    EndEnrolment,
    Enrol,
    Item,
    Record,
    Register,
    Step,
    summarise,
)
from cohort.demo.planner import plan, programme_rules
from cohort.demo.territory import (
    ACTIONS,
    PROGRAMME_CODE,
    STRUCTURES,
    STRUCTURES_CREATED_AT,
)
from cohort.domain.enums import EventType
from cohort.errors import NotFound, Rejected
from cohort.identity.keyring import Keyring
from cohort.models import (
    Action,
    Enrolment,
    Event,
    InstanceMeta,
    Operation,
    Participant,
    Programme,
    Structure,
)
from cohort.schemas.event_attributes import load_attributes
from cohort.services import enrolments, events, participants, structures

SHOWCASE_KEY = "demo_showcase"  # instance_meta: "<structure key> <uuid> <uuid>"


@dataclass
class _Writer:
    session: Session
    keyring: Keyring
    actions: dict[str, Action]
    structures: dict[str, Structure] = field(default_factory=dict)
    operations: dict[str, Operation] = field(default_factory=dict)
    participants: dict[int, Participant] = field(default_factory=dict)
    enrolments: dict[int, Enrolment] = field(default_factory=dict)
    events: dict[uuid.UUID, Event] = field(default_factory=dict)
    done: list[Item] = field(default_factory=list)

    def actor(self, structure: str) -> Actor:
        return Actor(role=Role.COORDINATOR, structure_id=self.structures[structure].id,
                     departement="62")

    def create_structures(self) -> None:
        for spec in STRUCTURES:
            existing = self.session.execute(
                sa.select(Structure).where(Structure.name == spec.name,
                                           Structure.departement == "62")
            ).scalar_one_or_none()
            if existing is None:
                existing = structures.create_structure(
                    self.session, SYSTEM,
                    {"name": spec.name, "kind": spec.kind, "departement": "62"})
                existing.created_at = STRUCTURES_CREATED_AT
            self.structures[spec.key] = existing

    def write(self, step: Step) -> None:
        item, now = step.item, step.at
        today = now.astimezone(PARIS).date()
        if isinstance(item, CreateOperation):
            self.create_operation(item, now)
        elif isinstance(item, Register):
            self.register(item, today, now)
        elif isinstance(item, Enrol):
            self.enrolments[item.key] = enrolments.enrol(
                self.session, self.keyring, self.actor(item.structure),
                {"participant_id": self.participants[item.person].uuid,
                 "action_id": self.actions[item.action].uuid,
                 "structure_id": self.structures[item.structure].uuid,
                 "start_date": item.start, "rsa_at_entry": item.rsa_at_entry,
                 "parent_child_0_3": item.parent_child_0_3, "intensity": item.intensity},
                today=today, now=now)
        elif isinstance(item, EndEnrolment):
            enrolments.end(self.session, self.actor(item.structure),
                           self.enrolments[item.enrolment],
                           {"end_date": item.end, "exit_reason": item.reason},
                           today=today, now=now)
        elif isinstance(item, Record):
            self.record(item, today, now)
        elif isinstance(item, CheckResult):
            followups.record(self.session, self.keyring, self.actor(item.structure),
                             self.enrolments[item.enrolment], item, today=today, now=now)
        else:
            events.void(self.session, self.actor(item.structure), self.events[item.event],
                        item.reason, now=now)
        self.done.append(item)

    def create_operation(self, item: CreateOperation, now: dt.datetime) -> None:
        operation = structures.create_operation(self.session, SYSTEM, {
            "action_id": self.actions[item.action].uuid,
            "structure_id": self.structures[item.structure].uuid if item.structure else None,
            "kind": item.kind, "label": item.label, "start_date": item.start,
            "end_date": item.end, "planned_hours": item.planned_hours,
        }, now=now)
        operation.created_at = now
        self.operations[item.key] = operation

    def register(self, item: Register, today: dt.date, now: dt.datetime) -> None:
        result = participants.register(self.session, self.keyring, self.actor(item.structure),
                                       item.identity, today=today)
        if item.creates:
            if not result.created:
                raise DemoError("a new demo person matched an existing participant")
            result.participant.created_at = now
            self.participants[item.person] = result.participant
        elif result.created or result.participant.id != self.participants[item.person].id:
            raise DemoError("a repeat registration did not find the same participant")

    def record(self, item: Record, today: dt.date, now: dt.datetime) -> None:
        event_type = EventType(item.type)
        data = {
            "id": item.id, "participant_id": self.participants[item.person].uuid,
            "type": item.type, "date": item.date,
            "enrolment_id": self.enrolments[item.enrolment].uuid if item.enrolment else None,
            "operation_id": self.operations[item.operation].uuid if item.operation else None,
            "closes": item.closes,
            # The API's own attribute schema: demo attributes are what a client could send.
            "attributes": load_attributes(event_type, item.attributes),
        }
        result = events.record(self.session, self.keyring, self.actor(item.structure), data,
                               today=today, now=now)
        if not result.created:
            raise DemoError("a demo event id was reused")
        self.events[item.id] = result.event


def _six_actions(session: Session) -> dict[str, Action]:
    rows = session.execute(
        sa.select(Action).join(Programme).where(Programme.code == PROGRAMME_CODE,
                                                Action.code.in_(ACTIONS))
    ).scalars().all()
    found = {a.code: a for a in rows}
    if set(found) != set(ACTIONS):
        raise NotFound(f"programme {PROGRAMME_CODE} is not loaded: load its file first",
                       errors={"programme": [f"{PROGRAMME_CODE} not loaded"]})
    return found


def ensure_empty(session: Session) -> None:
    """Refuse a database that already holds participants (real or demo)."""
    if session.execute(sa.select(sa.func.count()).select_from(Participant)).scalar_one():
        raise DatabaseNotEmpty(
            "the database already has participants: demo data goes into an empty database",
            errors={"database": ["already has participants"]},
        )


def generate(session: Session, keyring: Keyring, *, seed: int = 2023, participants: int = 300,
             today: dt.date | None = None) -> DemoSummary:
    """Write the demo through the services in the caller's transaction (never commits).

    ``today`` (default: today in France) is the demo's load date: pathways run up to it,
    and the sweep runs on it.
    """
    today = today or clock.today()
    ensure_empty(session)
    actions = _six_actions(session)
    programme = session.get(Programme, next(iter(actions.values())).programme_id)
    assert programme is not None  # the foreign key guarantees it
    demo = plan(seed=seed, participants=participants, today=today,
                rules=programme_rules({"settings": programme.settings or {}}, {
                    code: {"eligibility": a.eligibility, "settings": a.settings or {}}
                    for code, a in actions.items()}))
    session.merge(InstanceMeta(key="demo", value="true"))
    session.flush()
    writer = _Writer(session, keyring, actions)
    writer.create_structures()
    for step in demo.steps:
        writer.write(step)
    if demo.showcase:
        session.merge(InstanceMeta(key=SHOWCASE_KEY, value=" ".join(
            [demo.showcase_structure, *(str(writer.participants[p].uuid)
                                        for p in demo.showcase)])))
    session.flush()
    last = demo.steps[-1].at if demo.steps else dt.datetime.combine(today, dt.time(12),
                                                                   tzinfo=PARIS)
    state = followups.sweep_and_remind(session, today=today,
                                       now=last + dt.timedelta(minutes=1))
    return replace(summarise(writer.done), after_load=(state.line(),))


@dataclass(frozen=True)
class Showcase:
    """Two demo identities to search for, and the structure whose coordinator follows them."""

    structure: str
    identities: tuple[dict[str, Any], ...]


def showcase(session: Session, keyring: Keyring, *, now: dt.datetime) -> Showcase | None:
    """The identities kept by ``generate``, read as that structure's coordinator would.

    None on a database the demo did not load (its identities are never printed).
    """
    meta = session.get(InstanceMeta, SHOWCASE_KEY)
    if meta is None:
        return None
    key, *uuids = meta.value.split()
    name = next(s.name for s in STRUCTURES if s.key == key)
    structure = session.execute(sa.select(Structure).where(
        Structure.name == name, Structure.departement == "62")).scalar_one()
    actor = Actor(role=Role.COORDINATOR, structure_id=structure.id, departement="62")
    found = []
    for value in uuids:
        participant = session.execute(sa.select(Participant).where(
            Participant.uuid == uuid.UUID(value))).scalar_one_or_none()
        if participant is None or participant.erased_at is not None:
            continue
        try:
            found.append(participants.reveal_identity(
                session, keyring, actor, participant, now=now,
                purpose="demo: identities printed by cohort demo load"))
        except Rejected:
            continue
    return Showcase(name, tuple(found))
