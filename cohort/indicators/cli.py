"""``cohort indicators`` and ``cohort cohorts``: the aggregates in a terminal, CSV or JSON.

The operator on the server acts as the system (an administrator): the same read services
as the API, published mode by default, and ``--mode internal`` for exact figures (every
exact query is audited). Hidden cells print as "s" (secret statistique).
The queries, schemas and rich are imported inside the commands: `cohort --help` lists
them without loading them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import current_app
from flask.cli import with_appcontext

from cohort import clock
from cohort.actors import SYSTEM
from cohort.cli_errors import fail
from cohort.errors import CohortError

if TYPE_CHECKING:
    from rich.table import Table

HIDDEN_MARK = "s"




def _cut_options(fn: Any) -> Any:
    date = click.DateTime(formats=["%Y-%m-%d"])
    for option in reversed([
        click.option("--programme", required=True, help="Programme code, e.g. erbm-2023."),
        click.option("--departement", type=click.Choice(["59", "62", "joint"])),
        click.option("--from", "period_from", type=date, help="First day of P (default: "
                     "the programme's start)."),
        click.option("--to", "period_to", type=date, help="Last day of P (default: the "
                     "programme's end)."),
        click.option("--as-of", "as_of", type=date, help="As-of date A (default: today in "
                     "internal mode, the end of the last complete month when published)."),
        click.option("--recorded-before", "recorded_before",
                     type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
                     help="Ignore what was recorded at or after this instant (with offset)."),
        click.option("--mode", type=click.Choice(["published", "internal"]),
                     default="published", show_default=True),
        click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]),
                     default="table", show_default=True),
        click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write to this file instead of the terminal."),
    ]):
        fn = option(fn)
    return fn


def _args(options: dict[str, Any]) -> dict[str, Any]:
    args = {k: v for k, v in options.items() if k not in ("fmt", "output")}
    for name in ("period_from", "period_to", "as_of"):
        if args.get(name) is not None:
            args[name] = args[name].date()
    return args


def _run(compute: Any, args: dict[str, Any]) -> dict[str, Any]:
    from cohort.db import unit_of_work

    try:
        with unit_of_work(current_app.extensions["cohort.sessionmaker"]) as session:
            return compute(session, SYSTEM, args, current_app.config,  # type: ignore[no-any-return]
                           today=clock.today(), now=clock.now())
    except CohortError as exc:
        fail(exc)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"written: {output}", err=True)


def _shown(value: Any, hidden: bool) -> str:
    if hidden:
        return HIDDEN_MARK
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1%}" if value <= 1 else f"{value:g}"
    return str(value)


def _header(report: dict[str, Any]) -> str:
    return (f"{report['programme']} · période {report['period_from']} → {report['period_to']}"
            f" · arrêté au {report['as_of']}"
            + (f" · saisi avant {report['recorded_before']}" if report["recorded_before"]
               else "") + f"\n{report['notice']}")


def _render(table: Table, report: dict[str, Any], output: Path | None) -> None:
    from rich.console import Console

    console = Console(file=None if output is None else output.open("w", encoding="utf-8"),
                      width=160 if output is not None else None)
    console.print(_header(report))
    console.print(table)
    if output is not None:
        console.file.close()
        click.echo(f"written: {output}", err=True)


@click.command("indicators")
@_cut_options
@click.option("--action", help="One action code, e.g. 62-A2 (default: every action).")
@with_appcontext
def indicators_command(**options: Any) -> None:
    """Indicators per action with targets, rates and disclosure control."""
    from rich.table import Table

    from cohort.indicators import queries, tables
    from cohort.schemas.aggregates import IndicatorReportSchema

    report = _run(queries.indicators, _args(options))
    fmt, output = options["fmt"], options["output"]
    if fmt == "json":
        _emit(json.dumps(IndicatorReportSchema().dump(report), ensure_ascii=False, indent=2)
              + "\n", output)
        return
    if fmt == "csv":
        _emit(tables.to_csv(tables.INDICATOR_COLUMNS, tables.indicator_rows(report), report),
              output)
        return
    table = Table("action", "indicateur", "valeur", "dont RSA", "dont < 26 ans", "cible",
                  "taux", show_lines=False)
    for action in report["actions"]:
        for item in action["indicators"]:
            hidden = item["suppressed"]
            target = (item["target"] or {}).get("value")
            table.add_row(
                action["code"], item["label_fr"], _shown(item["value"], "value" in hidden),
                *(_shown(item["breakdowns"][p], p in hidden) if p in item["breakdowns"] else ""
                  for p in ("rsa", "under_26")),
                "" if target is None else f"{target:g}",
                _shown(item["rate"], "rate" in hidden) if item["rate_of"] else "")
    _render(table, report, output)


@click.command("cohorts")
@_cut_options
@click.option("--action", "actions", multiple=True,
              help="Action code; repeat for several (default: every action).")
@click.option("--grain", type=click.Choice(["month", "quarter", "year"]), default="quarter",
              show_default=True, help="Cohorts by month, quarter or year of entry.")
@with_appcontext
def cohorts_command(**options: Any) -> None:
    """Cohorts by entry period: shares in a pathway, employed, housed, with resources."""
    from rich.table import Table

    from cohort.indicators import queries, tables
    from cohort.schemas.aggregates import CohortReportSchema

    args = _args(options)
    args["actions"] = list(args["actions"])
    report = _run(queries.cohorts, args)
    fmt, output = options["fmt"], options["output"]
    if fmt == "json":
        _emit(json.dumps(CohortReportSchema().dump(report), ensure_ascii=False, indent=2)
              + "\n", output)
        return
    if fmt == "csv":
        _emit(tables.to_csv(tables.COHORT_COLUMNS, tables.cohort_rows(report), report), output)
        return
    table = Table("cohorte", "horizon", "membres", "censurés", "observables", "connus",
                  "en parcours", "emploi durable", "logés", "ressources", "inconnu")
    for row in report["rows"]:
        hidden, shares = row["suppressed"], row["shares"]
        table.add_row(
            row["cohort"], row["horizon"],
            *(_shown(row[c], c in hidden) for c in ("members", "censored", "observable",
                                                    "known")),
            *(_shown(shares[c], f"{c}|share" in hidden)
              for c in ("in_pathway", "durable_employment", "stably_housed",
                        "has_resources")),
            _shown(shares["unknown"], "known|share" in hidden))
    _render(table, report, output)



@click.command("publish")
@click.option("--programme", required=True, help="Programme code, e.g. erbm-2023.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="As-of date A (default: the end of the last complete month).")
@with_appcontext
def publish_command(programme: str, as_of: Any) -> None:
    """Compute and store the published aggregates of the standard cuts (run nightly).

    Every département's indicator set and cohort table (quarter grain), and the joint
    actions', for the programme's period, the current year and the last closed one,
    protected as evaluators see them; the pages and the API serve them while the data
    they were computed from has not changed. A re-run on the same data writes nothing."""
    from cohort.db import unit_of_work
    from cohort.indicators import queries

    try:
        with unit_of_work(current_app.extensions["cohort.sessionmaker"]) as session:
            done = queries.publish(session, programme, current_app.config,
                                   today=clock.today(), now=clock.now(),
                                   as_of=None if as_of is None else as_of.date())
    except CohortError as exc:
        fail(exc)
    version = done["data_version"][:12]
    if not done["written"]:
        click.echo(f"{done['programme']} as of {done['as_of']}: nothing written, "
                   f"{done['unchanged']} cut(s) already published for data version {version}")
        return
    for item in done["written"]:
        grain = f" · {item['grain']}" if item.get("grain") else ""
        click.echo(f"published {item['kind']} · {item['departement']} · "
                   f"{item['period_from']} → {item['period_to']}{grain}")
    click.echo(f"{done['programme']} as of {done['as_of']}: {len(done['written'])} cut(s) "
               f"written, {done['unchanged']} unchanged, data version {version}")
