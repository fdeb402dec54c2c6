"""``cohort report`` (the execution report in one command) and ``cohort budget set``
(effective amounts of an action for a year). The operator acts as the system.

The report model and its writers (openpyxl) are imported inside the commands, so that
`cohort --help` lists them without loading them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from cohort import clock
from cohort.actors import SYSTEM
from cohort.cli_errors import fail
from cohort.errors import CohortError

# The keys of cohort.report.output.FORMATS (checked by tests/scenarios/test_cli_help.py).
REPORT_FORMATS = ("csv", "csv-long", "html", "json", "xlsx")


@click.command("report")
@click.option("--programme", required=True)
@click.option("--departement", required=True, type=click.Choice(["59", "62", "joint"]))
@click.option("--year", required=True, type=int)
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="html",
              show_default=True)
@click.option("--mode", type=click.Choice(["published", "internal"]), default="published",
              show_default=True)
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--recorded-before", "recorded_before",
              type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def report_command(programme: str, departement: str, year: int, fmt: str, mode: str,
                   as_of: dt.datetime | None, recorded_before: dt.datetime | None,
                   output: Path) -> None:
    """The annual execution report (HTML, XLSX, CSV in a zip, or JSON)."""
    from cohort.db import unit_of_work
    from cohort.report import model
    from cohort.report.output import render

    params = {"programme": programme, "departement": departement, "year": year,
              "mode": mode, "format": fmt, "as_of": as_of.date() if as_of else None,
              "recorded_before": recorded_before}
    try:
        with unit_of_work(current_app.extensions["cohort.sessionmaker"]) as session:
            built = model.build(session, SYSTEM, params, current_app.config,
                                today=clock.today())
            model.record_generation(session, SYSTEM, built, fmt=fmt, now=clock.now())
    except CohortError as exc:
        fail(exc)
        return
    rendered = render(built, fmt)
    output.write_bytes(rendered.content)
    checks = built["finance"]["checks"]
    failed = [c for c in checks if not c["ok"]]
    click.echo(f"written: {output} ({len(rendered.content)} bytes, fingerprint "
               f"{built['header']['fingerprint'][:16]}…)")
    click.echo(f"financial checks: {len(checks) - len(failed)}/{len(checks)} passed")
    for check in failed:
        click.echo(f"  NOT MET: {check['label_fr']} — {check['detail']}")


@click.group("budget")
def budget_group() -> None:
    """Budget amounts actually spent, per action and year."""


def _money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@budget_group.command("set")
@click.option("--programme", required=True)
@click.option("--action", "action_code", required=True)
@click.option("--year", required=True, type=int)
@click.option("--total")
@click.option("--state-effective")
@click.option("--departement")
@click.option("--departement-valuation")
@click.option("--other")
@with_appcontext
def budget_set(programme: str, action_code: str, year: int, **amounts: Any) -> None:
    """Record the effective amounts (euros) of an action for a year (idempotent)."""
    from cohort.db import unit_of_work
    from cohort.services.budgets import record_actual

    try:
        data = {name: _money(value) for name, value in amounts.items()}
    except ArithmeticError:
        fail(CohortError("amounts must be numbers in euros, e.g. 42000.50",
                          errors={"amount": ["not a number"]}))
        return
    if any(v is not None and (v < 0 or not v.is_finite()) for v in data.values()):
        fail(CohortError("amounts must be zero or more", errors={"amount": ["negative"]}))
    try:
        with unit_of_work(current_app.extensions["cohort.sessionmaker"]) as session:
            result = record_actual(session, SYSTEM, programme, action_code, year, data,
                                   now=clock.now())
            version = result.actual.version
    except CohortError as exc:
        fail(exc)
        return
    click.echo(("recorded" if result.changed else "unchanged") + f" (version {version})")
