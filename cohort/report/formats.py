"""JSON and CSV renderings of the report model: byte-identical for the same model.

CSV for a French spreadsheet is one file per table in a zip whose entries carry a fixed
date, so that a rerun gives the same bytes; the machine CSV is one tidy file with every
cell. Both are written by cohort.indicators.exports (the writers of every other table):
text cells that a spreadsheet would read as a formula are neutralised, and a hidden cell
reads « secret » (French) or is empty with the status ``suppressed`` (machine).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

from cohort.indicators import exports
from cohort.indicators.exports import Column, Export

FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def to_json(model: dict[str, Any]) -> bytes:
    return (json.dumps(model, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def _header(model: dict[str, Any]) -> dict[str, Any]:
    """The cut as the export writers read it (``exports._cut_lines_fr`` and the tidy rows)."""
    return model["header"]


def _export(model: dict[str, Any], name: str, title: str, columns: list[Column],
            rows: list[list[Any]], tidy: list[dict[str, Any]] | None = None) -> Export:
    head = _header(model)
    return Export(name=name, title_fr=title, header=head, scope=head["departement"],
                  columns=columns, rows=rows, tidy=tidy or [], book=EMPTY_BOOK, body={})


EMPTY_BOOK: dict[str, Any] = {"indicators": [], "common_indicators": []}
MONTH_COLUMNS = [Column("action", "Action", width=9), Column("month", "Mois", width=10),
                 Column("accompanied", "Personnes accompagnées", "count", 14)]
QUALITY_COLUMNS = [Column("action", "Action", width=9), Column("check", "Contrôle", width=20),
                   Column("label_fr", "Libellé", width=50), Column("value", "Nombre", "count")]
FINANCE_COLUMNS = [Column("action", "Action", width=9),
                   *[Column(key, label, "number", 16) for key, label in (
                       ("total", "Budget total (€)"), ("state", "Crédit État pré-notifié (€)"),
                       ("state_effective", "Participation État effective (€)"),
                       ("departement", "Participation du Département (€)"),
                       ("departement_valuation", "dont valorisation (€)"),
                       ("other", "Autres financements (€)"))],
                   Column("state_share", "Part de l'État", "rate", 12),
                   Column("actuals_recorded", "Réalisé saisi", width=12)]
CHECK_COLUMNS = [Column("check", "Contrôle", width=24), Column("action", "Action", width=9),
                 Column("label_fr", "Libellé", width=60), Column("ok", "Conforme", width=10),
                 Column("detail", "Détail", width=60)]
HEADER_FR = {
    "programme": "Programme", "programme_title": "Intitulé du programme",
    "departement": "Département", "departement_label": "Département (libellé)",
    "year": "Année", "period_from": "Début de période", "period_to": "Fin de période",
    "as_of": "Données arrêtées au", "mode": "Mode", "recorded_before":
    "Saisies enregistrées avant", "notice": "Avertissement", "k": "Seuil du secret (k)",
    "rounding_base": "Base d'arrondi", "fingerprint": "Empreinte des données"}


def _tables(model: dict[str, Any]) -> dict[str, Export]:
    """Each table of the report as an export (the same figures as every other format)."""
    head, actions = model["header"], model["actions"]
    args = {"departement": head["departement"]}
    indicators = exports.indicator_export(
        {**head, "actions": [{"code": a["code"], "indicators": a["indicators"]}
                             for a in actions]}, args, EMPTY_BOOK)
    followups = exports.indicator_export(
        {**head, "actions": [{"code": a["code"], "indicators": a["followups"]}
                             for a in actions]}, args, EMPTY_BOOK)
    for cell in followups.tidy:
        cell["table"] = "followups"
    cohorts = exports.cohort_export(
        {**head, "grain": model["cohorts"]["grain"], "actions": [a["code"] for a in actions],
         "rows": model["cohorts"]["rows"]}, args, EMPTY_BOOK)
    published = head["mode"] == "published"

    def flat_cell(table: str, action: str, indicator: str, cut: str,
                  value: dict[str, Any]) -> dict[str, Any]:
        return {"table": table, "action": action, "indicator": indicator, "cut": cut,
                "value": None if value["suppressed"] else value["value"], "unit": "people",
                "status": ("suppressed" if value["suppressed"]
                           else "rounded" if published else "published")}

    monthly = _export(
        model, "accompagnes_par_mois", "Personnes accompagnées par mois", MONTH_COLUMNS,
        [[a["code"], m["month"], exports.HIDDEN if m["suppressed"] else m["value"]]
         for a in actions for m in a["accompanied_by_month"]],
        [flat_cell("accompanied_by_month", a["code"], "accompanied", f"month={m['month']}", m)
         for a in actions for m in a["accompanied_by_month"]])
    quality = _export(
        model, "qualite", "Qualité des données", QUALITY_COLUMNS,
        [[a["code"], name, model["quality_labels"][name],
          exports.HIDDEN if q["suppressed"] else q["value"]]
         for a in actions for name, q in a["quality"].items()],
        [flat_cell("data_quality", a["code"], name, "value", q)
         for a in actions for name, q in a["quality"].items()])
    lines = model["finance"]["actions"]
    finance = _export(
        model, "finances", "État financier", FINANCE_COLUMNS,
        [[line["action"], *[line[c.key] for c in FINANCE_COLUMNS[1:-2]], line["state_share"],
          line["actuals_recorded"]] for line in lines],
        [{"table": "finance", "action": line["action"], "indicator": c.key, "cut": "value",
          "value": line[c.key], "unit": "share" if c.kind == "rate" else "eur",
          "status": "published"}
         for line in lines for c in FINANCE_COLUMNS[1:-1] if line[c.key] is not None])
    checks = _export(
        model, "controles", "Contrôles de la convention", CHECK_COLUMNS,
        [[c["code"], c["action"], c["label_fr"], c["ok"], c["detail"]]
         for c in model["finance"]["checks"]])
    summary = _export(
        model, "rapport", "Rapport d'exécution : paramètres",
        [Column("field", "Champ", width=30), Column("value", "Valeur", width=60)],
        [[HEADER_FR.get(key, key), _header_value(key, value)]
         for key, value in sorted(head.items())])
    return {"rapport": summary, "indicateurs": indicators, "suivis": followups,
            "accompagnes_par_mois": monthly, "cohortes": cohorts, "qualite": quality,
            "finances": finance, "controles": checks}


def _header_value(key: str, value: Any) -> Any:
    if key in ("period_from", "period_to", "as_of") and value:
        return dt.date.fromisoformat(str(value)[:10])
    if key == "mode":
        return {"published": "publié (secret statistique)",
                "internal": "interne (effectifs exacts)"}.get(value, value)
    return value


def csv_tables(model: dict[str, Any]) -> dict[str, bytes]:
    """File name → CSV bytes for a French spreadsheet (exports.to_csv_fr: UTF-8 with BOM,
    ``;``, decimal comma, French headers, JJ/MM/AAAA, « secret » for a hidden cell), in a
    fixed order."""
    return {f"{name}.csv": exports.to_csv_fr(export)
            for name, export in _tables(model).items()}


def to_csv_long(model: dict[str, Any]) -> bytes:
    """Every cell of the report's tables in one tidy file for machines (exports'
    ``csv`` format: UTF-8, ``,``, ISO dates, snake_case headers, one row per cell with
    its status ``published|rounded|suppressed``)."""
    tables = _tables(model)
    tidy = [cell for name in ("indicateurs", "suivis", "accompagnes_par_mois", "cohortes",
                              "qualite", "finances") for cell in tables[name].tidy]
    return exports.to_csv_machine(_export(model, "rapport", "", [], [], tidy))


def to_csv_zip(model: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in csv_tables(model).items():
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()
