"""The financial statement and the convention's checks (domain.md §8). Pure: no database.

Per action: total budget, State credit pre-notified (programme file) and effective
(recorded actuals, else the file's figure), the Département's share and its valuation,
other funding. Checks: State share ≤ 50 % of each action (grant agreement art. 4.3),
Département contribution ≥ State contribution (convention art. 2.2), State total per
département = the programme's figure (500 000 €).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

STATE_SHARE_MAX = Decimal("0.5")
LINES = ("total", "state", "state_effective", "departement", "departement_valuation", "other")


@dataclass(frozen=True)
class ActionBudget:
    code: str
    planned: dict[str, Any]  # the programme file's [actions.budget]
    actual: dict[str, Any] | None  # recorded effective amounts, None when none


def _amount(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def line_of(budget: ActionBudget) -> dict[str, Decimal | None]:
    """Effective figures where recorded, else the planned ones."""
    planned = {k: _amount(budget.planned.get(k)) for k in LINES}
    line = dict(planned)
    line["state_effective"] = planned["state_effective"] or planned["state"]
    for name, value in (budget.actual or {}).items():
        if value is not None and name in line:
            line[name] = _amount(value)
    return line


def _euros(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f} €".replace(",", " ").replace(".", ",")


def statement(budgets: list[ActionBudget], *, state_total_expected: Any) -> dict[str, Any]:
    lines = []
    checks = []
    for budget in budgets:
        line = line_of(budget)
        share = (None if not line["total"] or line["state_effective"] is None
                 else line["state_effective"] / line["total"])
        lines.append({"action": budget.code, **line,
                      "state_share": None if share is None else share.quantize(Decimal("0.0001")),
                      "actuals_recorded": budget.actual is not None})
        if share is not None:
            checks.append({
                "code": "state_share_max_50", "action": budget.code,
                "label_fr": f"{budget.code} : part de l'État ≤ 50 % du coût de l'action "
                            "(convention attributive, art. 4.3)",
                "ok": share <= STATE_SHARE_MAX,
                "detail": f"{_euros(line['state_effective'])} sur {_euros(line['total'])} "
                          f"({share * 100:.1f} %)".replace(".", ",")})
    totals = {name: sum((ln[name] or Decimal(0) for ln in lines), Decimal(0)) for name in LINES}
    checks.append({
        "code": "departement_at_least_state", "action": None,
        "label_fr": "Contribution du Département ≥ contribution de l'État (convention, art. 2.2)",
        "ok": totals["departement"] >= totals["state_effective"],
        "detail": f"Département {_euros(totals['departement'])}, "
                  f"État {_euros(totals['state_effective'])}"})
    if state_total_expected is not None:
        expected = _amount(state_total_expected)
        checks.append({
            "code": "state_total", "action": None,
            "label_fr": f"Crédits de l'État pour le département = {_euros(expected)}",
            "ok": totals["state"] == expected,
            "detail": f"pré-notifiés {_euros(totals['state'])}, "
                      f"effectifs {_euros(totals['state_effective'])}"})
    return {"actions": lines, "totals": totals, "checks": checks,
            "all_ok": all(c["ok"] for c in checks)}
