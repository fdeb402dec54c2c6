"""Status at a date D (domain.md §5) as SQL, compiled from ``domain.pathway_status``.

The rules (families, start predicate, latest-only) are data in the domain module; this one
turns them into two SQL forms: EXISTS clauses reusable by every indicator, and the flags
the cohort table reads in two look-ups per row (``open_flags``, ``stably_housed_flag``).
Each function takes a participant id column and a date expression; nothing is stored,
everything derives from the resolved intervals in force at the cut. D is always on or
before A, so an end dated after A never closes anything here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from cohort.domain.pathway_status import (
    DEFAULT_STABLE_HOUSING,
    DURABLE_CONTRACT,
    QUALIFYING_TRAINING,
    RULES,
    AtLeast,
    Condition,
    OneOf,
    Predicate,
    StatusRule,
    status_rules,
)
from cohort.indicators.base import Cut, interval_end, interval_valid, start_event
from cohort.models import Event, EventInterval

_COLUMNS = {"contract": "category", "housing_type": "category",
            "planned_months": "planned_months", "qualifying": "qualifying"}
"""The event column each attribute a rule reads is promoted to (services.events
``promoted_columns``), so the SQL needs no JSON functions."""


def _condition(condition: Condition, start: Any) -> sa.ColumnElement[bool]:
    column = getattr(start, _COLUMNS[condition.attribute])
    if isinstance(condition, OneOf):
        return column.in_(list(condition.values))
    if isinstance(condition, AtLeast):
        return column >= condition.minimum
    return column.is_(True)


def start_matches(predicate: Predicate | None, start: Any) -> sa.ColumnElement[bool]:
    """A rule's start predicate over an ``Event`` alias (``domain.pathway_status.matches``)."""
    if predicate is None:
        return sa.true()
    if not predicate:
        return sa.false()
    return sa.or_(*[sa.and_(*[_condition(c, start) for c in alternative])
                    for alternative in predicate])


def durable(start: Any) -> sa.ColumnElement[bool]:
    """A durable contract: CDI, business creation, or fixed-term of 6 months or more."""
    return start_matches(DURABLE_CONTRACT, start)


def _of_family(family: Any, rule: StatusRule) -> sa.ColumnElement[bool]:
    """The interval's family is one of the rule's (``=`` for one, as the tuned SQL had)."""
    if len(rule.families) == 1:
        return family == rule.families[0].value
    return family.in_([f.value for f in rule.families])


def _open_at(rule: StatusRule, participant: Any, day: Any, cut: Cut) -> sa.ColumnElement[bool]:
    """An interval of the rule's families open at D whose start matches."""
    iv = aliased(EventInterval)
    start = aliased(Event)
    end = interval_end(iv, cut)
    query = (
        sa.select(sa.literal(1))
        .select_from(iv)
        .where(iv.participant_id == participant, _of_family(iv.family, rule),
               interval_valid(iv, cut), iv.start_date <= day,
               sa.or_(end.is_(None), day < end))
        .correlate_except(iv, start)
    )
    if rule.start is not None:
        query = (query.join(start, start_event(start, iv, cut))
                 .where(start_matches(rule.start, start)))
    return query.exists()


def _latest_open(rule: StatusRule, participant: Any, day: Any,
                 cut: Cut) -> sa.ColumnElement[bool]:
    """The latest start of the rule's families on or before D is still open at D and
    matches."""
    iv, later = aliased(EventInterval), aliased(EventInterval)
    start = aliased(Event)
    end = interval_end(iv, cut)
    superseded = (
        sa.select(sa.literal(1)).select_from(later)
        .where(later.participant_id == participant, _of_family(later.family, rule),
               interval_valid(later, cut), later.start_date <= day,
               sa.or_(later.start_date > iv.start_date,
                      sa.and_(later.start_date == iv.start_date,
                              later.start_event_id > iv.start_event_id)))
        .correlate_except(later)
        .exists()
    )
    return (
        sa.select(sa.literal(1)).select_from(iv)
        .join(start, start_event(start, iv, cut))
        .where(iv.participant_id == participant, _of_family(iv.family, rule),
               interval_valid(iv, cut), iv.start_date <= day,
               sa.or_(end.is_(None), day < end),
               start_matches(rule.start, start), ~superseded)
        .correlate_except(iv, start)
        .exists()
    )


def holds(rule: StatusRule, participant: Any, day: Any, cut: Cut) -> sa.ColumnElement[bool]:
    """One rule at D as an EXISTS clause."""
    if rule.latest_only:
        return _latest_open(rule, participant, day, cut)
    return _open_at(rule, participant, day, cut)


def at_date(name: str, participant: Any, day: Any, cut: Cut,
            stable: Sequence[str] = DEFAULT_STABLE_HOUSING) -> sa.ColumnElement[bool]:
    """The status called ``name`` (one of ``STATUS_NAMES``) at D, as an EXISTS clause."""
    return holds(status_rules(stable)[name], participant, day, cut)


def in_pathway(participant: Any, day: Any, cut: Cut) -> sa.ColumnElement[bool]:
    """An employment, training, school or scheme interval open at D."""
    return holds(RULES["in_pathway"], participant, day, cut)


def in_durable_employment(participant: Any, day: Any, cut: Cut) -> sa.ColumnElement[bool]:
    """An employment interval open at D whose contract is durable."""
    return holds(RULES["durable_employment"], participant, day, cut)


def in_qualifying_training(participant: Any, day: Any, cut: Cut) -> sa.ColumnElement[bool]:
    """A qualifying training interval open at D (the other half of a positive exit)."""
    return holds(QUALIFYING_TRAINING, participant, day, cut)


def has_resources(participant: Any, day: Any, cut: Cut) -> sa.ColumnElement[bool]:
    """A resource interval open at D."""
    return holds(RULES["has_resources"], participant, day, cut)


def stably_housed(participant: Any, day: Any, cut: Cut,
                  stable: Sequence[str] = DEFAULT_STABLE_HOUSING) -> sa.ColumnElement[bool]:
    """The latest housing entry on or before D is still open at D and of a stable type."""
    return at_date("stably_housed", participant, day, cut, stable)


_OPEN_RULES = [rule for rule in RULES.values() if not rule.latest_only]

OPEN_FLAGS = {rule.name: 1 << bit for bit, rule in enumerate(_OPEN_RULES)}
"""The bit of each "an interval open at D" status in ``open_flags`` (in a pathway 1, in
durable employment 2, has resources 4)."""


def open_flags(participant: Any, day: Any, cut: Cut) -> sa.ScalarSelect[Any]:
    """The statuses of ``OPEN_FLAGS`` at D, their bits summed in one look-up of the
    participant's intervals (NULL when none is open), where their EXISTS clauses read the
    same rows once each."""
    iv = aliased(EventInterval)
    end = interval_end(iv, cut)

    def flag(rule: StatusRule) -> Any:
        if rule.start is None:
            return sa.func.max(sa.case((_of_family(iv.family, rule), 1), else_=0))
        # The start event is read only for the rule's families (a CASE branch, not a join).
        start = aliased(Event)
        matching = (sa.select(sa.literal(1)).select_from(start)
                    .where(start_event(start, iv, cut), start_matches(rule.start, start))
                    .correlate_except(start).exists())
        return sa.func.max(sa.case((~_of_family(iv.family, rule), 0),
                                   (matching, 1), else_=0))

    total: Any = None
    for rule in _OPEN_RULES:
        bit = OPEN_FLAGS[rule.name]
        term = flag(rule) if bit == 1 else bit * flag(rule)
        total = term if total is None else total + term
    return (
        sa.select(total)
        .select_from(iv)
        # No family filter: the participant's few current intervals are read in one probe
        # of (participant, valid_to), where SQLite probed (family, valid_to, participant)
        # once per family; the other families count for nothing in the flags.
        .where(iv.participant_id == participant, interval_valid(iv, cut), iv.start_date <= day,
               sa.or_(end.is_(None), day < end))
        .correlate_except(iv)
        .scalar_subquery()
    )


def stably_housed_flag(participant: Any, day: Any, cut: Cut,
                       stable: Sequence[str] = DEFAULT_STABLE_HOUSING) -> sa.ColumnElement[bool]:
    """``stably_housed`` as one look-up: the latest housing entry on or before D (by start
    date, then start event) is found first, from the intervals alone, and only its start
    event is read (for its type), when it is still open at D."""
    rule = status_rules(stable)["stably_housed"]
    iv = aliased(EventInterval)
    start = aliased(Event)
    end = interval_end(iv, cut)
    latest_open = (
        sa.select(sa.case((sa.or_(end.is_(None), day < end), iv.start_event_id),
                          else_=sa.null()))
        .select_from(iv)
        .where(iv.participant_id == participant, _of_family(iv.family, rule),
               interval_valid(iv, cut), iv.start_date <= day)
        .order_by(iv.start_date.desc(), iv.start_event_id.desc())
        .limit(1)
        .correlate_except(iv)
        .scalar_subquery()
    )
    return (sa.select(sa.literal(1)).select_from(start)
            # Its date is on or before A (its interval's start): PostgreSQL then leaves
            # the later partitions of event out when planning (migration 0023).
            .where(start.id == latest_open, start.date <= cut.as_of,
                   start_matches(rule.start, start))
            .correlate_except(start)
            .exists())
