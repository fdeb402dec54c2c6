"""One entry point for the shells: the model rendered in the format asked for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cohort.report.formats import to_csv_long, to_csv_zip, to_json
from cohort.report.html import to_html
from cohort.report.xlsx import to_xlsx

FORMATS = {
    "html": ("text/html; charset=utf-8", "html", to_html),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx",
             to_xlsx),
    "csv": ("application/zip", "zip", to_csv_zip),
    "csv-long": ("text/csv; charset=utf-8", "long.csv", to_csv_long),
    "json": ("application/json", "json", to_json),
}


@dataclass(frozen=True)
class Rendered:
    content: bytes
    mimetype: str
    filename: str


def render(model: dict[str, Any], fmt: str) -> Rendered:
    mimetype, extension, renderer = FORMATS[fmt]
    head = model["header"]
    name = (f"rapport-execution-{head['programme']}-{head['departement']}-{head['year']}"
            f"-{head['mode']}.{extension}")
    return Rendered(renderer(model), mimetype, name)
