"""The catalogue of indicator kinds: code → set-based query. Programme files pick a kind
and give its parameters; adding an indicator to an action needs no Python.

Every builder returns named exact counts (``value`` and, where declared, breakdown parts
such as ``rsa`` and ``under_26``, or ``by_<reason>``), computed in one SQL statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cohort.domain.enums import EventType, Family
from cohort.domain.pathway_status import DEFAULT_STABLE_HOUSING
from cohort.indicators import status
from cohort.indicators.base import (
    Cut,
    accompanied,
    accompanied_people,
    end_as_of,
    enrolment_known,
    event_counts,
    interval_end,
    interval_valid,
    person_of_id,
    recorded,
    start_event,
)
from cohort.indicators.followup_counts import followup_counts
from cohort.indicators.sqlfuncs import add_months, birth_month_index, month_index
from cohort.models import Enrolment, Event, EventInterval, Operation

Values = dict[str, int | float]


@dataclass(frozen=True)
class Context:
    session: Session
    action_ids: list[int]
    cut: Cut
    params: dict[str, Any]
    settings: dict[str, Any]
    # Shared by the indicators of one compute_action call: results that several of them
    # read (the follow-up counts are one GROUP BY for all eight follow-up indicators).
    memo: dict[Any, Any] = field(default_factory=dict, compare=False)
    # The statuses every ``status_on_date`` indicator of the same call asks for: counted
    # together, in one pass over the population (issue 23: three passes at 1M events).
    statuses: tuple[str, ...] = ()


def _count_people(ctx: Context, population: sa.Subquery, condition: Any = None,
                  breakdowns: Sequence[str] = ()) -> Values:
    """Count a population (one row per person), with its declared breakdowns."""
    where = [] if condition is None else [condition]
    columns = [sa.func.count().label("value")]
    for part in breakdowns:
        columns.append(sa.func.coalesce(sa.func.sum(
            sa.case((population.c[part].is_(True), 1), else_=0)), 0).label(part))
    row = ctx.session.execute(sa.select(*columns).select_from(population).where(*where)).one()
    return {k: int(v) for k, v in row._mapping.items()}


def accompanied_count(ctx: Context) -> Values:
    """People accompanied in P (start ≤ P.to and no end or end ≥ P.from)."""
    return _count_people(ctx, accompanied(ctx.action_ids, ctx.cut),
                         breakdowns=ctx.params.get("breakdowns", ()))


def _operations(ctx: Context) -> Any:
    cut = ctx.cut
    where = [Operation.action_id.in_(ctx.action_ids), Operation.start_date <= cut.period_to,
             sa.or_(Operation.end_date.is_(None), Operation.end_date >= cut.period_from),
             recorded(Operation.created_at, cut)]
    if kinds := ctx.params.get("operation_kinds"):
        where.append(Operation.kind.in_(kinds))
    return where


def operations_active(ctx: Context) -> Values:
    """Operations of the action active in P (start ≤ P.to and no end or end ≥ P.from)."""
    count = ctx.session.execute(
        sa.select(sa.func.count(sa.distinct(Operation.id))).where(*_operations(ctx))
    ).scalar_one()
    return {"value": int(count)}


def planned_hours(ctx: Context) -> Values:
    """Planned insertion hours of the action's operations active in P, and in FTE."""
    total = ctx.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(Operation.planned_hours), 0))
        .where(*_operations(ctx))
    ).scalar_one()
    return _hours(total, ctx)


def realised_hours(ctx: Context) -> Values:
    """Realised insertion hours (clause_hours events in P on the action's operations)."""
    ev = _events_in_period(ctx, [EventType.CLAUSE_HOURS.value])
    total = ctx.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(ev.c.hours), 0))
        .join(Operation, Operation.id == ev.c.operation_id)
        .where(Operation.action_id.in_(ctx.action_ids), event_counts(ev.c, ctx.cut))
    ).scalar_one()
    return _hours(total, ctx)


def _events_in_period(ctx: Context, types: Sequence[str]) -> Any:
    """The events of these types dated in P, found first (type, date index) and kept
    apart: joined directly, PostgreSQL walked the whole enrolment (or operation) index of
    the event table in order for a merge join, 0.5 s where these are a few thousand rows."""
    ev = aliased(Event)
    return (sa.select(ev.id, ev.participant_id, ev.enrolment_id, ev.operation_id, ev.hours,
                      ev.date, ev.recorded_at)
            .where(ev.type.in_(list(types)), ev.date >= ctx.cut.period_from,
                   ev.date <= ctx.cut.period_to)
            .cte("events_in_period").prefix_with("MATERIALIZED"))


def _hours(total: Any, ctx: Context) -> Values:
    hours = Decimal(total or 0)
    fte_hours = Decimal(str(ctx.settings.get("fte_hours", 1820)))
    return {"value": float(hours), "fte": float(round(hours / fte_hours, 2))}


def accompanied_or_operation_event(ctx: Context) -> Values:
    """Accompanied in P, or with an event in P linked to one of the action's operations."""
    cut = ctx.cut
    ev = aliased(Event)
    people = sa.union(
        accompanied_people(ctx.action_ids, cut),
        sa.select(person_of_id(ev.participant_id)).select_from(ev)
        .join(Operation, Operation.id == ev.operation_id)
        .where(Operation.action_id.in_(ctx.action_ids), ev.date >= cut.period_from,
               ev.date <= cut.period_to, event_counts(ev, cut)),
    ).subquery()
    return {"value": int(ctx.session.execute(
        sa.select(sa.func.count()).select_from(people)).scalar_one())}


def events_in_enrolment(ctx: Context) -> Values:
    """Events of the given types dated in P, inside one of the participant's enrolments
    in the action (start ≤ date ≤ end, or open)."""
    cut = ctx.cut
    ev, e = aliased(Event), aliased(Enrolment)
    end = end_as_of(e, cut)
    inside = sa.select(sa.literal(1)).select_from(e).where(
        e.participant_id == ev.participant_id, e.action_id.in_(ctx.action_ids),
        enrolment_known(e, cut), e.start_date <= ev.date, sa.or_(end.is_(None), ev.date <= end)
    ).correlate_except(e).exists()
    count = ctx.session.execute(
        sa.select(sa.func.count()).select_from(ev).where(
            ev.type.in_(ctx.params["event_types"]), ev.date >= cut.period_from,
            ev.date <= cut.period_to, event_counts(ev, cut), inside)
    ).scalar_one()
    return {"value": int(count)}


def _action_enrolments(ctx: Context) -> Any:
    e = aliased(Enrolment)
    return sa.select(e.id).where(e.action_id.in_(ctx.action_ids), enrolment_known(e, ctx.cut))


def events_on_enrolments(ctx: Context) -> Values:
    """Events of a type dated in P on the action's enrolments; also the people concerned."""
    ev = _events_in_period(ctx, ctx.params["event_types"])
    row = ctx.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(person_of_id(ev.c.participant_id))))
        .select_from(ev)
        .where(ev.c.enrolment_id.in_(_action_enrolments(ctx)), event_counts(ev.c, ctx.cut))
    ).one()
    return {"value": int(row[0]), "people": int(row[1])}


def positive_exits(ctx: Context) -> Values:
    """Enrolments ended in P whose participant, on the end date, is in durable employment or
    qualifying training, or starts one within 3 months after it (and by A)."""
    cut = ctx.cut
    e = aliased(Enrolment)
    end = end_as_of(e, cut)
    later = aliased(Event)
    starts_soon = sa.select(sa.literal(1)).select_from(later).where(
        later.participant_id == e.participant_id, event_counts(later, cut),
        later.date > end, later.date <= add_months(end, 3),
        sa.or_(sa.and_(later.type == EventType.EMPLOYMENT_START.value, status.durable(later)),
               sa.and_(later.type == EventType.TRAINING_START.value,
                       later.qualifying.is_(True)))
    ).correlate_except(later).exists()
    positive = sa.or_(status.in_durable_employment(e.participant_id, end, cut),
                      status.in_qualifying_training(e.participant_id, end, cut), starts_soon)
    breakdowns = ctx.params.get("breakdowns", ())
    columns = [sa.func.count().label("value")]
    for part in breakdowns:
        column = e.rsa_at_entry if part == "rsa" else e.under_26
        columns.append(sa.func.coalesce(sa.func.sum(sa.case((column.is_(True), 1), else_=0)),
                                        0).label(part))
    row = ctx.session.execute(
        sa.select(*columns).select_from(e).where(
            e.action_id.in_(ctx.action_ids), enrolment_known(e, cut),
            end >= cut.period_from, end <= cut.period_to, positive)
    ).one()
    return {k: int(v) for k, v in row._mapping.items()}


def people_with_interval(ctx: Context) -> Values:
    """Accompanied in P with an interval of a family, belonging to one of their enrolments
    in the action, overlapping P (start ≤ P.to and no end or end > P.from)."""
    cut = ctx.cut
    population = accompanied(ctx.action_ids, cut)
    iv, start = aliased(EventInterval), aliased(Event)
    end = interval_end(iv, cut)
    has = sa.select(sa.literal(1)).select_from(iv).join(start, start_event(start, iv, cut)
                                                        ).where(
        iv.participant_id == population.c.participant_id,
        iv.family == ctx.params["family"], interval_valid(iv, cut),
        start.enrolment_id.in_(_action_enrolments(ctx)),
        iv.start_date <= cut.period_to, sa.or_(end.is_(None), end > cut.period_from)
    ).correlate_except(iv, start).exists()
    return _count_people(ctx, population, has, ctx.params.get("breakdowns", ()))


def capacity_units(ctx: Context) -> Values:
    """Measures in use on min(P.to, A): open enrolments weighted by intensity (and how
    many enrolments that is, so that publishing can protect a small number of youths)."""
    day = ctx.cut.last_day
    e = aliased(Enrolment)
    end = end_as_of(e, ctx.cut)
    weights = ctx.settings.get("intensity_units", {"reinforced": 1, "simple": 0.5})
    weight = sa.case(*[(e.intensity == k, float(v)) for k, v in weights.items()], else_=0.0)
    total, measures = ctx.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(weight), 0), sa.func.count()).where(
            e.action_id.in_(ctx.action_ids), enrolment_known(e, ctx.cut), e.start_date <= day,
            sa.or_(end.is_(None), end >= day))
    ).one()
    return {"value": float(total), "measures": int(measures)}


def _enrolled_in_action(ctx: Context, participant: Any) -> sa.ColumnElement[bool]:
    e = aliased(Enrolment)
    return sa.select(sa.literal(1)).select_from(e).where(
        e.participant_id == participant, e.action_id.in_(ctx.action_ids),
        enrolment_known(e, ctx.cut)).correlate_except(e).exists()


def housed_via_programme(ctx: Context) -> Values:
    """Households enrolled in the action with a housing entry through it dated in P."""
    cut = ctx.cut
    ev = aliased(Event)
    count = ctx.session.execute(
        sa.select(sa.func.count(sa.distinct(person_of_id(ev.participant_id)))).select_from(ev)
        .where(ev.type == EventType.HOUSING_ENTRY.value, ev.via_programme.is_(True),
               ev.date >= cut.period_from, ev.date <= cut.period_to, event_counts(ev, cut),
               _enrolled_in_action(ctx, ev.participant_id))
    ).scalar_one()
    return {"value": int(count)}


def housing_exits(ctx: Context) -> Values:
    """Households leaving a home obtained through the action, in total and per reason
    (a household with two exits of different reasons counts under both)."""
    cut = ctx.cut
    ev, iv, start = aliased(Event), aliased(EventInterval), aliased(Event)
    closes_programme_home = sa.select(sa.literal(1)).select_from(iv).join(
        start, start_event(start, iv, cut)).where(
        iv.end_event_id == ev.id, interval_valid(iv, cut), start.via_programme.is_(True)
    ).correlate_except(iv, start).exists()
    # The (household, reason) pairs once, counted here: few rows, where two statements
    # (total, then per reason) ran the whole search twice. The selective test (enrolled
    # in the action) comes before the per-exit look-ups.
    pairs = ctx.session.execute(
        sa.select(person_of_id(ev.participant_id).label("person_id"),
                  ev.category.label("reason"))
        .select_from(ev)
        .where(ev.type == EventType.HOUSING_EXIT.value, ev.date >= cut.period_from,
               ev.date <= cut.period_to, _enrolled_in_action(ctx, ev.participant_id),
               event_counts(ev, cut), closes_programme_home)
        .distinct()).all()
    values: Values = {"value": len({person for person, _ in pairs})}
    for reason in ctx.params.get("reasons", ("moved_by_choice", "eviction", "other")):
        values[f"by_{reason}"] = sum(1 for _, found in pairs if found == reason)
    return values


def _turned_18(ctx: Context, population: sa.Subquery) -> sa.ColumnElement[bool]:
    month_18 = birth_month_index(population.c.birth_month) + 216
    first = ctx.cut.period_from.year * 12 + ctx.cut.period_from.month - 1
    last = ctx.cut.period_to.year * 12 + ctx.cut.period_to.month - 1
    return sa.and_(month_18 >= first, month_18 <= last)


def turned_18(ctx: Context) -> Values:
    """Accompanied in P whose 18th-birthday month overlaps P."""
    population = accompanied(ctx.action_ids, ctx.cut, birth_month=True)
    return _count_people(ctx, population, _turned_18(ctx, population))


def link_person_by_deadline(ctx: Context) -> Values:
    """Of those who turned 18 in P, those who chose their link person by the end of the
    third month after their 18th-birthday month."""
    population = accompanied(ctx.action_ids, ctx.cut, birth_month=True)
    ev = aliased(Event)
    deadline = birth_month_index(population.c.birth_month) + 216 + 3
    chose = sa.select(sa.literal(1)).select_from(ev).where(
        ev.participant_id == population.c.participant_id,
        ev.type == EventType.LINK_PERSON_CHOSEN.value, event_counts(ev, ctx.cut),
        month_index(ev.date) <= deadline).correlate_except(ev).exists()
    return _count_people(ctx, population, sa.and_(_turned_18(ctx, population), chose))


def status_on_date(ctx: Context) -> Values:
    """Of those accompanied in P, those in the status on min(P.to, A, end of their
    latest-starting enrolment in the action overlapping P). The statuses the call's other
    indicators ask for are counted in the same statement, the population ranked once."""
    stable = tuple(ctx.settings.get("stable_housing", DEFAULT_STABLE_HOUSING))
    wanted = tuple(dict.fromkeys((*ctx.statuses, ctx.params["status"])))
    key = ("status_on_date", tuple(ctx.action_ids), ctx.cut, stable, wanted)
    if key not in ctx.memo:
        population = accompanied(ctx.action_ids, ctx.cut)
        last = ctx.cut.last_day
        day = sa.case((population.c.end_date < last, population.c.end_date), else_=last)
        counts = [sa.func.coalesce(sa.func.sum(sa.case(
            (status.at_date(name, population.c.participant_id, day, ctx.cut, stable), 1),
            else_=0)), 0).label(name) for name in wanted]
        row = ctx.session.execute(sa.select(*counts).select_from(population)).one()
        ctx.memo[key] = {name: int(row._mapping[name]) for name in wanted}
    return {"value": ctx.memo[key][ctx.params["status"]]}


def followup_checks(ctx: Context) -> Values:
    """Six-month checks whose due date is in P: one of their counts (``params.count``:
    due, done, overdue, reached, not_reached, refused, or a situation among the reached)."""
    cut = ctx.cut
    key = ("followup_counts", tuple(ctx.action_ids), cut)
    if key not in ctx.memo:
        ctx.memo[key] = followup_counts(ctx.session, action_ids=ctx.action_ids,
                                        period_from=cut.period_from, period_to=cut.period_to,
                                        as_of=cut.as_of, recorded_before=cut.recorded_before)
    per_action = ctx.memo[key]
    return {"value": sum(counts[ctx.params["count"]] for counts in per_action.values())}


KINDS: dict[str, Callable[[Context], Values]] = {
    "accompanied": accompanied_count,
    "accompanied_or_operation_event": accompanied_or_operation_event,
    "operations_active": operations_active,
    "planned_hours": planned_hours,
    "realised_hours": realised_hours,
    "events_in_enrolment": events_in_enrolment,
    "events_on_enrolments": events_on_enrolments,
    "positive_exits": positive_exits,
    "people_with_interval": people_with_interval,
    "capacity_units": capacity_units,
    "housed_via_programme": housed_via_programme,
    "housing_exits": housing_exits,
    "turned_18": turned_18,
    "link_person_by_deadline": link_person_by_deadline,
    "status_on_date": status_on_date,
    "followup_checks": followup_checks,
}

# Kinds whose values count people or events (disclosure applies); the others are volumes.
COUNT_KINDS = frozenset(KINDS) - {"planned_hours", "realised_hours", "capacity_units"}
FAMILIES = [f.value for f in Family]
