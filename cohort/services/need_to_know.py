"""What a structure sees of, and may do to, another structure's part of a pathway
(domain.md §1, "Need-to-know between structures"; issue 18, finding 1).

Several structures may follow one person. Each sees everything of the events it recorded
and the enrolments it holds; of another structure's, only the facts the indicators use
(type, dates, the attributes the indicators read) — never free text (a support break's
reason, a void's or a cancellation's reason) nor who typed it; and it voids, corrects or
ends only what it recorded. Administrators and jobs see and do everything (audited);
ASE referents read the pathways of their département's ASE youths, whose ruptures they
handle, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import Actor, Role
from cohort.errors import Forbidden
from cohort.models import Enrolment, Event

# Attributes typed as free text, by event type: what a structure wrote for itself.
FREE_TEXT_ATTRIBUTES: dict[str, frozenset[str]] = {"support_break": frozenset({"reason"})}
OWN_ONLY = "a structure voids, corrects or ends only what it recorded"


def partial(actor: Actor) -> bool:
    """Whether the actor sees other structures' parts as facts only (a coordinator)."""
    return actor.role is Role.COORDINATOR and actor.structure_id is not None


def owned_by(structure_id: int | None) -> sa.ColumnElement[bool]:
    """Whether an event (``Event``) was recorded by the structure.

    Events recorded before migration 0013, by an import or by a system job name no
    structure: such an event belongs to the structure of the enrolment it names, or, when
    it names none, to the structure only while no other structure follows the person.
    """
    recorded = Event.recorded_by_structure_id == structure_id
    via_enrolment = sa.exists().where(Enrolment.id == Event.enrolment_id,
                                      Enrolment.structure_id == structure_id)
    nobody_else = ~sa.exists().where(Enrolment.participant_id == Event.participant_id,
                                     Enrolment.structure_id != structure_id)
    unnamed = sa.and_(Event.recorded_by_structure_id.is_(None), sa.or_(
        sa.and_(Event.enrolment_id.is_not(None), via_enrolment),
        sa.and_(Event.enrolment_id.is_(None), nobody_else)))
    return sa.or_(recorded, unnamed)


def own_event_ids(session: Session, actor: Actor, event_ids: Iterable[int]) -> set[int]:
    """Which of these events the actor's structure recorded (all of them for a full
    view)."""
    ids = sorted(set(event_ids))
    if not partial(actor) or not ids:
        return set(ids)
    return set(session.execute(
        sa.select(Event.id).where(Event.id.in_(ids), owned_by(actor.structure_id))
    ).scalars())


def require_own_event(session: Session, actor: Actor, event_id: int, *,
                      field: str = "event_id") -> None:
    """Refuse to void, correct or close another structure's event (403, audited)."""
    if partial(actor) and event_id not in own_event_ids(session, actor, [event_id]):
        raise Forbidden(OWN_ONLY, errors={field: ["recorded by another structure"]})


def require_own_enrolment(actor: Actor, enrolment: Enrolment, *,
                          field: str = "enrolment_id") -> None:
    """Refuse to attach an event to another structure's enrolment (a support break on
    their support is theirs to record)."""
    if partial(actor) and enrolment.structure_id != actor.structure_id:
        raise Forbidden(OWN_ONLY, errors={field: ["another structure's enrolment"]})


def fact_only_event(view: dict[str, Any]) -> dict[str, Any]:
    """Another structure's event as a fact: its free text and its void reason dropped."""
    hidden = FREE_TEXT_ATTRIBUTES.get(str(view.get("type")), frozenset())
    attributes = view.get("attributes") or {}
    return view | {"attributes": {k: v for k, v in attributes.items() if k not in hidden},
                   "void_reason": None, "own": False}


def fact_only_attributes(event_type: str, attributes: dict[str, Any] | None
                         ) -> dict[str, Any]:
    hidden = FREE_TEXT_ATTRIBUTES.get(event_type, frozenset())
    return {k: v for k, v in (attributes or {}).items() if k not in hidden}


def fact_only_enrolment(view: dict[str, Any]) -> dict[str, Any]:
    """Another structure's enrolment: dates, action and status; not why it was cancelled."""
    return view | {"cancel_reason": None, "own": False}
