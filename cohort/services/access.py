"""Who may see and change which participant: the scoping rules every shell shares.

A coordinator follows the participants their structure has (or had) an enrolment with,
or registered; an ASE referent reads the ASE youths of their département; an
administrator reaches a participant outside their own structure only through a
time-limited exceptional access with a typed reason. Evaluators and pilots never reach a
person. Out-of-scope objects answer NotFound (no existence oracle).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import Actor, Role
from cohort.db import core
from cohort.errors import CohortError, Forbidden, NotFound
from cohort.models import (
    Action,
    Enrolment,
    Event,
    ExceptionalAccess,
    Participant,
    RegistrationGrant,
)
from cohort.services.lookup import by_uuid

EXCEPTIONAL_ACCESS_DURATION = dt.timedelta(hours=2)


class OutOfScope(NotFound):
    """A NotFound that the shells also write to the audit log as a refused access."""

    def __init__(self, target_type: str, target_id: object, field: str):
        super().__init__(f"{field}: not found", errors={field: ["not found"]})
        self.target_type = target_type
        self.target_id = str(target_id)


def _followed_by_structure(structure_id: int | sa.BindParameter[int]
                           ) -> sa.ColumnElement[bool]:
    enrolled = sa.exists().where(Enrolment.participant_id == Participant.id,
                                 Enrolment.structure_id == structure_id)
    return sa.or_(enrolled, Participant.registered_by_structure_id == structure_id)


def _ase_of_departement(departement: str | None) -> sa.ColumnElement[bool]:
    # A cancelled enrolment (entered by mistake) brings no one into a referent's scope;
    # the structure that recorded it keeps reading it (_followed_by_structure).
    in_dept_action = sa.exists().where(
        Enrolment.participant_id == Participant.id,
        Enrolment.action_id == Action.id,
        Enrolment.cancelled_at.is_(None),
        Action.departement == departement,
    )
    return sa.and_(Participant.ase_past.is_(True),
                   sa.or_(Participant.home_departement == departement, in_dept_action))


def visible(actor: Actor, *, now: dt.datetime) -> sa.ColumnElement[bool]:
    """A WHERE clause on Participant: the rows this actor may read."""
    if actor.role is Role.SYSTEM:
        return sa.true()
    if actor.role is Role.COORDINATOR and actor.structure_id is not None:
        return _followed_by_structure(actor.structure_id)
    if actor.role is Role.ASE_REFERENT:
        return _ase_of_departement(actor.departement)
    if actor.role is Role.ADMIN:
        granted = sa.exists().where(
            ExceptionalAccess.participant_id == Participant.id,
            ExceptionalAccess.user_id == actor.user_id,
            ExceptionalAccess.expires_at > now,
        )
        own = (_followed_by_structure(actor.structure_id) if actor.structure_id is not None
               else sa.false())
        return sa.or_(own, granted)
    return sa.false()


def writable(actor: Actor, *, now: dt.datetime) -> sa.ColumnElement[bool]:
    """A WHERE clause on Participant: the rows this actor may record events for."""
    if actor.role is Role.ASE_REFERENT:
        return sa.false()
    return visible(actor, now=now)


def require_person_role(actor: Actor) -> None:
    """Aggregate-only roles never reach a person (403: a forbidden function)."""
    if actor.role in (Role.EVALUATOR, Role.PILOT):
        raise Forbidden("this role sees aggregates only")


def readable_participant(session: Session, actor: Actor, participant: Participant, *,
                         now: dt.datetime, field: str = "participant_id") -> Participant:
    require_person_role(actor)
    if not _in_scope(session, actor, participant, lambda: visible(actor, now=now)):
        raise OutOfScope("participant", participant.uuid, field)
    return participant


def writable_participant(session: Session, actor: Actor, participant: Participant, *,
                         now: dt.datetime, field: str = "participant_id",
                         followed: bool | None = None) -> Participant:
    """``followed``: FOLLOWED_BY_ACTOR, if the caller read it with the participant."""
    require_person_role(actor)
    if actor.role is Role.ASE_REFERENT:
        if _matches(session, participant, visible(actor, now=now)):
            raise Forbidden("ASE referents read pathways; coordinators record them")
        raise OutOfScope("participant", participant.uuid, field)
    if not _in_scope(session, actor, participant, lambda: writable(actor, now=now), followed):
        raise OutOfScope("participant", participant.uuid, field)
    return participant


def may_enrol(session: Session, actor: Actor, participant: Participant, *,
              now: dt.datetime) -> None:
    """Enrolling needs the person followed, or found at registration (a grant)."""
    require_person_role(actor)
    if actor.role is Role.SYSTEM:
        return
    if actor.role not in (Role.COORDINATOR, Role.ADMIN):
        raise Forbidden("only coordinators and administrators enrol participants")
    if _matches(session, participant, writable(actor, now=now)):
        return
    granted = session.execute(
        sa.select(RegistrationGrant.id).where(
            RegistrationGrant.participant_id == participant.id,
            RegistrationGrant.structure_id == actor.structure_id,
        )
    ).first()
    if granted is None:
        raise OutOfScope("participant", participant.uuid, "participant_id")


def own_structure(actor: Actor, structure_id: int) -> None:
    """Coordinators act for their own structure only."""
    if actor.role is Role.COORDINATOR and actor.structure_id != structure_id:
        raise Forbidden("coordinators enrol for their own structure only",
                        errors={"structure_id": ["not your structure"]})


def _matches(session: Session, participant: Participant,
             clause: sa.ColumnElement[bool]) -> bool:
    return session.execute(
        sa.select(Participant.id).where(Participant.id == participant.id, clause)
    ).first() is not None


# A coordinator's scope check runs on every request about a person: built once, with
# bound parameters (building the clause cost more than running it). FOLLOWED_BY_ACTOR is
# the same test as a column, for a statement that reads the participant anyway (bind
# ``actor_structure_id`` to the actor's structure and pass the value as ``followed``).
FOLLOWED_BY_ACTOR = sa.case(
    (_followed_by_structure(sa.bindparam("actor_structure_id", type_=sa.Integer)), True),
    else_=False)
_FOLLOWED_BY = sa.select(FOLLOWED_BY_ACTOR).where(
    Participant.id == sa.bindparam("participant_id"))


def _in_scope(session: Session, actor: Actor, participant: Participant,
              clause: Callable[[], sa.ColumnElement[bool]], followed: bool | None = None) -> bool:
    """``clause`` applied to the participant; a coordinator's through FOLLOWED_BY_ACTOR."""
    if actor.role is Role.COORDINATOR and actor.structure_id is not None:
        if followed is None:
            followed = bool(core(session).execute(
                _FOLLOWED_BY, {"participant_id": participant.id,
                               "actor_structure_id": actor.structure_id}).scalar())
        return followed
    return _matches(session, participant, clause())


def readable_enrolment(session: Session, actor: Actor, enrolment_id: object, *,
                       now: dt.datetime) -> Enrolment:
    """An enrolment whose participant the actor may read, else NotFound."""
    enrolment = by_uuid(session, Enrolment, enrolment_id, "enrolment_id")
    readable_participant(session, actor, enrolment.participant, now=now, field="enrolment_id")
    return enrolment


def readable_event(session: Session, actor: Actor, event_id: object, *,
                   now: dt.datetime) -> Event:
    """An event whose participant the actor may read, else NotFound."""
    event = by_uuid(session, Event, event_id, "event_id")
    participant = session.get(Participant, event.participant_id)
    assert participant is not None  # the foreign key guarantees it
    readable_participant(session, actor, participant, now=now, field="event_id")
    return event


def refused_target(error: CohortError) -> tuple[str, str] | None:
    if isinstance(error, OutOfScope):
        return error.target_type, error.target_id
    return None
