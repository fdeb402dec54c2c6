"""The report's figures that are not catalogue indicators: accompanied per month, data
quality, and the fingerprint of the data. Set-based SQL, one statement per figure."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cohort.domain.calendar import add_months
from cohort.domain.followup import CheckStatus
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
from cohort.indicators.sqlfuncs import add_days, month_index
from cohort.models import (
    BudgetActual,
    Enrolment,
    Event,
    EventInterval,
    EventVoid,
    FollowUpCheck,
    Operation,
    Participant,
    ParticipantLink,
    Structure,
    User,
)

QUIET_DAYS = 90


def planned_hours_provenance(session: Session, action_ids: list[int]
                             ) -> dict[int, dict[str, Any]]:
    """Per action, when its operations' planned hours were last set, and by which
    structure and role (issue 18: a change of planned hours left no trace in the report)."""
    latest = (sa.select(Operation.action_id, sa.func.max(Operation.planned_hours_set_at)
                        .label("at"))
              .where(Operation.action_id.in_(action_ids),
                     Operation.planned_hours_set_at.is_not(None))
              .group_by(Operation.action_id).subquery())
    rows = session.execute(
        sa.select(latest.c.action_id, latest.c.at, User.role, Structure.name)
        .join(Operation, sa.and_(Operation.action_id == latest.c.action_id,
                                 Operation.planned_hours_set_at == latest.c.at))
        .join(User, User.id == Operation.planned_hours_set_by_user_id)
        .join(Structure, Structure.id == User.structure_id)
        .order_by(latest.c.action_id, Structure.name)).all()
    found: dict[int, dict[str, Any]] = {}
    for action_id, at, role, structure in rows:
        found.setdefault(action_id, {"set_at": at.date().isoformat(), "role": role,
                                     "structure": structure})
    return found


def months_of(cut: Cut) -> list[tuple[str, dt.date, dt.date]]:
    """The calendar months of P that have started by A: (label, first day, last day)."""
    months = []
    first = cut.period_from.replace(day=1)
    while first <= cut.last_day:
        last = add_months(first, 1) - dt.timedelta(days=1)
        months.append((first.strftime("%Y-%m"), max(first, cut.period_from),
                       min(last, cut.period_to)))
        first = add_months(first, 1)
    return months


def accompanied_by_month(session: Session, action_ids: list[int],
                         cut: Cut) -> dict[tuple[int, str], int]:
    """Distinct people accompanied in each month of P, per action, in one statement.

    An enrolment overlapping P covers the months from its start's (at the earliest P's
    first) to its end's (open: the last month started by A). Each person's enrolments in
    an action are merged into islands of months, so that a count per month is a running
    sum of +1 at an island's first month and −1 after its last: one sort, where joining
    every enrolment with every month expanded them twelvefold. Most people have one
    enrolment per action, which is its own island: only the others go through the window
    pass that merges overlapping spans (on SQLite it cost more than the rest together)."""
    months = months_of(cut)
    if not months or not action_ids:
        return {}
    without_jit(session)
    first = cut.period_from.year * 12 + cut.period_from.month - 1
    labels = {first + i: label for i, (label, _, _) in enumerate(months)}
    last = max(labels)
    e = aliased(Enrolment)
    end = end_as_of(e, cut)
    start_month, end_month = month_index(e.start_date), month_index(end)
    spans = (
        sa.select(e.action_id.label("action_id"),
                  person_of_id(e.participant_id).label("person_id"),
                  sa.case((start_month < first, first), else_=start_month).label("lo"),
                  sa.case((end.is_(None), last), (end_month > last, last),
                          else_=end_month).label("hi"))
        .where(*_overlapping(e, action_ids, cut))
        .cte("spans").prefix_with("MATERIALIZED")
    )
    person = (spans.c.action_id, spans.c.person_id)
    grouped = (sa.select(*person, sa.func.count().label("n"), sa.func.min(spans.c.lo).label("lo"),
                         sa.func.max(spans.c.hi).label("hi"))
               .group_by(*person).cte("grouped").prefix_with("MATERIALIZED"))
    several = (sa.select(spans)
               .join(grouped, sa.and_(grouped.c.action_id == spans.c.action_id,
                                      grouped.c.person_id == spans.c.person_id, grouped.c.n > 1))
               .subquery("several"))
    key = (several.c.action_id, several.c.person_id)
    order = (several.c.lo, several.c.hi)
    reach = sa.func.max(several.c.hi).over(partition_by=key, order_by=order, rows=(None, -1))
    starts = sa.select(*several.c, sa.case((sa.or_(reach.is_(None), several.c.lo > reach), 1),
                                           else_=0).label("new")).subquery("starts")
    island = sa.func.sum(starts.c.new).over(
        partition_by=(starts.c.action_id, starts.c.person_id),
        order_by=(starts.c.lo, starts.c.hi), rows=(None, 0))
    numbered = sa.select(*starts.c, island.label("island")).subquery("numbered")
    islands = sa.union_all(
        sa.select(grouped.c.action_id, grouped.c.lo, grouped.c.hi).where(grouped.c.n == 1),
        sa.select(numbered.c.action_id, sa.func.min(numbered.c.lo), sa.func.max(numbered.c.hi))
        .group_by(numbered.c.action_id, numbered.c.person_id, numbered.c.island),
    ).cte("islands").prefix_with("MATERIALIZED")
    steps = sa.union_all(
        sa.select(islands.c.action_id, islands.c.lo.label("month"),
                  sa.literal(1).label("delta")),
        sa.select(islands.c.action_id, (islands.c.hi + 1).label("month"),
                  sa.literal(-1).label("delta")),
    ).subquery("steps")
    changes = (sa.select(steps.c.action_id, steps.c.month,
                         sa.func.sum(steps.c.delta).label("delta"))
               .group_by(steps.c.action_id, steps.c.month).subquery("changes"))
    counts = sa.func.sum(changes.c.delta).over(partition_by=changes.c.action_id,
                                               order_by=changes.c.month)
    running = sa.select(changes.c.action_id, changes.c.month, counts.label("n")).subquery()
    result: dict[tuple[int, str], int] = {}
    # A few change points per action (at most one per month and one after the last).
    rows = sorted(session.execute(sa.select(running.c.action_id, running.c.month,
                                            running.c.n)))
    for action_id, month, n in rows:
        following = [m for a, m, _ in rows if a == action_id and m > month]
        upto = min(following) if following else last + 1
        for index in range(month, upto):
            if index in labels and n:
                result[(action_id, labels[index])] = int(n)
    return result


def _overlapping(e: Any, action_ids: list[int], cut: Cut) -> list[Any]:
    end = end_as_of(e, cut)
    return [e.action_id.in_(action_ids), enrolment_known(e, cut),
            e.start_date <= cut.period_to, sa.or_(end.is_(None), end >= cut.period_from)]


def data_quality(session: Session, action_ids: list[int], cut: Cut) -> dict[int, dict[str, int]]:
    """Per action: open enrolments with no event for 90 days, overdue checks, enrolments
    forced past eligibility (started in P), events voided in P."""
    result = {a: {"quiet_enrolments": 0, "overdue_checks": 0, "forced_enrolments": 0,
                  "voided_events": 0} for a in action_ids}
    if not action_ids:
        return result
    without_jit(session)
    e = aliased(Enrolment)
    ev = aliased(Event)
    recent = sa.select(sa.literal(1)).select_from(ev).where(
        ev.participant_id == e.participant_id, event_counts(ev, cut),
        ev.date > add_days(sa.literal(cut.as_of, sa.Date), -QUIET_DAYS)
    ).correlate_except(ev).exists()
    quiet = (sa.select(e.action_id, sa.func.count())
             .where(e.action_id.in_(action_ids), enrolment_known(e, cut),
                    end_as_of(e, cut).is_(None), ~recent)
             .group_by(e.action_id))
    forced = (sa.select(Enrolment.action_id, sa.func.count())
              .where(Enrolment.action_id.in_(action_ids), enrolment_known(Enrolment, cut),
                     Enrolment.forced.is_(True), Enrolment.start_date >= cut.period_from,
                     Enrolment.start_date <= cut.period_to)
              .group_by(Enrolment.action_id))
    c = FollowUpCheck
    not_done = sa.or_(c.status != CheckStatus.DONE.value, c.checked_on > cut.as_of)
    live = c.status != CheckStatus.CANCELLED.value
    if cut.recorded_before is not None:
        not_done = sa.or_(not_done, c.recorded_at >= cut.recorded_before)
        # Cancelled at or after T: it was still waiting at T (as followup_counts says).
        live = sa.or_(live, c.cancelled_at >= cut.recorded_before)
    overdue = (sa.select(c.action_id, sa.func.count())
               .join(Enrolment, Enrolment.id == c.enrolment_id)
               .where(c.action_id.in_(action_ids), live,
                      c.due_date <= cut.period_to, c.window_end < cut.as_of,
                      end_as_of(Enrolment, cut).is_not(None), recorded(c.created_at, cut),
                      check_counts(c, cut), not_done)
               .group_by(c.action_id))
    start = dt.datetime.combine(cut.period_from, dt.time(), tzinfo=dt.UTC)
    stop = dt.datetime.combine(cut.period_to + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    # The voids of the year first (few), then the actions their participants are enrolled
    # in: starting from the distinct (action, participant) pairs of every enrolment cost
    # 0.7 s on SQLite at 100,000 participants, with no void at all.
    voids = (sa.select(EventVoid.event_id, Event.participant_id)
             .join(Event, Event.id == EventVoid.event_id)
             .where(EventVoid.voided_at >= start, EventVoid.voided_at < stop,
                    recorded(EventVoid.voided_at, cut))
             .cte("voids").prefix_with("MATERIALIZED"))
    voided = (sa.select(Enrolment.action_id, sa.func.count(sa.distinct(voids.c.event_id)))
              .select_from(voids)
              .join(Enrolment, sa.and_(Enrolment.participant_id == voids.c.participant_id,
                                       Enrolment.action_id.in_(action_ids),
                                       enrolment_known(Enrolment, cut)))
              .group_by(Enrolment.action_id))
    for name, query in (("quiet_enrolments", quiet), ("forced_enrolments", forced),
                        ("overdue_checks", overdue), ("voided_events", voided)):
        for action_id, n in session.execute(query):
            result[action_id][name] = int(n)
    return result


def _stamp(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def fingerprint(session: Session, cut: Cut, parameters: dict[str, Any],
                programme_sha256: str) -> str:
    """SHA-256 of what the report was computed from: the programme file, the parameters,
    and per table the count and the latest change of the rows known at the cut. The same
    data gives the same fingerprint; any row added, voided or corrected changes it."""
    def summary(*columns: Any, where: Any = None) -> list[Any]:
        query = sa.select(sa.func.count(), *columns)
        row = session.execute(query if where is None else query.where(where)).one()
        return [_stamp(v) for v in row]

    tables = {
        "participant": summary(sa.func.max(Participant.id),
                               sa.func.count(Participant.merged_into_id),
                               sa.func.max(Participant.erased_at)),
        "participant_link": summary(sa.func.max(ParticipantLink.linked_at),
                                    sa.func.max(ParticipantLink.unlinked_at)),
        "enrolment": summary(sa.func.max(Enrolment.id), sa.func.sum(Enrolment.version),
                             sa.func.max(Enrolment.end_recorded_at),
                             sa.func.max(Enrolment.cancelled_at),
                             where=recorded(Enrolment.recorded_at, cut)),
        "event": summary(sa.func.max(Event.id), where=recorded(Event.recorded_at, cut)),
        "event_void": summary(sa.func.max(EventVoid.voided_at),
                              where=recorded(EventVoid.voided_at, cut)),
        "event_interval": summary(sa.func.max(EventInterval.id),
                                  sa.func.max(EventInterval.valid_to),
                                  where=recorded(EventInterval.valid_from, cut)),
        "followup_check": summary(sa.func.max(FollowUpCheck.id),
                                  sa.func.sum(FollowUpCheck.version),
                                  where=recorded(FollowUpCheck.created_at, cut)),
        "operation": summary(sa.func.max(Operation.id), sa.func.max(Operation.updated_at),
                             where=recorded(Operation.created_at, cut)),
        "budget_actual": summary(sa.func.max(BudgetActual.id), sa.func.sum(BudgetActual.version),
                                 where=recorded(BudgetActual.recorded_at, cut)),
    }
    text = json.dumps({"programme": programme_sha256, "parameters": parameters,
                       "tables": tables}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
