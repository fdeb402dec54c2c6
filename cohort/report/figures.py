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
    end_as_of,
    enrolment_known,
    event_counts,
    person_of_id,
    recorded,
)
from cohort.indicators.sqlfuncs import add_days
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
)

QUIET_DAYS = 90


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
    """Distinct people accompanied in each month of P, per action, in one statement."""
    months = months_of(cut)
    if not months or not action_ids:
        return {}
    table = sa.union_all(*(
        sa.select(sa.literal(label, sa.String).label("month"),
                  sa.literal(first, sa.Date).label("first"),
                  sa.literal(last, sa.Date).label("last"))
        for label, first, last in months)).subquery("months")
    e = aliased(Enrolment)
    end = end_as_of(e, cut)
    rows = session.execute(
        sa.select(e.action_id, table.c.month,
                  sa.func.count(sa.distinct(person_of_id(e.participant_id))))
        .select_from(e)
        .join(table, sa.and_(e.start_date <= table.c.last,
                             sa.or_(end.is_(None), end >= table.c.first)))
        .where(e.action_id.in_(action_ids), enrolment_known(e, cut))
        .group_by(e.action_id, table.c.month))
    return {(action_id, month): int(n) for action_id, month, n in rows}


def data_quality(session: Session, action_ids: list[int], cut: Cut) -> dict[int, dict[str, int]]:
    """Per action: open enrolments with no event for 90 days, overdue checks, enrolments
    forced past eligibility (started in P), events voided in P."""
    result = {a: {"quiet_enrolments": 0, "overdue_checks": 0, "forced_enrolments": 0,
                  "voided_events": 0} for a in action_ids}
    if not action_ids:
        return result
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
    if cut.recorded_before is not None:
        not_done = sa.or_(not_done, c.recorded_at >= cut.recorded_before)
    overdue = (sa.select(c.action_id, sa.func.count())
               .join(Enrolment, Enrolment.id == c.enrolment_id)
               .where(c.action_id.in_(action_ids), c.status != CheckStatus.CANCELLED.value,
                      c.due_date <= cut.period_to, c.window_end < cut.as_of,
                      end_as_of(Enrolment, cut).is_not(None), recorded(c.created_at, cut),
                      not_done)
               .group_by(c.action_id))
    start = dt.datetime.combine(cut.period_from, dt.time(), tzinfo=dt.UTC)
    stop = dt.datetime.combine(cut.period_to + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    concerned = (sa.select(Enrolment.action_id, Enrolment.participant_id)
                 .where(Enrolment.action_id.in_(action_ids),
                        enrolment_known(Enrolment, cut)).distinct().subquery())
    voided = (sa.select(concerned.c.action_id, sa.func.count(sa.distinct(EventVoid.event_id)))
              .join(Event, Event.id == EventVoid.event_id)
              .join(concerned, concerned.c.participant_id == Event.participant_id)
              .where(EventVoid.voided_at >= start, EventVoid.voided_at < stop,
                     recorded(EventVoid.voided_at, cut))
              .group_by(concerned.c.action_id))
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
        "operation": summary(sa.func.max(Operation.id), where=recorded(Operation.created_at, cut)),
        "budget_actual": summary(sa.func.max(BudgetActual.id), sa.func.sum(BudgetActual.version),
                                 where=recorded(BudgetActual.recorded_at, cut)),
    }
    text = json.dumps({"programme": programme_sha256, "parameters": parameters,
                       "tables": tables}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
