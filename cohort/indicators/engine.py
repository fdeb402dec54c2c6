"""Compute an action's declared indicators for a cut, with targets and rates.

The programme file declares, per action, a list of indicators: a catalogue ``kind`` with
its ``params``, the sheet's French label, a one-sentence definition, what is counted
(numerator) and against what (denominator: another indicator via ``rate_of``, or the
target). This module only reads those declarations and runs the catalogue's queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from cohort.errors import Rejected
from cohort.indicators.base import Cut, without_jit
from cohort.indicators.catalogue import COUNT_KINDS, KINDS, Context, Values
from cohort.indicators.codebook import unit_of
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
    unit: str = "people"


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
    declarations = [*action.indicators, *common]
    statuses = tuple(d.get("params", {}).get("status") for d in declarations
                     if d["kind"] == "status_on_date" and d.get("params", {}).get("status"))
    for declared in declarations:
        kind = declared["kind"]
        params = dict(declared.get("params", {}))
        params.setdefault("breakdowns", declared.get("breakdowns", []))
        context = Context(session=session, action_ids=[action.id], cut=cut, params=params,
                          settings=settings_for(programme, action), memo=memo,
                          statuses=statuses)
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
            extra_counts=extras, unit=unit_of(kind, settings_for(programme, action)),
        ))
    return results
