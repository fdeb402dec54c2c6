"""The status definitions of domain.md §5 as data, and their Python reading.

One rule per status says which interval families count, what their start event must carry
(a predicate written as data) and whether only the latest start counts (housing). The
Python reading below (``status_at``, used by the follow-up checks), the SQL forms of the
indicators (``indicators.status``: EXISTS clauses and the cohort table's flags) and the
event-attribute rules are built from these values, and the programme-file defaults and the
demo generator are to read them too; none of them keeps a copy.
tests/db/test_status_forms.py holds the three readings together on random histories.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cohort.domain.enums import Contract, Family, HousingType
from cohort.domain.intervals import Interval

PATHWAY_FAMILIES: tuple[Family, ...] = (
    Family.EMPLOYMENT, Family.TRAINING, Family.SCHOOL, Family.SCHEME,
)
"""Families whose open interval puts a person "in a pathway" (parcours professionnel et/ou
scolaire)."""

OPEN_ENDED_CONTRACTS: tuple[str, ...] = (Contract.CDI.value, Contract.BUSINESS_CREATION.value)
"""Contracts that are durable whatever their length, and need no ``planned_months``."""

FIXED_TERM_CONTRACTS: tuple[str, ...] = tuple(
    c.value for c in Contract if c.value not in OPEN_ENDED_CONTRACTS
)
"""Contracts that are durable only when planned for ``DURABLE_MIN_MONTHS`` or more."""

DURABLE_MIN_MONTHS = 6

DEFAULT_STABLE_HOUSING: tuple[str, ...] = (
    HousingType.SOCIAL_RENTAL.value, HousingType.PRIVATE_RENTAL.value,
    HousingType.SLIDING_LEASE.value,
)
"""Housing types that count as stable unless the programme file sets its own list."""

STATUS_NAMES: tuple[str, ...] = (
    "in_pathway", "durable_employment", "stably_housed", "has_resources",
)
"""The four statuses, in the order indicators and cohort tables show them."""


# --- the rules as data ---------------------------------------------------------------------

@dataclass(frozen=True)
class OneOf:
    """The start event's attribute is one of these values."""

    attribute: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class AtLeast:
    """The start event's (integer) attribute is set and at least ``minimum``."""

    attribute: str
    minimum: int


@dataclass(frozen=True)
class IsTrue:
    """The start event's (boolean) attribute is true."""

    attribute: str


Condition = OneOf | AtLeast | IsTrue
Predicate = tuple[tuple[Condition, ...], ...]
"""Any of the alternatives, each all of its conditions; ``()`` matches no start."""


@dataclass(frozen=True)
class StatusRule:
    """A status at D: an interval of ``families`` open at D whose start matches ``start``
    (``None``: any start); with ``latest_only``, only the latest start of those families
    on or before D (by start date, then recording order) may count."""

    name: str
    families: tuple[Family, ...]
    start: Predicate | None = None
    latest_only: bool = False


DURABLE_CONTRACT: Predicate = (
    (OneOf("contract", OPEN_ENDED_CONTRACTS),),
    (OneOf("contract", FIXED_TERM_CONTRACTS), AtLeast("planned_months", DURABLE_MIN_MONTHS)),
)
"""A durable employment start: open-ended, or fixed-term planned for 6 months or more."""

QUALIFYING_TRAINING = StatusRule("qualifying_training", (Family.TRAINING,),
                                 ((IsTrue("qualifying"),),))
"""Not a status of §5, but the other half of a positive exit (§7): read the same way."""


def status_rules(stable_housing: Collection[str] = DEFAULT_STABLE_HOUSING
                 ) -> dict[str, StatusRule]:
    """The four rules of §5, in ``STATUS_NAMES`` order, with the programme's stable set."""
    return {rule.name: rule for rule in (
        StatusRule("in_pathway", PATHWAY_FAMILIES),
        StatusRule("durable_employment", (Family.EMPLOYMENT,), DURABLE_CONTRACT),
        StatusRule("stably_housed", (Family.HOUSING,),
                   ((OneOf("housing_type", tuple(stable_housing)),),), latest_only=True),
        StatusRule("has_resources", (Family.RESOURCE,)),
    )}


RULES = status_rules()


def matches(predicate: Predicate | None, attributes: Mapping[str, Any]) -> bool:
    """Whether a start event's attributes satisfy a predicate (``None``: always)."""
    if predicate is None:
        return True
    return any(all(_holds(c, attributes) for c in alternative) for alternative in predicate)


def _holds(condition: Condition, attributes: Mapping[str, Any]) -> bool:
    value = attributes.get(condition.attribute)
    if isinstance(condition, OneOf):
        return value in condition.values
    if isinstance(condition, AtLeast):
        return value is not None and value >= condition.minimum
    return value is True


# --- the Python reading: status at a date of resolved intervals ------------------------------

@dataclass(frozen=True)
class Start:
    """An interval's start event, as much as status and diffing need."""

    key: Hashable
    type: str
    date: dt.date
    seq: int
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class OpenInterval:
    family: Family
    start: Start


@dataclass(frozen=True)
class Status:
    in_pathway: bool
    durable_employment: bool
    stably_housed: bool
    has_resources: bool


def open_at(intervals: Sequence[Interval], starts: Mapping[Hashable, Start],
            day: dt.date) -> list[OpenInterval]:
    """The intervals open at `day` (start <= day < end), with their start events."""
    return [OpenInterval(i.family, starts[i.start_key]) for i in intervals
            if i.open_at(day) and i.start_key in starts]


def latest_start(intervals: Sequence[Interval], starts: Mapping[Hashable, Start],
                 day: dt.date, families: Collection[Family]) -> tuple[Interval, Start] | None:
    """The latest start of ``families`` on or before `day` (ties: the later recorded)."""
    candidates = [(i, starts[i.start_key]) for i in intervals
                  if i.family in families and i.start_date <= day and i.start_key in starts]
    if not candidates:
        return None
    return max(candidates, key=lambda pair: (pair[1].date, pair[1].seq))


def latest_housing(intervals: Sequence[Interval], starts: Mapping[Hashable, Start],
                   day: dt.date) -> tuple[Interval, Start] | None:
    """The latest housing entry on or before `day` (ties: the later recorded)."""
    return latest_start(intervals, starts, day, (Family.HOUSING,))


def holds(rule: StatusRule, intervals: Sequence[Interval], starts: Mapping[Hashable, Start],
          day: dt.date) -> bool:
    """Whether a participant's resolved intervals meet one rule at `day`."""
    if rule.latest_only:
        latest = latest_start(intervals, starts, day, rule.families)
        return (latest is not None and latest[0].open_at(day)
                and matches(rule.start, latest[1].attributes))
    return any(o.family in rule.families and matches(rule.start, o.start.attributes)
               for o in open_at(intervals, starts, day))


def status_at(intervals: Sequence[Interval], starts: Mapping[Hashable, Start], day: dt.date,
              stable: Collection[str] = DEFAULT_STABLE_HOUSING) -> Status:
    """Status at D derived from resolved intervals (never stored for a person, §5)."""
    rules = status_rules(stable)
    return Status(**{name: holds(rule, intervals, starts, day) for name, rule in rules.items()})
