"""Cohorts (domain.md §7): what becomes of people beyond the count of schemes.

A person's *entry* is the earliest start among all their enrolments in the selected
actions known at the cut (same date: the earlier recorded); a re-entry is never a new
entry. Their *exit* is the end of that first enrolment. Cohorts group entries by the whole
months, quarters or years that P overlaps. For each horizon H, members whose H is after A
(or, for exit-based horizons, who have not exited) are censored; among the others, those
whose situation at H is known are counted in each status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cohort.domain import calendar
from cohort.domain.followup import CheckStatus, Outcome
from cohort.domain.pathway_status import DEFAULT_STABLE_HOUSING, STATUS_NAMES
from cohort.indicators import status
from cohort.indicators.base import (
    Cut,
    check_counts,
    end_as_of,
    enrolment_known,
    event_counts,
    person_of_id,
    recorded,
    without_jit,
)
from cohort.indicators.sqlfuncs import add_days, add_months, month_index
from cohort.models import Enrolment, Event, FollowUpCheck

HORIZON_MONTHS = {"entry": 0, "exit": 0, "exit_6m": 6, "entry_6m": 6, "entry_12m": 12,
                  "entry_18m": 18, "entry_24m": 24}
HORIZONS = tuple(HORIZON_MONTHS)
STATUS_COLUMNS = STATUS_NAMES
# Months per cohort; "all" pools every entry of the period into one cohort (issue 19:
# coarser grains publish more cells under the same disclosure control).
GRAINS = {"month": 1, "quarter": 3, "semester": 6, "year": 12, "all": 0}


@dataclass(frozen=True)
class CohortRow:
    cohort: str
    horizon: str
    members: int
    censored: int
    observable: int
    known: int
    counts: dict[str, int]

    @property
    def share_unknown(self) -> float | None:
        return None if self.observable == 0 else 1 - self.known / self.observable

    def share(self, column: str) -> float | None:
        return None if self.known == 0 else self.counts[column] / self.known


def _label(key: int, grain: str, cut: Cut) -> str:
    if grain == "all":
        return f"{cut.period_from:%Y-%m} à {cut.period_to:%Y-%m}"
    if grain == "year":
        return f"{key}"
    if grain == "semester":
        return f"{key // 2}-S{key % 2 + 1}"
    if grain == "quarter":
        return f"{key // 4}-T{key % 4 + 1}"
    return f"{key // 12}-{key % 12 + 1:02d}"


def _bounds(cut: Cut, grain: str) -> tuple[int, int, int, int]:
    """The month-index range of the whole periods that P overlaps, the months per cohort
    and the month a cohort key counts from (a cohort key is (month - offset) // size)."""
    start = cut.period_from.year * 12 + cut.period_from.month - 1
    stop = cut.period_to.year * 12 + cut.period_to.month - 1
    if grain == "all":
        return start, stop, stop - start + 1, start
    size = GRAINS[grain]
    return start // size * size, stop // size * size + size - 1, size, 0


def cohort_table(session: Session, action_ids: Sequence[int], cut: Cut, *, grain: str = "quarter",
                 stable_housing: Sequence[str] = DEFAULT_STABLE_HOUSING
                 ) -> list[CohortRow]:
    """Every (cohort, horizon) row, computed in one statement."""
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {sorted(GRAINS)}")
    without_jit(session)
    e = aliased(Enrolment)
    person = person_of_id(e.participant_id)
    rank = sa.func.row_number().over(
        partition_by=person, order_by=(e.start_date, e.recorded_at, e.id))
    firsts = (
        sa.select(person.label("person_id"), e.participant_id.label("participant_id"),
                  e.start_date.label("entry"), end_as_of(e, cut).label("exit"),
                  rank.label("rank"))
        .where(e.action_id.in_(list(action_ids)), enrolment_known(e, cut))
        .subquery()
    )
    first, last, size, offset = _bounds(cut, grain)
    entry_month = month_index(firsts.c.entry)
    # Each stage is a materialized CTE so that no database inlines it back into the next:
    # the members once (not once per horizon), then per (member, horizon) whether they
    # are censored and known once, then the statuses only of the known.
    members = (
        sa.select(firsts.c.participant_id, firsts.c.entry, firsts.c.exit,
                  ((entry_month - offset) // size).label("cohort_key"))
        .where(firsts.c.rank == 1, entry_month >= first, entry_month <= last)
        .cte("members").prefix_with("MATERIALIZED")
    )
    # Each horizon is a base date (entry or exit) plus N months. add_months never goes
    # backwards, so "H ≤ A" is "base ≤ the latest base whose H is on or before A", a date
    # computed here once: censored members are counted from the members alone, and only
    # the observable ones get a horizon row, its date and its known/status tests.
    bases = {name: (members.c.exit if name.startswith("exit") else members.c.entry, months)
             for name, months in HORIZON_MONTHS.items()}
    latest = {name: _latest_base(cut.as_of, months) for name, (_, months) in bases.items()}
    censored_counts = sa.union_all(*[
        sa.select(members.c.cohort_key, sa.literal(name).label("horizon"),
                  sa.func.count().label("members"),
                  sa.func.sum(sa.case((sa.or_(base.is_(None), base > latest[name]), 1),
                                      else_=0)).label("censored"))
        .group_by(members.c.cohort_key)
        for name, (base, _) in bases.items()
    ])
    rows = sa.union_all(*[
        sa.select(members.c.cohort_key, sa.literal(name).label("horizon"),
                  members.c.participant_id,
                  sa.type_coerce(base if months == 0 else add_months(base, months),
                                 sa.Date).label("day"),
                  sa.literal(int(months == 0)).label("at_base"))
        .where(base.is_not(None), base <= latest[name])
        for name, (base, months) in bases.items()
    ]).subquery("horizons")

    # At entry or exit (H = the base date) the situation is known without a look-up: the
    # first enrolment itself is in force that day (start ≤ end, and its end as of the cut
    # is the exit), and it is known at the cut (members are drawn from known enrolments).
    observed = (
        sa.select(rows.c.cohort_key, rows.c.horizon, rows.c.participant_id, rows.c.day,
                  sa.case((rows.c.at_base == 1, 1),
                          (_known(rows.c.participant_id, rows.c.day, cut), 1),
                          else_=0).label("known"))
        .cte("observed").prefix_with("MATERIALIZED")
    )
    # The statuses of the known rows only, in two look-ups of the participant's intervals
    # per row (the three "open at H" statuses summed as bits, then the latest housing)
    # where four EXISTS read the same intervals four times. Materialized: each flag is
    # read several times below, and an inlined scalar subquery is run at each mention.
    known_rows = (
        sa.select(observed.c.cohort_key, observed.c.horizon,
                  status.open_flags(observed.c.participant_id, observed.c.day,
                                    cut).label("open_flags"),
                  sa.case((status.stably_housed_flag(observed.c.participant_id,
                                                     observed.c.day, cut, stable_housing),
                           1), else_=0).label("housed"))
        .where(observed.c.known == 1)
        .cte("known_rows").prefix_with("MATERIALIZED")
    )
    flags = {name: known_rows.c.open_flags.in_([v for v in range(8) if v & bit])
             for name, bit in status.OPEN_FLAGS.items()}
    flags["stably_housed"] = known_rows.c.housed == 1

    def tally(condition: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    zero = sa.literal(0)
    statuses = (
        sa.select(known_rows.c.cohort_key, known_rows.c.horizon, zero.label("members"),
                  zero.label("censored"), sa.func.count().label("known"),
                  *[tally(flags[name]).label(name) for name in STATUS_COLUMNS])
        .group_by(known_rows.c.cohort_key, known_rows.c.horizon)
    )
    counted = sa.union_all(
        sa.select(*censored_counts.subquery().c, zero.label("known"),
                  *[zero.label(name) for name in STATUS_COLUMNS]),
        statuses,
    ).subquery("counted")
    query = (sa.select(counted.c.cohort_key, counted.c.horizon,
                       *[sa.func.sum(counted.c[name]).label(name)
                         for name in ("members", "censored", "known", *STATUS_COLUMNS)])
             .group_by(counted.c.cohort_key, counted.c.horizon))
    found = {(r.cohort_key, r.horizon): r for r in session.execute(query)}
    result = []
    for key in range((first - offset) // size, (last - offset) // size + 1):
        for horizon in HORIZONS:
            r = found.get((key, horizon))
            members_n = int(r.members) if r else 0
            censored_n = int(r.censored) if r else 0
            result.append(CohortRow(
                cohort=_label(key, grain, cut), horizon=horizon, members=members_n,
                censored=censored_n, observable=members_n - censored_n,
                known=int(r.known) if r else 0,
                counts={name: int(getattr(r, name)) if r else 0 for name in STATUS_COLUMNS},
            ))
    return result


def _latest_base(as_of: dt.date, months: int) -> dt.date:
    """The latest date d with d + months ≤ as_of (the same month arithmetic as the SQL
    ``add_months``): d + months is non-decreasing in d, so d ≤ this date ⟺ d + months ≤ A."""
    day = as_of - dt.timedelta(days=31 * months + 31)
    while calendar.add_months(day + dt.timedelta(days=1), months) <= as_of:
        day += dt.timedelta(days=1)
    return day


def _known(participant: Any, day: Any, cut: Cut) -> sa.ColumnElement[bool]:
    """Inside an enrolment of any action at H, reached by a follow-up check dated within
    45 days of H, or an event of any type in (H − 90 d, H].

    A check is dated by ``checked_on``, the day it was carried out (not its due date): it
    counts when done with the outcome ``reached`` (not reached or refused: the situation
    stays unknown; a cancelled check has no outcome), dated on or before A, and its result
    recorded before T. The checks are read through the participant index, a few per person.
    """
    e = aliased(Enrolment)
    end = end_as_of(e, cut)
    enrolled = (sa.select(sa.literal(1)).select_from(e)
                .where(e.participant_id == participant, enrolment_known(e, cut),
                       e.start_date <= day, sa.or_(end.is_(None), day <= end))
                .correlate_except(e).exists())
    c = aliased(FollowUpCheck)
    checked = (sa.select(sa.literal(1)).select_from(c)
               .where(c.participant_id == participant, c.status == CheckStatus.DONE.value,
                      c.outcome == Outcome.REACHED.value, c.checked_on <= cut.as_of,
                      recorded(c.recorded_at, cut), check_counts(c, cut),
                      c.checked_on >= add_days(day, -45), c.checked_on <= add_days(day, 45))
               .correlate_except(c).exists())
    ev = aliased(Event)
    recent = (sa.select(sa.literal(1)).select_from(ev)
              .where(ev.participant_id == participant, event_counts(ev, cut),
                     ev.date > add_days(day, -90), ev.date <= day)
              .correlate_except(ev).exists())
    return sa.or_(enrolled, checked, recent)


