"""The execution report as one plain, JSON-ready model (domain.md §8).

Every format renders this model and nothing else, so HTML, XLSX, CSV and JSON show the
same figures. The model is deterministic: no generation time, ordered keys and rows, and
a fingerprint of the data, so the same parameters on the same data give the same bytes.
Disclosure control is applied here, before any format sees a number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cohort import audit
from cohort.actors import Actor
from cohort.domain.pathway_status import DEFAULT_STABLE_HOUSING
from cohort.errors import NotFound, Rejected
from cohort.indicators import disclosure
from cohort.indicators.base import Cut
from cohort.indicators.cohorts import cohort_table
from cohort.indicators.engine import IndicatorResult, compute_action
from cohort.indicators.publish import SUPPRESSED, Rules, publish_cohorts, publish_indicators
from cohort.indicators.queries import cut_for, rules_for
from cohort.models import Action, Programme
from cohort.reference import actions_of, programme_by_code
from cohort.report import figures
from cohort.report.actuals import actuals_for
from cohort.report.finance import ActionBudget, statement
from cohort.snapshot import can_share, run_shared

FOLLOWUP_CODES = ("checks_due", "checks_done", "checks_overdue", "checks_reached",
                  "six_months_in_pathway", "six_months_durable_employment",
                  "six_months_stably_housed", "six_months_has_resources")
QUALITY = ("quiet_enrolments", "overdue_checks", "forced_enrolments", "voided_events")
QUALITY_LABELS = {
    "quiet_enrolments": "Accompagnements ouverts sans événement depuis 90 jours",
    "overdue_checks": "Suivis à six mois en retard",
    "forced_enrolments": "Entrées forcées hors critères d'éligibilité",
    "voided_events": "Événements annulés dans l'année",
}
HORIZON_LABELS = {"entry": "entrée", "exit": "sortie", "exit_6m": "sortie + 6 mois",
                  "entry_6m": "entrée + 6 mois", "entry_12m": "entrée + 12 mois",
                  "entry_18m": "entrée + 18 mois", "entry_24m": "entrée + 24 mois"}
DEPARTEMENT_LABELS = {"59": "Nord", "62": "Pas-de-Calais", "joint": "actions communes"}


_AUDITED = ("programme", "departement", "year", "as_of", "mode", "recorded_before")


def build(session: Session, actor: Actor, params: dict[str, Any], settings: dict[str, Any],
          *, today: dt.date) -> dict[str, Any]:
    """The report of a programme, a département (or the joint actions) and a year.

    It only reads: the shells compute it in a read transaction, then audit it with
    ``record_generation`` in a short unit of work (on SQLite a unit of work holds the
    database's write lock, which coordinators' writes would wait for)."""
    programme = programme_by_code(session, params["programme"])
    year = params["year"]
    if not programme.period_start.year <= year <= programme.period_end.year:
        raise Rejected("year", f"outside the programme ({programme.period_start.year}–"
                               f"{programme.period_end.year})")
    departement = params["departement"]
    actions = actions_of(session, programme, departement=departement)
    if not actions:
        raise NotFound("no action for this département", errors={"departement": ["not found"]})
    mode = params.get("mode") or "published"
    rules = rules_for(actor, actions, mode, settings)
    cut = cut_for(programme, {"period_from": dt.date(year, 1, 1),
                              "period_to": dt.date(year, 12, 31),
                              "as_of": params.get("as_of"),
                              "recorded_before": params.get("recorded_before")},
                  actor, today=today, mode=mode)
    ids = [a.id for a in actions]
    stable = programme.settings.get("stable_housing", DEFAULT_STABLE_HOUSING)
    parameters = {"programme": programme.code, "departement": departement, "year": year,
                  "as_of": cut.as_of.isoformat(), "mode": rules.mode,
                  "recorded_before": _iso(cut.recorded_before)}
    programme_id, source_sha256 = programme.id, programme.source_sha256
    # Independent read-only statements, the longest first; every task reads the
    # programme and its actions again in its own session (one per connection).
    tasks: dict[Any, Callable[[Session], Any]] = {
        "cohorts": lambda s: cohort_table(s, ids, cut, grain="quarter", stable_housing=stable),
        "monthly": lambda s: figures.accompanied_by_month(s, ids, cut),
        "quality": lambda s: figures.data_quality(s, ids, cut),
        "hours_set": lambda s: figures.planned_hours_provenance(s, ids),
        **{("indicators", a.id): partial(_indicators, programme_id, a.id, cut) for a in actions},
        "actuals": lambda s: {a: _actual(row) for a, row in actuals_for(s, ids, year).items()},
        "fingerprint": lambda s: figures.fingerprint(s, cut, parameters, source_sha256),
    }
    found = _compute(session, tasks, settings)
    results = [r for a in actions for r in found[("indicators", a.id)]]
    indicators = publish_indicators(results, rules)
    monthly = _protect_flat(found["monthly"], rules)
    quality = _protect_flat({(a, name): n for a, counts in found["quality"].items()
                             for name, n in counts.items()}, rules)
    cohort_rows = publish_cohorts(found["cohorts"], rules)
    actuals = found["actuals"]
    finance = statement(
        [ActionBudget(a.code, a.budget, actuals.get(a.id)) for a in actions],
        state_total_expected=(programme.settings.get("state_total_per_departement")
                              if departement in ("59", "62") else None))
    header = {
        **parameters,
        "programme_title": programme.title,
        "departement_label": DEPARTEMENT_LABELS.get(departement, departement),
        "period_from": cut.period_from.isoformat(), "period_to": cut.period_to.isoformat(),
        "notice": rules.notice,
        "k": rules.k if rules.mode == "published" else None,
        "rounding_base": rules.rounding_base if rules.mode == "published" else None,
        "fingerprint": found["fingerprint"],
    }
    months = [label for label, _, _ in figures.months_of(cut)]
    return _plain({
        "header": header,
        "actions": [_action_block(a, indicators, monthly, quality, months)
                    | {"planned_hours_set": found["hours_set"].get(a.id)} for a in actions],
        "cohorts": {"grain": "quarter", "horizon_labels": HORIZON_LABELS,
                    "rows": cohort_rows},
        "quality_labels": QUALITY_LABELS,
        "finance": finance,
    })


def record_generation(session: Session, actor: Actor, report: dict[str, Any], *,
                      fmt: str | None, now: dt.datetime) -> None:
    """Audit a report produced: its parameters as the header gives them, and the format."""
    header = report["header"]
    audit.append(session, actor, "report.generate", now=now,
                 details={**{key: header[key] for key in _AUDITED}, "format": fmt})


def _indicators(programme_id: int, action_id: int, cut: Cut,
                session: Session) -> list[IndicatorResult]:
    programme, action = session.get(Programme, programme_id), session.get(Action, action_id)
    assert programme is not None  # both read by the caller just before
    assert action is not None
    return compute_action(session, programme, action, cut)


def _compute(session: Session, tasks: dict[Any, Callable[[Session], Any]],
             settings: dict[str, Any]) -> dict[Any, Any]:
    """The report's statements on REPORT_WORKERS connections sharing one snapshot; in the
    caller's session alone when it is bound to one connection (its transaction may hold
    rows no other connection can see) or when one worker is configured."""
    bind = session.get_bind()
    workers = int(settings.get("REPORT_WORKERS", 1))
    if workers > 1 and isinstance(bind, Engine) and can_share(bind):
        return run_shared(bind, tasks, workers)
    return {key: task(session) for key, task in tasks.items()}


def _action_block(action: Action, indicators: list[dict[str, Any]],
                  monthly: dict[Any, Any], quality: dict[Any, Any],
                  months: list[str]) -> dict[str, Any]:
    own = [i for i in indicators if i["action"] == action.code]
    return {
        "code": action.code, "title": action.title, "departement": action.departement,
        "public": action.public, "territory": action.territory,
        "indicators": [i for i in own if i["code"] not in FOLLOWUP_CODES],
        "followups": [i for i in own if i["code"] in FOLLOWUP_CODES],
        "accompanied_by_month": [{"month": m, **monthly.get((action.id, m), _zero())}
                                 for m in months],
        "quality": {name: quality.get((action.id, name), _zero()) for name in QUALITY},
    }


def _zero() -> dict[str, Any]:
    return {"value": 0, "suppressed": False}


def _protect_flat(exact: dict[Any, int], rules: Rules) -> dict[Any, dict[str, Any]]:
    """Counts with no relation between them (months, quality figures): primary suppression
    and rounding in published mode, exact in internal mode."""
    if rules.mode == "internal":
        return {key: {"value": n, "suppressed": False} for key, n in exact.items()}
    keys = {key: f"{i}" for i, key in enumerate(sorted(exact, key=str))}
    protected = disclosure.protect([disclosure.Count(keys[k], n) for k, n in exact.items()],
                                   k=rules.k, rounding_base=rules.rounding_base)
    return {key: {"value": protected.values[keys[key]],
                  "suppressed": keys[key] in protected.reasons} for key in exact}


def _actual(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"total": row.total, "state_effective": row.state_effective,
            "departement": row.departement, "departement_valuation": row.departement_valuation,
            "other": row.other}


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _plain(value: Any) -> Any:
    """JSON-ready: Decimals as numbers (whole euros as integers), dates as ISO text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


__all__ = ["SUPPRESSED", "build"]
