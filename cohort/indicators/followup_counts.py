"""Follow-up indicators (domain.md §7, "all" row), set-based: one GROUP BY statement.

Checks whose due date is in P = [from, to], as of A: a check exists as of A when its
enrolment's end is on or before A; it is done as of A when its check date is on or
before A; it is overdue when not done as of A and its window ended before A (due + 45
days < A by default). Among the reached, the situation is the status at the check date
stored on the check (in a pathway, durable employment, stably housed, has resources).
With ``recorded_before`` T, a check exists only if its enrolment's end was recorded
before T, and it is done only if its result was recorded before T; a check cancelled at or
after T (its enrolment reopened or cancelled later) still counts, as it did at T. (A due
date moved after T is seen as it is now: the schedule keeps no history of dates.) The checks of
a cancelled enrolment count nowhere, a done one included, unless the enrolment's
cancellation was recorded at or after T (indicators.base.check_counts).
Exact counts: disclosure control is applied by the caller. A read, so it lives on the read
side; the programme loader validates count names against ``domain.indicator_kinds``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.domain.followup import CheckStatus, Outcome
from cohort.domain.indicator_kinds import FOLLOWUP_COUNTS as COUNTS
from cohort.indicators.base import Cut, check_counts
from cohort.models import Enrolment, FollowUpCheck


def followup_counts(session: Session, *, action_ids: Sequence[int], period_from: dt.date,
                    period_to: dt.date, as_of: dt.date,
                    recorded_before: dt.datetime | None = None) -> dict[int, dict[str, int]]:
    """Per action id: checks due in P, done, overdue, by outcome, and situations reached."""
    c = FollowUpCheck
    done = sa.and_(c.status == CheckStatus.DONE.value, c.checked_on <= as_of)
    cut = Cut(period_from, period_to, as_of, recorded_before)
    live = c.status != CheckStatus.CANCELLED.value
    exists = [Enrolment.end_date <= as_of, check_counts(c, cut)]
    if recorded_before is not None:
        live = sa.or_(live, c.cancelled_at >= recorded_before)
        done = sa.and_(done, c.recorded_at < recorded_before)
        exists += [Enrolment.end_recorded_at < recorded_before,
                   c.created_at < recorded_before]
    reached = sa.and_(done, c.outcome == Outcome.REACHED.value)

    def total(condition: sa.ColumnElement[bool], name: str) -> sa.Label[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0).label(name)

    query = (
        sa.select(
            c.action_id,
            sa.func.count().label("due"),
            total(done, "done"),
            total(sa.and_(sa.not_(done), c.window_end < as_of), "overdue"),
            total(reached, "reached"),
            total(sa.and_(done, c.outcome == Outcome.NOT_REACHED.value), "not_reached"),
            total(sa.and_(done, c.outcome == Outcome.REFUSED.value), "refused"),
            total(sa.and_(reached, c.in_pathway.is_(True)), "in_pathway"),
            total(sa.and_(reached, c.durable_employment.is_(True)), "durable_employment"),
            total(sa.and_(reached, c.stably_housed.is_(True)), "stably_housed"),
            total(sa.and_(reached, c.has_resources.is_(True)), "has_resources"),
        )
        .join(Enrolment, Enrolment.id == c.enrolment_id)
        .where(c.action_id.in_(list(action_ids)), live,
               c.due_date >= period_from, c.due_date <= period_to, *exists)
        .group_by(c.action_id)
    )
    result = {action_id: dict.fromkeys(COUNTS, 0) for action_id in action_ids}
    for row in session.execute(query):
        result[row.action_id] = {name: int(getattr(row, name)) for name in COUNTS}
    return result
