"""What a coordinator is told before registering a person (issue 17, part 2).

Candidates from `possible_duplicates` split by need-to-know (domain.md §1): those the
coordinator's structure follows are shown (name, birth date, the structure's enrolments;
each opening audited), those followed elsewhere only make one flag, "a close record
exists elsewhere", with nothing about them. A NIR held by another record is said the same
way. An identity registered exactly already gets no suggestion: registration answers
"already known" for it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import Actor
from cohort.identity.keyring import Keyring, Purpose
from cohort.models import Action, Enrolment, Participant
from cohort.services import access, participants
from cohort.services.duplicates import possible_duplicates
from cohort.services.link_requests import nir_holder

PURPOSE = "possible duplicate shown at registration"


@dataclass(frozen=True)
class Known:
    """A candidate the coordinator's structure follows: shown in full."""

    participant_uuid: uuid.UUID
    last_name: str
    first_names: str
    birth_date: dt.date
    enrolments: list[dict[str, Any]]
    holds_nir: bool = False


@dataclass
class Suggestions:
    known: list[Known] = field(default_factory=list)
    elsewhere: bool = False  # a close record followed only by another structure
    nir_elsewhere: bool = False  # the NIR typed is held by a record followed elsewhere
    detection: bool = True  # False: no similarity key configured (docs/operations.md)

    @property
    def any(self) -> bool:
        return bool(self.known) or self.elsewhere or self.nir_elsewhere


def suggestions(session: Session, keyring: Keyring, actor: Actor, data: dict[str, Any], *,
                now: dt.datetime) -> Suggestions:
    """The suggestions for a validated registration (writes audit entries: a transaction)."""
    access.require_person_role(actor)
    found = Suggestions(detection=keyring.has(Purpose.SIMILARITY))
    if participants.find_by_pseudonym(session, participants.pseudonyms_of(keyring, data)):
        return found
    shown: dict[int, bool] = {}  # participant id -> holds the NIR typed
    if found.detection:
        for candidate in possible_duplicates(session, keyring, data,
                                             structure_id=actor.structure_id):
            if candidate.followed_here:
                shown[candidate.participant_id] = False
            else:
                found.elsewhere = True
    if data.get("nir"):
        holder = nir_holder(session, keyring, data["nir"], data["birth_date"])
        if holder is not None:
            if _followed(session, actor, holder):
                shown[holder.id] = True
            else:
                found.nir_elsewhere = True
    for participant_id, holds_nir in shown.items():
        participant = session.get(Participant, participant_id)
        assert participant is not None
        record = participants.reveal_identity(session, keyring, actor, participant,
                                              purpose=PURPOSE, now=now)
        found.known.append(Known(participant.uuid, record["last_name"], record["first_names"],
                                 record["birth_date"],
                                 _enrolments(session, participant.id, actor.structure_id),
                                 holds_nir))
    return found


def _followed(session: Session, actor: Actor, participant: Participant) -> bool:
    if actor.structure_id is None:
        return False
    return bool(session.execute(
        sa.select(access.FOLLOWED_BY_ACTOR).where(Participant.id == participant.id),
        {"actor_structure_id": actor.structure_id}).scalar())


def _enrolments(session: Session, participant_id: int, structure_id: int | None
                ) -> list[dict[str, Any]]:
    """The structure's own enrolments of the person (not cancelled), latest first."""
    rows = session.execute(
        sa.select(Action.code, Action.title, Enrolment.start_date, Enrolment.end_date)
        .join(Action, Action.id == Enrolment.action_id)
        .where(Enrolment.participant_id == participant_id,
               Enrolment.structure_id == structure_id, Enrolment.cancelled_at.is_(None))
        .order_by(Enrolment.start_date.desc())).all()
    return [{"action_code": code, "action_title": title, "start_date": start,
             "end_date": end} for code, title, start, end in rows]
