"""Effective budget amounts per action and year (domain.md §8).

Pilots record them for their own département's actions, administrators for any; an
unchanged re-submission is a no-op (a client may retry), and every change is audited
with the amounts (budget figures are not personal data).

The action is looked up in ``cohort.reference``, below both sides: a write service never
imports the indicator engine (the read side), and the report reads the amounts with
``cohort.report.actuals``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort import audit
from cohort.actors import Actor, Role
from cohort.errors import Conflict, Forbidden, Rejected
from cohort.models import Action, BudgetActual
from cohort.models.budget import AMOUNTS
from cohort.reference import actions_of, programme_by_code


@dataclass(frozen=True)
class Recorded:
    actual: BudgetActual
    changed: bool


def _may_record(actor: Actor, action: Action) -> None:
    if actor.is_admin:
        return
    if actor.role is Role.PILOT and actor.departement == action.departement:
        return
    raise Forbidden("budget amounts are recorded by the département's pilots or administrators")


def record_actual(session: Session, actor: Actor, programme_code: str, action_code: str,
                  year: int, data: dict[str, Any], *, now: dt.datetime) -> Recorded:
    """Create or replace the effective amounts of one action for one year; flush only.

    ``expected_version`` (optional) guards against overwriting a colleague's entry.
    """
    programme = programme_by_code(session, programme_code)
    action = actions_of(session, programme, action=action_code)[0]
    _may_record(actor, action)
    if not programme.period_start.year <= year <= programme.period_end.year:
        raise Rejected("year", f"outside the programme ({programme.period_start.year}–"
                               f"{programme.period_end.year})")
    amounts = {name: data.get(name) for name in AMOUNTS}
    valuation, share = amounts["departement_valuation"], amounts["departement"]
    if valuation is not None and share is not None and valuation > share:
        raise Rejected("departement_valuation", "exceeds the departement share")
    row = session.execute(sa.select(BudgetActual).where(
        BudgetActual.action_id == action.id, BudgetActual.year == year)
        .with_for_update()).scalar_one_or_none()
    expected = data.get("expected_version")
    if row is None:
        if expected not in (None, 0):
            raise Conflict("no amounts recorded yet", errors={"expected_version": ["stale"]})
        row = BudgetActual(action_id=action.id, year=year, recorded_at=now,
                           recorded_by_user_id=actor.user_id, **amounts)
        session.add(row)
        changed = True
    elif all(_same(getattr(row, k), v) for k, v in amounts.items()):
        return Recorded(row, changed=False)
    else:
        if expected is not None and expected != row.version:
            raise Conflict("the amounts changed since they were read",
                           errors={"expected_version": ["stale"]})
        for name, value in amounts.items():
            setattr(row, name, value)
        row.recorded_at, row.recorded_by_user_id = now, actor.user_id
        row.version += 1
        changed = True
    session.flush()
    audit.append(session, actor, "budget.record", now=now, target_type="action",
                 target_id=action.uuid, details={"year": year, "version": row.version, **{
                     k: None if v is None else str(v) for k, v in amounts.items()}})
    return Recorded(row, changed)


def _same(stored: Decimal | None, given: Decimal | None) -> bool:
    if stored is None or given is None:
        return stored is given
    return Decimal(stored) == Decimal(given)
