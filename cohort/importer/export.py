"""``cohort export participants|enrolments|events --structure …``: a structure's own data
in the import formats (issue 22, part 5), so that a file exported, edited and imported
again changes only what was edited.

What is a structure's own: the enrolments it recorded (cancelled ones left out: an import
cannot write them), the participants it follows (an enrolment of it, or registered by it),
and the non-voided events of those participants. People are named by ``participant_id``;
``--with-identity`` names them by the identity triple instead, decrypting each identity
once, and writes one audit entry for the export (how many identities, for which
structure). Rows come in a stable order (by participant, then date), so two exports can be
compared line by line.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cohort import audit
from cohort.actors import Actor
from cohort.identity.keyring import Keyring
from cohort.importer import events as event_import
from cohort.importer import references
from cohort.models import Action, Enrolment, Event, EventVoid, Operation, Participant, Structure
from cohort.services.participants import read_identity

KINDS = ("participants", "enrolments", "events")
PARTICIPANT_COLUMNS = ("sex", "home_departement", "home_epci", "ase_past")
ENROLMENT_COLUMNS = ("action_code", "structure_id", "start_date", "rsa_at_entry",
                     "parent_child_0_3", "intensity", "end_date", "exit_reason")
EVENT_COLUMNS = ("type", "date", "enrolment_id", "operation_id", "closes",
                 *event_import.ATTRIBUTES)
IDENTITY = references.TRIPLE


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _followed(structure_id: int) -> sa.ColumnElement[bool]:
    enrolled = sa.exists().where(Enrolment.participant_id == Participant.id,
                                 Enrolment.structure_id == structure_id)
    return sa.and_(Participant.erased_at.is_(None),
                   sa.or_(enrolled, Participant.registered_by_structure_id == structure_id))


class _People:
    """How the export names each participant: uuid, or the decrypted triple."""

    def __init__(self, keyring: Keyring, with_identity: bool):
        self.keyring = keyring
        self.with_identity = with_identity
        self.opened = 0

    @property
    def columns(self) -> tuple[str, ...]:
        return IDENTITY if self.with_identity else (references.BY_ID,)

    def cells(self, participant: Participant) -> list[str]:
        if not self.with_identity:
            return [str(participant.uuid)]
        record = read_identity(self.keyring, participant)
        self.opened += 1
        return [_cell(record.get(name)) for name in IDENTITY]


def _participants(s: Session, structure: Structure, people: _People
                  ) -> Iterator[list[str]]:
    yield [*people.columns, *PARTICIPANT_COLUMNS]
    for p in s.execute(sa.select(Participant).where(_followed(structure.id))
                       .order_by(Participant.id)).scalars():
        yield [*people.cells(p), *(_cell(getattr(p, c)) for c in PARTICIPANT_COLUMNS)]


def _enrolments(s: Session, structure: Structure, people: _People) -> Iterator[list[str]]:
    yield [*people.columns, *ENROLMENT_COLUMNS]
    rows = s.execute(
        sa.select(Enrolment, Participant, Action.code)
        .join(Participant, Participant.id == Enrolment.participant_id)
        .join(Action, Action.id == Enrolment.action_id)
        .where(Enrolment.structure_id == structure.id, Enrolment.cancelled_at.is_(None),
               Participant.erased_at.is_(None))
        .order_by(Enrolment.participant_id, Enrolment.start_date, Enrolment.id))
    for e, p, code in rows:
        values = {"action_code": code, "structure_id": structure.uuid}
        yield [*people.cells(p), *(_cell(values[c] if c in values else getattr(e, c))
                                   for c in ENROLMENT_COLUMNS)]


def _events(s: Session, structure: Structure, people: _People) -> Iterator[list[str]]:
    yield ["id", *people.columns, *EVENT_COLUMNS]
    closes = aliased(Event)
    linked = aliased(Enrolment)  # not the one _followed's EXISTS reads
    rows = s.execute(
        sa.select(Event, Participant, linked.uuid, Operation.uuid, closes.uuid)
        .join(Participant, Participant.id == Event.participant_id)
        .outerjoin(linked, linked.id == Event.enrolment_id)
        .outerjoin(Operation, Operation.id == Event.operation_id)
        .outerjoin(closes, closes.id == Event.closes_id)
        .where(_followed(structure.id), ~sa.exists().where(EventVoid.event_id == Event.id))
        .order_by(Event.participant_id, Event.date, Event.id))
    for e, p, enrolment, operation, closed in rows:
        attributes = e.attributes or {}
        links = {"type": e.type, "date": e.date, "enrolment_id": enrolment,
                 "operation_id": operation, "closes": closed}
        yield [str(e.uuid), *people.cells(p),
               *(_cell(links[c] if c in links else _attribute(attributes.get(c)))
                 for c in EVENT_COLUMNS)]


def _attribute(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


def export(s: Session, keyring: Keyring, actor: Actor, kind: str, structure_ref: str,
           out: IO[str], *, with_identity: bool, now: dt.datetime) -> int:
    """Write the structure's rows of this kind to ``out``; the number of data rows."""
    structure = s.execute(sa.select(Structure).where(
        Structure.uuid == references.structure_uuid(s, structure_ref))).scalar_one()
    people = _People(keyring, with_identity)
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    count = -1
    for row in {"participants": _participants, "enrolments": _enrolments,
                "events": _events}[kind](s, structure, people):
        writer.writerow(row)
        count += 1
    if with_identity:
        audit.append(s, actor, "export.identities", now=now, target_type="structure",
                     target_id=structure.uuid, fields=list(IDENTITY),
                     details={"kind": kind, "identities": people.opened})
    return count
