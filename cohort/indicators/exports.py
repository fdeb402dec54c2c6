"""Exports of the aggregate tables in four formats, shared by the API and the pages (issue 19).

- ``csv-fr``: for a French spreadsheet — UTF-8 with a BOM, ``;`` separator, decimal
  comma, French headers, dates JJ/MM/AAAA, rates in percent; a hidden cell reads
  "secret"; the cut and the notice on the first lines.
- ``csv``: for machines — UTF-8, ``,`` separator, ISO dates, English snake_case headers,
  a tidy long format: one row per published cell (indicator code, cut, value, unit,
  status ``published|rounded|suppressed``), the cut repeated on every row.
- ``xlsx``: the table with typed cells (numbers, percentages, dates), a frozen header,
  column widths, a "Notes" sheet (cut, notice, disclosure rules) and a "Dictionnaire"
  sheet (the codebook); a hidden cell holds "secret": no value, formula, hidden row,
  column or sheet.
- ``json``: the API's answer.

Every writer takes what ``publish`` rendered — disclosure control has been applied before
anything reaches this module, so a hidden value is not here to leak. Text cells that a
spreadsheet would read as a formula are neutralised.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from cohort.indicators import codebook
from cohort.indicators.cohorts import STATUS_COLUMNS
from cohort.indicators.tables import neutralise

FORMATS = ("csv-fr", "csv", "xlsx", "json")
HIDDEN_FR = "secret"
BOM = "\ufeff"
MIMETYPES = {
    "csv-fr": "text/csv; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
SUFFIXES = {"csv-fr": "tableur.csv", "csv": "long.csv", "xlsx": "xlsx", "json": "json"}
FIXED_CREATED = dt.datetime(2000, 1, 1)  # noqa: DTZ001 - openpyxl stores naive times
TIDY_HEADER = ["programme", "scope", "period_from", "period_to", "as_of", "mode", "table",
               "action", "indicator", "cut", "value", "unit", "status"]
MODE_FR = {"published": "publie", "internal": "interne"}
GRAIN_FR = {"month": "par mois", "quarter": "par trimestre", "semester": "par semestre",
            "year": "par année", "all": "toutes les entrées de la période réunies"}


class Hidden:
    """A suppressed cell: no value, only the mark."""

    def __repr__(self) -> str:
        return "Hidden"


HIDDEN = Hidden()


@dataclass(frozen=True)
class Column:
    key: str  # machine name, snake_case English
    label_fr: str
    kind: str = "text"  # text | count | number | rate | date
    width: int = 14


@dataclass
class Export:
    """One table ready for every format: its wide French form, its tidy cells, its cut."""

    name: str  # "indicateurs" | "cohortes"
    title_fr: str
    header: dict[str, Any]  # the cut: programme, period, as_of, mode, notice, k
    scope: str  # what the table covers: an action, a département, actions
    columns: list[Column]
    rows: list[list[Any]]
    tidy: list[dict[str, Any]]
    book: dict[str, Any]
    body: dict[str, Any]  # the API's JSON answer
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- tables


def _status(header: dict[str, Any], hidden: bool, counted: bool) -> str:
    if hidden:
        return "suppressed"
    if counted and header["mode"] == "published":
        return "rounded"
    return "published"


def _cell(value: Any, hidden: bool) -> Any:
    return HIDDEN if hidden else value


def _scope(report: dict[str, Any], args: dict[str, Any]) -> str:
    if args.get("action"):
        return str(args["action"])
    if args.get("actions"):
        return "+".join(sorted(args["actions"]))
    return args.get("departement") or "toutes-actions"


INDICATOR_COLUMNS = [
    Column("action", "Action", width=9),
    Column("indicator", "Code", width=16),
    Column("label_fr", "Indicateur", width=48),
    Column("value", "Valeur", "number", 10),
    Column("reading_fr", "Lecture", width=40),
    Column("unit", "Unité", width=22),
    Column("rsa", "dont RSA", "count", 10),
    Column("under_26", "dont moins de 26 ans", "count", 12),
    Column("details", "Autres détails", width=40),
    Column("numerator_value", "Numérateur", "number", 12),
    Column("denominator_value", "Dénominateur", "number", 12),
    Column("rate", "Taux", "rate", 10),
    Column("target", "Cible", width=36),
    Column("rate_vs_target", "Taux / cible", "rate", 12),
    Column("definition", "Définition", width=70),
]


def indicator_export(report: dict[str, Any], args: dict[str, Any],
                     book: dict[str, Any]) -> Export:
    """The indicators table (one row per indicator of each action) and its tidy cells."""
    rows, tidy = [], []
    counted = {item["code"]: item["disclosure"]
               for item in [*book["indicators"], *book.get("common_indicators", [])]}
    for action in report["actions"]:
        for item in action["indicators"]:
            hidden = item["suppressed"]
            parts = item["breakdowns"]
            others = {k: v for k, v in {**parts, **item["details"]}.items()
                      if k not in ("rsa", "under_26")}
            details = "; ".join(
                f"{codebook.PART_LABELS_FR.get(k, k)} : "
                f"{HIDDEN_FR if k in hidden else codebook.number_fr(v)}"
                for k, v in others.items())
            reading = (codebook.capacity_fr(item["value"], item["target"])
                       if item["unit"] == "reinforced_measure_equivalents" else None)
            rows.append([
                action["code"], item["code"], item["label_fr"],
                _cell(item["value"], "value" in hidden), reading or "",
                codebook.UNIT_LABELS_FR.get(item["unit"], item["unit"]),
                _cell(parts.get("rsa"), "rsa" in hidden) if "rsa" in parts else None,
                (_cell(parts.get("under_26"), "under_26" in hidden)
                 if "under_26" in parts else None),
                details,
                _cell(item["numerator_value"], "numerator" in hidden),
                _cell(item["denominator_value"], "denominator" in hidden),
                _cell(item["rate"], "rate" in hidden) if item["rate_of"] else None,
                codebook.target_fr(item["target"]),
                item["rate_vs_target"], item["definition"]])
            volume = counted.get(item["code"]) == "volume" or item["unit"] in (
                "hours", "reinforced_measure_equivalents")

            def cell(cut: str, value: Any, hidden_now: bool, unit: str,
                     counted_now: bool, item: dict[str, Any] = item,
                     action: dict[str, Any] = action) -> None:
                tidy.append({"table": "indicators", "action": action["code"],
                             "indicator": item["code"], "cut": cut,
                             "value": None if hidden_now else value, "unit": unit,
                             "status": _status(report, hidden_now, counted_now)})

            cell("value", item["value"], "value" in hidden, item["unit"], not volume)
            for part, value in {**parts, **item["details"]}.items():
                unit = "fte" if part == "fte" else (
                    "people" if part in ("people", "measures") else item["unit"])
                cell(part, value, part in hidden, unit, part != "fte")
            if item["rate_of"]:
                cell("denominator", item["denominator_value"], "denominator" in hidden,
                     item["unit"], True)
                cell("rate", item["rate"], "rate" in hidden, "share", True)
            if item["target"]:
                cell("target", item["target"].get("value"), False,
                     item["target"].get("unit", item["unit"]), False)
                if item["rate_vs_target"] is not None or "value" in hidden:
                    cell("rate_vs_target", item["rate_vs_target"], "value" in hidden,
                         "share", not volume)
    return Export(
        name="indicateurs", title_fr="Indicateurs des fiches actions", header=report,
        scope=_scope(report, args), columns=INDICATOR_COLUMNS, rows=rows, tidy=tidy,
        book=book, body=report, notes=_notes(report))


COHORT_COUNTS = ("members", "censored", "observable", "known")


COHORT_COLUMNS = [
        Column("cohort", "Cohorte", width=12), Column("horizon", "Horizon", width=18),
        *[Column(c, label, "count", 12) for c, label in (
            ("members", "Membres"), ("censored", "Censurés"), ("observable", "Observables"),
            ("known", "Situation connue"))],
        *[Column(c, label, "count", 12) for c, label in (
            ("in_pathway", "En parcours"), ("durable_employment", "En emploi durable"),
            ("stably_housed", "Logé·e de façon stable"),
            ("has_resources", "Avec des ressources"))],
        *[Column(f"share_{c}", f"Part {label}", "rate", 12) for c, label in (
            ("in_pathway", "en parcours"), ("durable_employment", "en emploi durable"),
            ("stably_housed", "logées de façon stable"),
            ("has_resources", "avec des ressources"), ("unknown", "situation inconnue"))],
]


def cohort_export(report: dict[str, Any], args: dict[str, Any],
                  book: dict[str, Any]) -> Export:
    """The cohort table (one row per cohort and horizon) and its tidy cells."""
    rows, tidy = [], []
    horizon_labels = {code: label for code, (label, _) in codebook.HORIZONS_FR.items()}
    for row in report["rows"]:
        hidden = row["suppressed"]
        shares = row["shares"]
        share_hidden = {c: f"{c}|share" in hidden or c in hidden for c in STATUS_COLUMNS}
        share_hidden["unknown"] = "known|share" in hidden
        rows.append([
            row["cohort"], horizon_labels.get(row["horizon"], row["horizon"]),
            *[_cell(row[c], c in hidden) for c in COHORT_COUNTS],
            *[_cell(row["counts"][c], c in hidden) for c in STATUS_COLUMNS],
            *[_cell(shares[c], share_hidden[c]) for c in (*STATUS_COLUMNS, "unknown")]])
        cut = f"cohort={row['cohort']};horizon={row['horizon']}"

        def cell(indicator: str, value: Any, hidden_now: bool, unit: str,
                 cut: str = cut) -> None:
            tidy.append({"table": "cohorts", "action": "+".join(report["actions"]),
                         "indicator": indicator, "cut": cut,
                         "value": None if hidden_now else value, "unit": unit,
                         "status": _status(report, hidden_now, True)})

        for c in COHORT_COUNTS:
            cell(c, row[c], c in hidden, "people")
        for c in STATUS_COLUMNS:
            cell(c, row["counts"][c], c in hidden, "people")
        for c in (*STATUS_COLUMNS, "unknown"):
            cell(f"share_{c}", shares[c], share_hidden[c], "share")
    title = f"Cohortes {GRAIN_FR.get(report['grain'], report['grain'])} d'entrée"
    return Export(
        name="cohortes", title_fr=title, header=report, scope=_scope(report, args),
        columns=COHORT_COLUMNS, rows=rows, tidy=tidy, book=book,
        body=report, notes=_notes(report) + [
            f"Actions : {', '.join(report['actions'])} ; regroupement des entrées : "
            f"{GRAIN_FR.get(report['grain'], report['grain'])}."])


def _notes(report: dict[str, Any]) -> list[str]:
    notes = [report["notice"]]
    if report["mode"] == "published":
        k = report["k"]
        notes += [
            f"Secret statistique : une case marquée « {HIDDEN_FR} » n'est pas publiée ; "
            f"elle compte de 1 à {k - 1} personnes, ou ce qu'elle laisse de côté dans son "
            f"total en compte de 1 à {k - 1}, ou elle permettrait de retrouver une autre "
            "case masquée à partir des cases publiées.",
            "Les effectifs publiés sont arrondis ; un zéro est un vrai zéro. Les taux sont "
            "calculés sur les effectifs publiés et masqués avec leur numérateur ou leur "
            "dénominateur. Les volumes (heures, mesures) sont donnés tels quels, sauf "
            "s'ils révèlent un petit nombre de personnes.",
        ]
    notes.append("Définitions, unités et règles de diffusion de chaque case : feuille "
                 "« Dictionnaire » (GET /api/v1/codebook, page « Dictionnaire des "
                 "indicateurs »).")
    return notes


# ---------------------------------------------------------------------------- writers


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else str(value or "")


def _date_fr(value: Any) -> str:
    if not value:
        return ""
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return day.strftime("%d/%m/%Y")


def _fr(value: Any, column: Column) -> str:
    """A cell as a French spreadsheet reads it: decimal comma, rates in percent."""
    if value is HIDDEN:
        return HIDDEN_FR
    if value is None:
        return ""
    if column.kind == "rate":
        return f"{value * 100:.1f}".replace(".", ",")
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return codebook.number_fr(value)
    if isinstance(value, dt.date):
        return _date_fr(value)
    return str(neutralise(value))


def _cut_lines_fr(export: Export) -> list[list[str]]:
    head = export.header
    mode = ("publié (secret statistique)" if head["mode"] == "published"
            else "interne (effectifs exacts)")
    lines = [[export.title_fr], ["Programme", head["programme"]], ["Périmètre", export.scope],
             ["Période", f"du {_date_fr(head['period_from'])} au {_date_fr(head['period_to'])}"],
             ["Données arrêtées au", _date_fr(head["as_of"])], ["Mode", mode],
             ["Avertissement", head["notice"]]]
    if head.get("recorded_before"):
        lines.append(["Saisies enregistrées avant", _iso(head["recorded_before"])])
    return lines


def to_csv_fr(export: Export) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for line in _cut_lines_fr(export):
        writer.writerow([neutralise(v) for v in line])
    writer.writerow([])
    writer.writerow([c.label_fr + (" (%)" if c.kind == "rate" else "")
                     for c in export.columns])
    for row in export.rows:
        writer.writerow([_fr(v, c) for v, c in zip(row, export.columns, strict=True)])
    return (BOM + out.getvalue()).encode()


def _machine(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if not value.is_integer() else int(value)
    return neutralise(value)


def to_csv_machine(export: Export) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=",", lineterminator="\n")
    writer.writerow(TIDY_HEADER)
    head = export.header
    fixed = [head["programme"], export.scope, _iso(head["period_from"]),
             _iso(head["period_to"]), _iso(head["as_of"]), head["mode"]]
    for cell in export.tidy:
        writer.writerow([neutralise(v) for v in fixed] + [
            cell["table"], neutralise(cell["action"]), cell["indicator"], cell["cut"],
            _machine(cell["value"]), cell["unit"], cell["status"]])
    return out.getvalue().encode()


BOLD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="DDE3EA")
XLSX_FORMATS = {"rate": "0.0%", "count": "0", "number": "#,##0.##"}


def _sheet_table(ws: Any, top: int, header: list[str], rows: list[list[Any]],
                 columns: list[Column] | None = None) -> None:
    for col, name in enumerate(header, start=1):
        cell = ws.cell(row=top, column=col, value=name)
        cell.font, cell.fill = BOLD, HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for offset, values in enumerate(rows, start=1):
        for col, value in enumerate(values, start=1):
            shown = HIDDEN_FR if value is HIDDEN else neutralise(value)
            cell = ws.cell(row=top + offset, column=col, value=shown)
            kind = columns[col - 1].kind if columns else "text"
            if isinstance(shown, int | float) and not isinstance(shown, bool):
                cell.number_format = XLSX_FORMATS.get(kind, "General")
            elif isinstance(shown, str) and len(shown) > 40:
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def to_xlsx(export: Export) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = export.name.capitalize()
    ws.append([export.title_fr])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([export.header["notice"]])
    ws["A2"].font = Font(italic=True, color="9C2A00")
    _sheet_table(ws, 4, [c.label_fr for c in export.columns], export.rows, export.columns)
    ws.freeze_panes = "A5"
    for i, column in enumerate(export.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = column.width

    notes = wb.create_sheet("Notes")
    head = export.header
    cut = [["Programme", head["programme"]], ["Périmètre", export.scope],
           ["Début de période", dt.date.fromisoformat(_iso(head["period_from"])[:10])],
           ["Fin de période", dt.date.fromisoformat(_iso(head["period_to"])[:10])],
           ["Données arrêtées au", dt.date.fromisoformat(_iso(head["as_of"])[:10])],
           ["Mode", head["mode"]]]
    if head.get("recorded_before"):
        cut.append(["Saisies enregistrées avant", _iso(head["recorded_before"])])
    if head.get("k"):
        cut.append(["Seuil du secret statistique (k)", head["k"]])
    _sheet_table(notes, 1, ["Paramètre", "Valeur"], cut)
    for row in notes.iter_rows(min_row=2, max_row=len(cut) + 1, min_col=2, max_col=2):
        for cell in row:
            if isinstance(cell.value, dt.date):
                cell.number_format = "DD/MM/YYYY"
    _sheet_table(notes, len(cut) + 3, ["Note"], [[n] for n in export.notes])
    notes.freeze_panes = "A2"
    notes.column_dimensions["A"].width = 110
    notes.column_dimensions["B"].width = 40

    book = wb.create_sheet("Dictionnaire")
    _sheet_table(book, 1, codebook.ROWS_HEADER_FR, codebook.rows_fr(export.book))
    book.freeze_panes = "C2"
    for i, width in enumerate([10, 28, 40, 60, 30, 30, 30, 22, 30, 70], start=1):
        book.column_dimensions[get_column_letter(i)].width = width

    wb.properties.creator = "cohort"
    wb.properties.created = wb.properties.modified = FIXED_CREATED
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def to_json(export: Export) -> bytes:
    return (json.dumps(export.body, ensure_ascii=False, indent=2, sort_keys=True,
                       default=_iso) + "\n").encode()


WRITERS: dict[str, Callable[[Export], bytes]] = {
    "csv-fr": to_csv_fr, "csv": to_csv_machine, "xlsx": to_xlsx, "json": to_json}


def filename(export: Export, fmt: str) -> str:
    """What the file holds: table, programme, scope, period, as-of, mode."""
    head = export.header
    safe = "".join(ch if ch.isalnum() or ch in "-+" else "-" for ch in export.scope)
    return (f"{export.name}_{head['programme']}_{safe}_{_iso(head['period_from'])}"
            f"_{_iso(head['period_to'])}_au-{_iso(head['as_of'])}_"
            f"{MODE_FR[head['mode']]}.{SUFFIXES[fmt]}")


@dataclass(frozen=True)
class Rendered:
    content: bytes
    mimetype: str
    filename: str


def render(export: Export, fmt: str) -> Rendered:
    return Rendered(WRITERS[fmt](export), MIMETYPES[fmt], filename(export, fmt))
