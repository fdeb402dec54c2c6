"""Acceptance rules for registrations, enrolments and events (domain.md §3-§5).

Pure functions over facts already looked up, so the API services and the CSV import apply
one set of rules: each raises the same ``Rejected``/``Conflict``/``Forbidden`` (same field,
same reason) whichever shell asked. The callers fetch rows; these functions only decide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cohort.domain import eligibility, operators
from cohort.domain.calendar import add_months, age_in_years
from cohort.domain.enums import EventType
from cohort.domain.event_types import Boundary, kind_of
from cohort.errors import Conflict, Forbidden, Rejected

OLDEST_BIRTH = dt.date(1900, 1, 1)


# --- participants -----------------------------------------------------------------------

def check_birth_date(birth: dt.date, *, today: dt.date) -> None:
    """A birth date is neither in the future nor implausibly old."""
    if birth > today:
        raise Rejected("birth_date", "is in the future")
    if birth < OLDEST_BIRTH:
        raise Rejected("birth_date", "is implausibly old")


def check_nir_for_known(known_nir_hash: str | None, nir_hashes: Mapping[int, str],
                        *, nir_held_elsewhere: bool) -> None:
    """A NIR given for an already registered identity must agree with it.

    ``nir_held_elsewhere``: another participant holds one of ``nir_hashes``.
    """
    if not nir_hashes:
        return
    if known_nir_hash is None:
        if nir_held_elsewhere:
            raise Conflict(
                "this NIR is already registered under another identity",
                errors={"nir": ["already registered under another identity"]},
            )
        return
    if known_nir_hash not in nir_hashes.values():
        raise Conflict(
            "this identity is registered with another NIR",
            errors={"nir": ["differs from the NIR registered for this identity"]},
        )


def check_nir_free(*, nir_held_elsewhere: bool) -> None:
    """A new participant's NIR must not already belong to someone else."""
    if nir_held_elsewhere:
        raise Conflict(
            "this NIR is already registered under another identity",
            errors={"nir": ["already registered under another identity"]},
        )


# --- enrolments -------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """What an accepted enrolment records about its start."""

    age: int
    under_26: bool
    forced: bool
    force_justification: str | None


def needs_intensity(action_settings: Mapping[str, Any]) -> bool:
    """Actions counted in intensity units need each enrolment's intensity."""
    return bool((action_settings or {}).get("intensity_units"))


def enrolment_entry(requirements: Sequence[Mapping[str, Any]], action_settings: Mapping[str, Any],
                    data: Mapping[str, Any], *, birth: dt.date | None, ase_past: bool,
                    is_admin: bool, today: dt.date,
                    operator_refusals: Sequence[str] = ()) -> Entry:
    """Check an enrolment's start, intensity, operator and eligibility (forced by an admin
    only). ``operator_refusals``: what ``operators.refusals`` found wrong with the
    (action, structure) pair; refused first, as the structure may not enrol there at all."""
    start: dt.date = data["start_date"]
    if start > today:
        raise Rejected("start_date", "is in the future")
    if birth is None:
        raise Rejected("participant_id", "identity erased: cannot enrol")
    if start < birth:
        raise Rejected("start_date", "is before the participant's birth")
    if needs_intensity(action_settings) and not data.get("intensity"):
        raise Rejected("intensity", "required for this action (simple or reinforced)")
    age = age_in_years(birth, start)
    verdict = eligibility.check(requirements, eligibility.Facts(
        age=age,
        rsa_at_entry=data["rsa_at_entry"],
        ase_past=ase_past,
        parent_child_0_3=data.get("parent_child_0_3", False),
    ))
    forced = bool(data.get("force"))
    if forced:
        if not is_admin:
            raise Forbidden("only an administrator may force an enrolment")
        if not (data.get("force_justification") or "").strip():
            raise Rejected("force_justification", "required to force an enrolment")
    elif operator_refusals:
        raise Rejected(operators.FIELD, list(operator_refusals), code=operators.CODE)
    elif not verdict.ok:
        raise Rejected("eligibility", verdict.reasons, code="ineligible")
    really_forced = forced and (not verdict.ok or bool(operator_refusals))
    return Entry(age=age, under_26=age < 26, forced=really_forced,
                 force_justification=data.get("force_justification") if really_forced else None)


def check_enrolment_end(start: dt.date, end: dt.date, *, today: dt.date) -> None:
    """The last day of support is on or after the start, and not in the future."""
    if end < start:
        raise Rejected("end_date", "is before the enrolment's start date")
    if end > today:
        raise Rejected("end_date", "is in the future")


# --- events -----------------------------------------------------------------------------

def check_event_date(date: dt.date, *, today: dt.date, birth: dt.date | None,
                     first_start: dt.date | None) -> None:
    """Not in the future, not before birth, not over a year before the first enrolment."""
    if date > today:
        raise Rejected("date", "is in the future")
    if birth is None:
        raise Rejected("participant_id", "identity erased: no new events")
    if date < birth:
        raise Rejected("date", "is before the participant's birth")
    if first_start is None:
        raise Rejected("participant_id", "has no enrolment yet: enrol the participant first")
    if date < add_months(first_start, -12):
        raise Rejected("date", "is more than one year before the participant's first enrolment")


def check_enrolment_link(event_type: EventType, participant_id: Hashable,
                         enrolment_owner: Hashable | None) -> None:
    """The named enrolment (its participant, or None when none is named) fits the event."""
    if enrolment_owner is not None:
        if enrolment_owner != participant_id:
            raise Rejected("enrolment_id", "belongs to another participant")
    elif kind_of(event_type).needs_enrolment:
        raise Rejected("enrolment_id", f"required for a {event_type} event")


# Dated inside the enrolment they name (domain.md §5): its start to its last day, included.
WITHIN_ENROLMENT: frozenset[EventType] = frozenset(
    {EventType.SUPPORT_BREAK, EventType.SUPPORT_RESUMED, EventType.CHILDCARE_START})


def check_within_enrolment(event_type: EventType, date: dt.date,
                           period: tuple[dt.date, dt.date | None] | None) -> None:
    """A support break, its resumption or a childcare start falls within its enrolment's
    period (start ≤ date ≤ end, or no end yet). ``period``: the named enrolment's dates."""
    if period is None or event_type not in WITHIN_ENROLMENT:
        return
    start, end = period
    if date < start:
        raise Rejected("date", "is before the start of its enrolment",
                       code="outside_enrolment")
    if end is not None and date > end:
        raise Rejected("date", "is after the end of its enrolment", code="outside_enrolment")


def check_enrolment_not_cancelled(cancelled: bool) -> None:
    """A cancelled enrolment counts nowhere (domain.md §4): nothing new may be tied to it."""
    if cancelled:
        raise Rejected("enrolment_id", "is a cancelled enrolment", code="enrolment_cancelled")


def check_operation_link(event_type: EventType, *, named: bool) -> None:
    """Types that count an operation's activity must name the operation."""
    if not named and kind_of(event_type).needs_operation:
        raise Rejected("operation_id", f"required for a {event_type} event")


def check_closes(event_type: EventType, participant_id: Hashable,
                 start: tuple[Hashable, str] | None) -> None:
    """``closes`` names a start of the same participant and family.

    ``start``: the named event's (participant, type), or None when no such event exists.
    """
    kind = kind_of(event_type)
    if kind.boundary is not Boundary.END:
        raise Rejected("closes", "only an end event can close an interval")
    if start is None or start[0] != participant_id:
        raise Rejected("closes", "names no event of this participant")
    start_kind = kind_of(start[1])
    if start_kind.boundary is not Boundary.START or start_kind.family is not kind.family:
        raise Rejected("closes", f"names an event of another family than {kind.family}")


def check_not_identical_start(existing: Hashable | None) -> None:
    """A start identical to one already recorded (same participant, type, date and
    attributes, not voided) is refused, naming the existing event's id."""
    if existing is not None:
        raise Conflict(
            "a start identical to this one is already recorded for the participant",
            errors={"type": ["identical to an event already recorded"]},
            details={"existing_id": str(existing)}, code="identical_start",
        )


def check_end_closes(closed: Hashable | None, *, named: bool) -> None:
    """An end must close an open interval (resolved as if it were already recorded)."""
    if closed is None:
        raise Rejected(
            "closes" if named else "type",
            "no open interval of this family to close on this date",
            code="nothing_to_close",
        )
