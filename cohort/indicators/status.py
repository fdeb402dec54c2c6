"""Status at a date D (domain.md §5), as SQL EXISTS clauses reusable by every indicator.

Each function takes a participant id column and a date expression and returns a boolean
clause; nothing is stored, everything derives from the resolved intervals in force at the
cut. D is always on or before A, so an end dated after A never closes anything here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from cohort.domain.enums import Contract, Family
from cohort.indicators.base import Cut, interval_end, interval_valid
from cohort.models import Event, EventInterval

PATHWAY = (Family.EMPLOYMENT, Family.TRAINING, Family.SCHOOL, Family.SCHEME)
DEFAULT_STABLE_HOUSING = ("social_rental", "private_rental", "sliding_lease")
OPEN_ENDED = (Contract.CDI.value, Contract.BUSINESS_CREATION.value)
FIXED_TERM = tuple(c.value for c in Contract if c.value not in OPEN_ENDED)


def durable(start: Any) -> sa.ColumnElement[bool]:
    """A durable contract: CDI, business creation, or fixed-term of 6 months or more."""
    return sa.or_(start.category.in_(OPEN_ENDED),
                  sa.and_(start.category.in_(FIXED_TERM), start.planned_months >= 6))


def _open_at(families: Sequence[str], participant: Any, day: Any, cut: Cut,
             start_filter: Any = None) -> sa.ColumnElement[bool]:
    iv = aliased(EventInterval)
    start = aliased(Event)
    end = interval_end(iv, cut)
    query = (
        sa.select(sa.literal(1))
        .select_from(iv)
        .where(iv.participant_id == participant, iv.family.in_([str(f) for f in families]),
               interval_valid(iv, cut), iv.start_date <= day,
               sa.or_(end.is_(None), day < end))
        .correlate_except(iv, start)
    )
    if start_filter is not None:
        query = query.join(start, start.id == iv.start_event_id).where(start_filter(start))
    return query.exists()


def in_pathway(participant: Any, day: Any, cut: Cut) -> sa.ColumnElement[bool]:
    return _open_at(PATHWAY, participant, day, cut)


def in_durable_employment(participant: Any, day: Any, cut: Cut) -> sa.ColumnElement[bool]:
    return _open_at([Family.EMPLOYMENT], participant, day, cut, durable)


def in_qualifying_training(participant: Any, day: Any, cut: Cut) -> sa.ColumnElement[bool]:
    return _open_at([Family.TRAINING], participant, day, cut,
                    lambda start: start.qualifying.is_(True))


def has_resources(participant: Any, day: Any, cut: Cut) -> sa.ColumnElement[bool]:
    return _open_at([Family.RESOURCE], participant, day, cut)


def stably_housed(participant: Any, day: Any, cut: Cut,
                  stable: Sequence[str] = DEFAULT_STABLE_HOUSING) -> sa.ColumnElement[bool]:
    """The latest housing entry on or before D is still open at D and of a stable type."""
    iv, later = aliased(EventInterval), aliased(EventInterval)
    start = aliased(Event)
    end = interval_end(iv, cut)
    superseded = (
        sa.select(sa.literal(1)).select_from(later)
        .where(later.participant_id == participant, later.family == Family.HOUSING.value,
               interval_valid(later, cut), later.start_date <= day,
               sa.or_(later.start_date > iv.start_date,
                      sa.and_(later.start_date == iv.start_date,
                              later.start_event_id > iv.start_event_id)))
        .correlate_except(later)
        .exists()
    )
    return (
        sa.select(sa.literal(1)).select_from(iv)
        .join(start, start.id == iv.start_event_id)
        .where(iv.participant_id == participant, iv.family == Family.HOUSING.value,
               interval_valid(iv, cut), iv.start_date <= day,
               sa.or_(end.is_(None), day < end),
               start.category.in_(list(stable)), ~superseded)
        .correlate_except(iv, start)
        .exists()
    )


STATUSES = {
    "in_pathway": in_pathway,
    "durable_employment": in_durable_employment,
    "stably_housed": stably_housed,
    "has_resources": has_resources,
}


def open_flags(participant: Any, day: Any, cut: Cut) -> sa.ScalarSelect[Any]:
    """In a pathway (1), in durable employment (2), has resources (4) at D, summed in one
    look-up of the participant's intervals (NULL when none is open): the three EXISTS of
    ``in_pathway``, ``in_durable_employment`` and ``has_resources`` read the same rows."""
    iv = aliased(EventInterval)
    start = aliased(Event)
    end = interval_end(iv, cut)
    pathway = [str(f) for f in PATHWAY]
    employment = Family.EMPLOYMENT.value

    def flag(condition: Any) -> Any:
        return sa.func.max(sa.case((condition, 1), else_=0))

    # The start event is read for employment intervals only (a CASE branch, not a join).
    contract = (sa.select(sa.literal(1)).select_from(start)
                .where(start.id == iv.start_event_id, durable(start))
                .correlate_except(start).exists())
    return (
        sa.select(flag(iv.family.in_(pathway))
                  + 2 * sa.func.max(sa.case((iv.family != employment, 0),
                                            (contract, 1), else_=0))
                  + 4 * flag(iv.family == Family.RESOURCE.value))
        .select_from(iv)
        # No family filter: the participant's few current intervals are read in one probe
        # of (participant, valid_to), where SQLite probed (family, valid_to, participant)
        # once per family; the other families count for nothing in the flags.
        .where(iv.participant_id == participant, interval_valid(iv, cut), iv.start_date <= day,
               sa.or_(end.is_(None), day < end))
        .correlate_except(iv)
        .scalar_subquery()
    )


OPEN_FLAGS = {"in_pathway": 1, "durable_employment": 2, "has_resources": 4}
"""The bit of each status in ``open_flags``."""


def stably_housed_flag(participant: Any, day: Any, cut: Cut,
                       stable: Sequence[str] = DEFAULT_STABLE_HOUSING) -> sa.ColumnElement[bool]:
    """``stably_housed`` as one look-up: the latest housing entry on or before D (by start
    date, then start event) is found first, from the intervals alone, and only its start
    event is read (for its type), when it is still open at D."""
    iv = aliased(EventInterval)
    start = aliased(Event)
    end = interval_end(iv, cut)
    latest_open = (
        sa.select(sa.case((sa.or_(end.is_(None), day < end), iv.start_event_id),
                          else_=sa.null()))
        .select_from(iv)
        .where(iv.participant_id == participant, iv.family == Family.HOUSING.value,
               interval_valid(iv, cut), iv.start_date <= day)
        .order_by(iv.start_date.desc(), iv.start_event_id.desc())
        .limit(1)
        .correlate_except(iv)
        .scalar_subquery()
    )
    return (sa.select(sa.literal(1)).select_from(start)
            .where(start.id == latest_open, start.category.in_(list(stable)))
            .correlate_except(start)
            .exists())
