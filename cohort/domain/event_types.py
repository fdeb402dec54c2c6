"""What each event type is: its family, whether it opens or closes an interval, what it needs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cohort.domain.enums import EventType as E
from cohort.domain.enums import Family


class Boundary(StrEnum):
    """What an event does to its interval: opens it, closes it, or stands alone (a point)."""

    START = "start"
    END = "end"
    POINT = "point"


@dataclass(frozen=True)
class EventKind:
    type: E
    boundary: Boundary
    family: Family | None = None
    needs_enrolment: bool = False
    needs_operation: bool = False


_KINDS = [
    EventKind(E.HOUSING_ENTRY, Boundary.START, Family.HOUSING),
    EventKind(E.HOUSING_EXIT, Boundary.END, Family.HOUSING),
    EventKind(E.TRAINING_START, Boundary.START, Family.TRAINING),
    EventKind(E.TRAINING_END, Boundary.END, Family.TRAINING),
    EventKind(E.EMPLOYMENT_START, Boundary.START, Family.EMPLOYMENT),
    EventKind(E.EMPLOYMENT_END, Boundary.END, Family.EMPLOYMENT),
    EventKind(E.SCHOOL_ENROLMENT, Boundary.START, Family.SCHOOL),
    EventKind(E.SCHOOL_EXIT, Boundary.END, Family.SCHOOL),
    EventKind(E.SCHEME_ENTRY, Boundary.START, Family.SCHEME),
    EventKind(E.SCHEME_EXIT, Boundary.END, Family.SCHEME),
    EventKind(E.RESOURCE_START, Boundary.START, Family.RESOURCE),
    EventKind(E.RESOURCE_END, Boundary.END, Family.RESOURCE),
    EventKind(E.SUPPORT_BREAK, Boundary.START, Family.SUPPORT_BREAK, needs_enrolment=True),
    EventKind(E.SUPPORT_RESUMED, Boundary.END, Family.SUPPORT_BREAK, needs_enrolment=True),
    EventKind(E.CHILDCARE_START, Boundary.START, Family.CHILDCARE, needs_enrolment=True),
    EventKind(E.CHILDCARE_END, Boundary.END, Family.CHILDCARE, needs_enrolment=True),
    EventKind(E.LINK_PERSON_CHOSEN, Boundary.POINT),
    EventKind(E.CLAUSE_HOURS, Boundary.POINT, needs_operation=True),
    EventKind(E.MOBILITY_ASSESSMENT, Boundary.POINT),
    EventKind(E.CONTACT, Boundary.POINT),
]

KINDS: dict[E, EventKind] = {k.type: k for k in _KINDS}
START_TYPES: frozenset[E] = frozenset(k.type for k in _KINDS if k.boundary is Boundary.START)
END_TYPES: frozenset[E] = frozenset(k.type for k in _KINDS if k.boundary is Boundary.END)


def kind_of(event_type: E | str) -> EventKind:
    try:  # a StrEnum member and its value hash alike: no enum call on the hot path
        return KINDS[event_type]  # type: ignore[index]
    except KeyError:
        return KINDS[E(event_type)]  # raises ValueError naming an unknown type
