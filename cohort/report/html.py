"""The report as one self-contained HTML page in French: inline CSS and SVG, printable A4."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from cohort.report import svg

_ENV = Environment(loader=PackageLoader("cohort.report", "templates"),
                   autoescape=select_autoescape(default=True), undefined=StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True)


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{int(value):,}".replace(",", "\u202f")


def _percent(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.1f}".replace(".", ",") + "\u00a0%"


def _euros(value: Any) -> str:
    return "—" if value is None else f"{_number(float(value))}\u00a0€"


def _date(value: Any) -> str:
    if not value:
        return "—"
    year, month, day = str(value)[:10].split("-")
    return f"{day}/{month}/{year}"


_ENV.filters.update(number=_number, percent=_percent, euros=_euros, date_fr=_date)


def to_html(model: dict[str, Any]) -> bytes:
    template = _ENV.get_template("report.html")
    return template.render(report=model, head=model["header"], standalone=True,
                           charts=svg.charts(model)).encode()


def to_html_fragment(model: dict[str, Any]) -> Markup:
    """The same content for the report's page (issue 19): no document, no landmark and
    no title of its own — the page holds them, its stylesheet styles the classes."""
    template = _ENV.get_template("_content.html")
    return Markup(template.render(report=model, head=model["header"],  # noqa: S704 - autoescaped
                                  standalone=False, charts=svg.charts(model)))
