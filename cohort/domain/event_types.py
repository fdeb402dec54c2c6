"""What each event type is: its family, whether it opens or closes an interval, what it needs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cohort.domain.enums import EventType as E
from cohort.domain.enums import Family


class Role(StrEnum):
    START = "start"
    END = "end"
    POINT = "point"


@dataclass(frozen=True)
class EventKind:
    type: E
    role: Role
    family: Family | None = None
    needs_enrolment: bool = False
    needs_operation: bool = False


_KINDS = [
    EventKind(E.HOUSING_ENTRY, Role.START, Family.HOUSING),
    EventKind(E.HOUSING_EXIT, Role.END, Family.HOUSING),
    EventKind(E.TRAINING_START, Role.START, Family.TRAINING),
    EventKind(E.TRAINING_END, Role.END, Family.TRAINING),
    EventKind(E.EMPLOYMENT_START, Role.START, Family.EMPLOYMENT),
    EventKind(E.EMPLOYMENT_END, Role.END, Family.EMPLOYMENT),
    EventKind(E.SCHOOL_ENROLMENT, Role.START, Family.SCHOOL),
    EventKind(E.SCHOOL_EXIT, Role.END, Family.SCHOOL),
    EventKind(E.SCHEME_ENTRY, Role.START, Family.SCHEME),
    EventKind(E.SCHEME_EXIT, Role.END, Family.SCHEME),
    EventKind(E.RESOURCE_START, Role.START, Family.RESOURCE),
    EventKind(E.RESOURCE_END, Role.END, Family.RESOURCE),
    EventKind(E.SUPPORT_BREAK, Role.START, Family.SUPPORT_BREAK, needs_enrolment=True),
    EventKind(E.SUPPORT_RESUMED, Role.END, Family.SUPPORT_BREAK, needs_enrolment=True),
    EventKind(E.CHILDCARE_START, Role.START, Family.CHILDCARE, needs_enrolment=True),
    EventKind(E.CHILDCARE_END, Role.END, Family.CHILDCARE, needs_enrolment=True),
    EventKind(E.LINK_PERSON_CHOSEN, Role.POINT),
    EventKind(E.CLAUSE_HOURS, Role.POINT, needs_operation=True),
    EventKind(E.MOBILITY_ASSESSMENT, Role.POINT),
    EventKind(E.CONTACT, Role.POINT),
]

KINDS: dict[E, EventKind] = {k.type: k for k in _KINDS}
START_TYPES: frozenset[E] = frozenset(k.type for k in _KINDS if k.role is Role.START)
END_TYPES: frozenset[E] = frozenset(k.type for k in _KINDS if k.role is Role.END)


def kind_of(event_type: E | str) -> EventKind:
    try:  # a StrEnum member and its value hash alike: no enum call on the hot path
        return KINDS[event_type]  # type: ignore[index]
    except KeyError:
        return KINDS[E(event_type)]  # raises ValueError naming an unknown type
