"""JSON and CSV renderings of the report model: byte-identical for the same model.

CSV is one file per table in a zip whose entries carry a fixed date, so that a rerun
gives the same bytes. Text cells that a spreadsheet would read as a formula are
neutralised. A hidden cell is empty, with "suppressed" in its own column.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from typing import Any

from cohort.indicators import tables

FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def to_json(model: dict[str, Any]) -> bytes:
    return (json.dumps(model, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def _csv(header: list[str], rows: Iterable[list[Any]], notice: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["# " + notice])
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else tables.neutralise(v) for v in row])
    return out.getvalue().encode()


def csv_tables(model: dict[str, Any]) -> dict[str, bytes]:
    """File name → CSV bytes, in a fixed order."""
    head, notice = model["header"], model["header"]["notice"]
    actions = model["actions"]
    files = {
        "rapport.csv": _csv(["champ", "valeur"], sorted(head.items()), notice),
        "indicateurs.csv": _csv(tables.INDICATOR_COLUMNS,
                                tables.indicator_rows({"actions": actions}), notice),
        "suivis.csv": _csv(tables.INDICATOR_COLUMNS, tables.indicator_rows(
            {"actions": [{"code": a["code"], "indicators": a["followups"]} for a in actions]}),
            notice),
        "accompagnes_par_mois.csv": _csv(
            ["action", "mois", "accompagnes", "suppressed"],
            ([a["code"], m["month"], m["value"], "suppressed" if m["suppressed"] else ""]
             for a in actions for m in a["accompanied_by_month"]), notice),
        "cohortes.csv": _csv(tables.COHORT_COLUMNS,
                             tables.cohort_rows({"rows": model["cohorts"]["rows"]}), notice),
        "qualite.csv": _csv(
            ["action", "controle", "libelle", "nombre", "suppressed"],
            ([a["code"], name, model["quality_labels"][name], q["value"],
              "suppressed" if q["suppressed"] else ""]
             for a in actions for name, q in a["quality"].items()), notice),
        "finances.csv": _csv(
            ["action", "total", "state", "state_effective", "departement",
             "departement_valuation", "other", "state_share", "actuals_recorded"],
            ([line["action"], line["total"], line["state"], line["state_effective"],
              line["departement"], line["departement_valuation"], line["other"],
              line["state_share"], line["actuals_recorded"]]
             for line in model["finance"]["actions"]), notice),
        "controles.csv": _csv(
            ["controle", "action", "libelle", "conforme", "detail"],
            ([c["code"], c["action"], c["label_fr"], "oui" if c["ok"] else "non", c["detail"]]
             for c in model["finance"]["checks"]), notice),
    }
    return files


def to_csv_zip(model: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in csv_tables(model).items():
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()
