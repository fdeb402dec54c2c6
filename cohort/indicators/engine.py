"""Compute an action's declared indicators for a cut, with targets and rates.

The programme file declares, per action, a list of indicators: a catalogue ``kind`` with
its ``params``, the sheet's French label, a one-sentence definition, what is counted
(numerator) and against what (denominator: another indicator via ``rate_of``, or the
target). This module only reads those declarations and runs the catalogue's queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.errors import NotFound, Rejected
from cohort.indicators.base import Cut, without_jit
from cohort.indicators.catalogue import COUNT_KINDS, KINDS, Context, Values
from cohort.models import Action, Programme


@dataclass
class IndicatorResult:
    action: str
    code: str
    kind: str
    label_fr: str
    definition: str
    numerator: str
    denominator: str | None
    values: Values
    breakdowns: list[str]
    target: dict[str, Any] | None
    rate_of: str | None
    is_count: bool
    extra_counts: list[str] = field(default_factory=list)


def programme_by_code(session: Session, code: str) -> Programme:
    programme = session.execute(
        sa.select(Programme).where(Programme.code == code)).scalar_one_or_none()
    if programme is None:
        raise NotFound("programme not found", errors={"programme": ["not found"]})
    return programme


def all_programmes(session: Session) -> list[Programme]:
    """Every programme with its actions, by code (what the pages' pickers offer)."""
    return list(session.execute(sa.select(Programme).order_by(Programme.code)).scalars())


def actions_of(session: Session, programme: Programme, *, action: str | None = None,
               departement: str | None = None) -> list[Action]:
    query = sa.select(Action).where(Action.programme_id == programme.id).order_by(Action.code)
    if action:
        query = query.where(Action.code == action)
    if departement:
        query = query.where(Action.departement == departement)
    found = list(session.execute(query).scalars())
    if action and not found:
        raise NotFound("action not found", errors={"action": ["not found"]})
    return found


def settings_for(programme: Programme, action: Action) -> dict[str, Any]:
    return {**programme.settings, **action.settings}


def compute_action(session: Session, programme: Programme, action: Action,
                   cut: Cut) -> list[IndicatorResult]:
    """Every indicator the programme file declares for one action."""
    if cut.period_from > cut.period_to:
        raise Rejected("period_from", "is after period_to")
    without_jit(session)
    targets = {t["code"]: t for t in action.targets}
    results = []
    common = programme.settings.get("common_indicators", [])
    memo: dict[Any, Any] = {}
    for declared in [*action.indicators, *common]:
        kind = declared["kind"]
        params = dict(declared.get("params", {}))
        params.setdefault("breakdowns", declared.get("breakdowns", []))
        context = Context(session=session, action_ids=[action.id], cut=cut, params=params,
                          settings=settings_for(programme, action), memo=memo)
        values = KINDS[kind](context)
        parts = [p for p in declared.get("breakdowns", []) if p in values]
        extras = [k for k in values if k not in ("value", *parts)
                  and kind in COUNT_KINDS]
        results.append(IndicatorResult(
            action=action.code, code=declared["code"], kind=kind,
            label_fr=declared["label_fr"], definition=declared.get("definition", ""),
            numerator=declared.get("numerator", ""), denominator=declared.get("denominator"),
            values=values, breakdowns=parts,
            target=targets.get(declared["target"]) if declared.get("target") else None,
            rate_of=declared.get("rate_of"), is_count=kind in COUNT_KINDS,
            extra_counts=extras,
        ))
    return results
