"""The report as an XLSX workbook (openpyxl): a summary sheet, one sheet per action,
cohorts, finance and data quality.

Real numbers and dates (never numbers as text), frozen header rows, column widths, the
notice at the top of every sheet. A hidden cell holds the word "secret": no value, no
formula, no hidden row or column anywhere.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from cohort.indicators.tables import neutralise

HIDDEN_MARK = "secret"
BOLD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="DDE3EA")
PERCENT = "0.0%"
EUROS = '#,##0.00 "€"'
FIXED_CREATED = dt.datetime(2000, 1, 1)  # noqa: DTZ001 - openpyxl stores naive times


def _title(ws: Worksheet, model: dict[str, Any], title: str) -> int:
    """Title, notice and cut on the first rows; returns the next free row."""
    head = model["header"]
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([head["notice"]])
    ws["A2"].font = Font(italic=True, color="9C2A00")
    ws.append(["Période", dt.date.fromisoformat(head["period_from"]),
               dt.date.fromisoformat(head["period_to"]), "Arrêté au",
               dt.date.fromisoformat(head["as_of"])])
    for cell in ("B3", "C3", "E3"):
        ws[cell].number_format = "DD/MM/YYYY"
    return 5


def _table(ws: Worksheet, row: int, header: list[str], rows: list[list[Any]],
           formats: dict[int, str] | None = None) -> int:
    for col, name in enumerate(header, start=1):
        cell = ws.cell(row=row, column=col, value=name)
        cell.font, cell.fill = BOLD, HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for offset, values in enumerate(rows, start=1):
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row + offset, column=col, value=neutralise(value))
            if formats and col in formats and isinstance(value, int | float):
                cell.number_format = formats[col]
    return row + len(rows) + 2


def _value(value: Any, hidden: bool) -> Any:
    return HIDDEN_MARK if hidden else value


def _widths(ws: Worksheet, widths: list[int]) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _indicator_rows(items: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for item in items:
        hidden = item["suppressed"]
        parts = item["breakdowns"]
        rows.append([
            item["label_fr"], _value(item["value"], "value" in hidden),
            _value(parts.get("rsa"), "rsa" in hidden) if "rsa" in parts else None,
            _value(parts.get("under_26"), "under_26" in hidden) if "under_26" in parts else None,
            (item["target"] or {}).get("value"),
            _value(item["rate"], "rate" in hidden) if item["rate_of"] else None,
            item["rate_vs_target"], item["definition"]])
    return rows


INDICATOR_HEADER = ["Indicateur", "Valeur", "dont RSA", "dont moins de 26 ans", "Cible",
                    "Taux", "Taux / cible", "Définition"]


def _action_sheet(wb: Workbook, model: dict[str, Any], action: dict[str, Any]) -> None:
    ws = wb.create_sheet(action["code"])
    row = _title(ws, model, f"{action['code']} — {action['title']}")
    ws.cell(row=row - 1, column=1, value=f"Public : {action['public']}")
    row = _table(ws, row + 1, INDICATOR_HEADER, _indicator_rows(action["indicators"]),
                 {6: PERCENT, 7: PERCENT})
    ws.freeze_panes = "B7"
    row = _table(ws, row, ["Suivi à six mois", "Valeur", "", "", "", "Taux", "", "Définition"],
                 _indicator_rows(action["followups"]), {6: PERCENT})
    _table(ws, row, ["Mois", "Accompagnés"],
           [[m["month"], _value(m["value"], m["suppressed"])]
            for m in action["accompanied_by_month"]])
    _widths(ws, [58, 12, 12, 14, 10, 10, 12, 80])


def _summary(wb: Workbook, model: dict[str, Any]) -> None:
    ws = wb.active
    ws.title = "Synthèse"
    head = model["header"]
    row = _title(ws, model, f"Rapport d'exécution {head['year']} — {head['departement_label']}")
    rows = [["Programme", head["programme_title"]], ["Mode", head["mode"]],
            ["Saisies antérieures à", head["recorded_before"] or "—"],
            ["Empreinte des données", head["fingerprint"]]]
    row = _table(ws, row, ["Paramètre", "Valeur"], rows)
    rows = []
    for action in model["actions"]:
        for item in action["indicators"]:
            if item.get("target"):
                rows.append([action["code"], item["label_fr"],
                             _value(item["value"], "value" in item["suppressed"]),
                             item["target"].get("value"), item["rate_vs_target"]])
    _table(ws, row, ["Action", "Indicateur", "Valeur", "Cible", "Taux / cible"], rows,
           {5: PERCENT})
    ws.freeze_panes = "A6"
    _widths(ws, [22, 70, 12, 10, 12])


def _cohorts(wb: Workbook, model: dict[str, Any]) -> None:
    ws = wb.create_sheet("Cohortes")
    row = _title(ws, model, "Suivi de cohortes (par trimestre d'entrée)")
    labels = model["cohorts"]["horizon_labels"]
    rows = []
    for r in model["cohorts"]["rows"]:
        hidden, shares = r["suppressed"], r["shares"]
        rows.append([
            r["cohort"], labels.get(r["horizon"], r["horizon"]),
            *(_value(r[c], c in hidden) for c in ("members", "censored", "observable", "known")),
            *(_value(shares[c], f"{c}|share" in hidden)
              for c in ("in_pathway", "durable_employment", "stably_housed", "has_resources")),
            _value(shares["unknown"], "known|share" in hidden)])
    _table(ws, row, ["Cohorte", "Horizon", "Membres", "Censurés", "Observables", "Connus",
                     "En parcours", "Emploi durable", "Logement stable", "Ressources",
                     "Situation inconnue"], rows,
           {7: PERCENT, 8: PERCENT, 9: PERCENT, 10: PERCENT, 11: PERCENT})
    ws.freeze_panes = "C6"
    _widths(ws, [12, 18, 10, 10, 12, 10, 12, 14, 14, 12, 16])


def _finance(wb: Workbook, model: dict[str, Any]) -> None:
    ws = wb.create_sheet("Finances")
    row = _title(ws, model, "État financier et contrôles de la convention")
    finance = model["finance"]
    rows = [[ln["action"], ln["total"], ln["state"], ln["state_effective"], ln["departement"],
             ln["departement_valuation"], ln["other"], ln["state_share"],
             "oui" if ln["actuals_recorded"] else "non"] for ln in finance["actions"]]
    t = finance["totals"]
    rows.append(["Total", t["total"], t["state"], t["state_effective"], t["departement"],
                 t["departement_valuation"], t["other"], None, None])
    money = dict.fromkeys(range(2, 8), EUROS) | {8: PERCENT}
    row = _table(ws, row, ["Action", "Budget total", "Crédit État pré-notifié",
                           "Participation État effective", "Participation Département",
                           "dont valorisation", "Autres financements", "Part État",
                           "Réalisé saisi"], rows, money)
    ws.freeze_panes = "B6"
    _table(ws, row, ["Contrôle", "Conforme", "Détail"],
           [[c["label_fr"], "oui" if c["ok"] else "NON", c["detail"]] for c in finance["checks"]])
    _widths(ws, [70, 16, 20, 22, 22, 18, 18, 10, 12])


def _quality(wb: Workbook, model: dict[str, Any]) -> None:
    ws = wb.create_sheet("Qualité")
    row = _title(ws, model, "Qualité des données")
    labels = model["quality_labels"]
    rows = [[a["code"], labels[name], _value(q["value"], q["suppressed"])]
            for a in model["actions"] for name, q in a["quality"].items()]
    _table(ws, row, ["Action", "Contrôle", "Nombre"], rows)
    ws.freeze_panes = "A6"
    _widths(ws, [12, 60, 10])


def to_xlsx(model: dict[str, Any]) -> bytes:
    wb = Workbook()
    _summary(wb, model)
    for action in model["actions"]:
        _action_sheet(wb, model, action)
    _cohorts(wb, model)
    _finance(wb, model)
    _quality(wb, model)
    wb.properties.creator = "cohort"
    wb.properties.created = wb.properties.modified = FIXED_CREATED
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
