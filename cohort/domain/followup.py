"""Six-month follow-up checks (domain.md §6), as pure functions: no Session, no Flask.

When, and in which window, a check falls; which state it is in on a given day; and, for a
situation reported by a check, which events would bring the status derived for that date
(``domain.pathway_status``) in line with it — nothing for what already matches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cohort.domain.calendar import add_months
from cohort.domain.enums import EventType, Family
from cohort.domain.intervals import Interval
from cohort.domain.pathway_status import OpenInterval, Start, latest_housing, open_at

DEFAULT_MONTHS = 6
DEFAULT_BEFORE_DAYS = 15
DEFAULT_AFTER_DAYS = 45


class CheckStatus(StrEnum):
    """What is stored: the check waits, was recorded, or no longer applies."""

    SCHEDULED = "scheduled"
    DONE = "done"
    CANCELLED = "cancelled"


class CheckState(StrEnum):
    """What the worklist shows on a day: the stored status, refined by the window."""

    UPCOMING = "upcoming"  # scheduled, today < window_start
    DUE = "due"  # scheduled, window_start <= today <= window_end
    OVERDUE = "overdue"  # scheduled, today > window_end (due + 45 days by default)
    DONE = "done"
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    REACHED = "reached"
    NOT_REACHED = "not_reached"
    REFUSED = "refused"


class AlertCause(StrEnum):
    SUPPORT_BREAK = "support_break"
    OVERDUE_CHECK = "overdue_check"


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class NotificationKind(StrEnum):
    FOLLOWUP_DIGEST = "followup_digest"
    ALERT = "alert"
    SHARED_FOLLOW = "shared_follow"  # another structure started following a person


class EmailState(StrEnum):
    PENDING = "pending"  # the next `cohort followups remind` sends it
    SENT = "sent"
    SKIPPED = "skipped"  # no SMTP server configured when it was created: inbox only


LABELS_FR: dict[StrEnum, str] = {
    CheckState.UPCOMING: "À venir",
    CheckState.DUE: "À réaliser",
    CheckState.OVERDUE: "En retard",
    CheckState.DONE: "Réalisé",
    CheckState.CANCELLED: "Annulé",
    Outcome.REACHED: "Jeune joint",
    Outcome.NOT_REACHED: "Jeune non joint",
    Outcome.REFUSED: "Refus de répondre",
    AlertCause.SUPPORT_BREAK: "Rupture d'accompagnement",
    AlertCause.OVERDUE_CHECK: "Suivi à 6 mois en retard",
    AlertStatus.OPEN: "Ouverte",
    AlertStatus.ACKNOWLEDGED: "Prise en compte",
    AlertStatus.CLOSED: "Clôturée",
}


@dataclass(frozen=True)
class Window:
    due: dt.date
    start: dt.date
    end: dt.date


def window_settings(programme: Mapping[str, Any],
                    action: Mapping[str, Any]) -> tuple[int, int, int]:
    """(months, days before, days after): the action's settings override the programme's."""

    def pick(key: str, default: int) -> int:
        return int(action.get(key, programme.get(key, default)))

    return (pick("followup_months", DEFAULT_MONTHS),
            pick("followup_window_before_days", DEFAULT_BEFORE_DAYS),
            pick("followup_window_after_days", DEFAULT_AFTER_DAYS))


def window_for(end: dt.date, *, months: int = DEFAULT_MONTHS, before: int = DEFAULT_BEFORE_DAYS,
               after: int = DEFAULT_AFTER_DAYS) -> Window:
    """The check of an enrolment ended on `end`: due N months later (end-of-month clamp)."""
    due = add_months(end, months)
    return Window(due, due - dt.timedelta(days=before), due + dt.timedelta(days=after))


def state_on(status: str, window_start: dt.date, window_end: dt.date,
             today: dt.date) -> CheckState:
    """The worklist state of a check on `today` (the SQL in services/followups agrees)."""
    if status == CheckStatus.DONE:
        return CheckState.DONE
    if status == CheckStatus.CANCELLED:
        return CheckState.CANCELLED
    if today < window_start:
        return CheckState.UPCOMING
    if today <= window_end:
        return CheckState.DUE
    return CheckState.OVERDUE


# --- what a reported situation writes ------------------------------------------------------

@dataclass(frozen=True)
class PlannedEvent:
    """One event to write, dated the check date; `name` makes its uuid deterministic."""

    name: str
    type: EventType
    attributes: dict[str, Any]
    closes: Hashable | None = None


def _ends(current: Sequence[OpenInterval], family: Family, end: EventType,
          keep: Any = lambda start: False) -> list[PlannedEvent]:
    return [PlannedEvent(f"{end.value}:{o.start.key}", end, {}, closes=o.start.key)
            for o in current if o.family is family and not keep(o.start)]


def plan_events(situation: Mapping[str, Any], intervals: Sequence[Interval],
                starts: Mapping[Hashable, Start], day: dt.date) -> list[PlannedEvent]:
    """The events that make the derived status at `day` say what the situation says.

    Each situation key is optional: absent means "not asked" and writes nothing; null (or
    false, or an empty list) means "not in it" and closes what is open; a value means "in
    it" and opens an interval unless a matching one is already open.
    """
    current = open_at(intervals, starts, day)
    planned: list[PlannedEvent] = []

    def opened(family: Family) -> list[Start]:
        return [o.start for o in current if o.family is family]

    if "employment" in situation:
        job = situation["employment"]
        if job is None:
            planned += _ends(current, Family.EMPLOYMENT, EventType.EMPLOYMENT_END)
        elif not any(s.attributes.get("contract") == job["contract"]
                     for s in opened(Family.EMPLOYMENT)):
            planned.append(PlannedEvent(EventType.EMPLOYMENT_START.value,
                                        EventType.EMPLOYMENT_START, dict(job)))
    if "training" in situation:
        training = situation["training"]
        if training is None:
            planned += _ends(current, Family.TRAINING, EventType.TRAINING_END)
        elif not any(s.attributes.get("qualifying") == training["qualifying"]
                     for s in opened(Family.TRAINING)):
            planned.append(PlannedEvent(EventType.TRAINING_START.value,
                                        EventType.TRAINING_START, dict(training)))
    if "school" in situation:
        if not situation["school"]:
            planned += _ends(current, Family.SCHOOL, EventType.SCHOOL_EXIT)
        elif not opened(Family.SCHOOL):
            planned.append(PlannedEvent(EventType.SCHOOL_ENROLMENT.value,
                                        EventType.SCHOOL_ENROLMENT, {}))
    if "scheme" in situation:
        scheme = situation["scheme"]
        if scheme is None:
            planned += _ends(current, Family.SCHEME, EventType.SCHEME_EXIT)
        elif not any(s.attributes.get("scheme") == scheme for s in opened(Family.SCHEME)):
            planned.append(PlannedEvent(EventType.SCHEME_ENTRY.value, EventType.SCHEME_ENTRY,
                                        {"scheme": scheme}))
    if situation.get("housing_type") is not None:
        housing = latest_housing(intervals, starts, day)
        still = housing is not None and housing[0].open_at(day)
        if not still or housing[1].attributes.get("housing_type") != situation["housing_type"]:
            planned.append(PlannedEvent(EventType.HOUSING_ENTRY.value, EventType.HOUSING_ENTRY,
                                        {"housing_type": situation["housing_type"]}))
    if "resources" in situation:
        wanted = list(dict.fromkeys(situation["resources"] or []))
        have = {s.attributes.get("resource") for s in opened(Family.RESOURCE)}
        planned += _ends(current, Family.RESOURCE, EventType.RESOURCE_END,
                         keep=lambda start: start.attributes.get("resource") in wanted)
        planned += [PlannedEvent(f"{EventType.RESOURCE_START.value}:{r}",
                                 EventType.RESOURCE_START, {"resource": r})
                    for r in wanted if r not in have]
    return planned
