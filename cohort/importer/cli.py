"""``cohort import participants|enrolments|events|operations|enrolment-ends|cancellations|
voids|corrections FILE``: the CSV import commands.

Each command runs one file in one transaction. On refusal it prints the first row errors
("row N, column C: reason", never a value from the file) and exits with status 2, the
database unchanged. A progress bar is drawn only when stdout is a terminal.
Services are imported inside the commands: `cohort --help` lists them without SQLAlchemy.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from cohort import clock
from cohort.cli_errors import fail
from cohort.errors import CohortError
from cohort.importer.memory import REMEMBERED

if TYPE_CHECKING:
    from cohort.importer.pipeline import Progress
    from cohort.importer.report import ImportResult

SHOWN_ERRORS = 50
MAX_ERRORS = 1000  # as cohort.importer.report (not imported here: `--help` stays light)

import_group = AppGroup("import", help="Import CSV files (formats: docs/import-formats.md).")

_FILE = click.argument("path", metavar="FILE",
                       type=click.Path(exists=True, dir_okay=False, path_type=Path))
_WORKERS = click.option(
    "--workers", type=click.IntRange(min=0), default=None,
    help="Worker processes validating rows (default: 2 for a large file, 0 for a small one).")


@contextmanager
def _progress(label: str) -> Iterator[Progress | None]:
    if not sys.stdout.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress("{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


_ERRORS = click.option(
    "--errors", "errors_path", metavar="FILE", default=None,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write every refused row (line, column, rule; never a value) to FILE as CSV; "
         "the whole file is read whatever the number of errors.")
_DRY_RUN = click.option(
    "--dry-run", is_flag=True, default=False,
    help="Check the whole file against the database and say what it would create, change, "
         "leave unchanged or refuse; write nothing.")
_SUMMARY = click.option(
    "--summary-json", "summary_path", metavar="FILE", default=None,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the counts, the refusals by rule and the uuids created (by row number) to "
         "FILE as JSON.")


_STRUCTURE = click.option(
    "--structure", metavar="NAME|UUID", default=None,
    help="The structure the file comes from: it registers the new participants, its own "
         "file numbers (file_number) and event ids name things, and it is the structure "
         "of enrolment rows without structure_id.")


def _report_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    return _STRUCTURE(_ERRORS(_DRY_RUN(_SUMMARY(fn))))


def _show_by_rule(errors: list[Any]) -> None:
    from cohort.importer.report import by_rule

    click.echo("refused rows by rule:", err=True)
    for column, reason, n in by_rule(errors):
        click.echo(f"  {n:>8}  {column or '(row)'}: {reason}", err=True)


def _run(label: str, importer: Callable[..., ImportResult], path: Path, *,
         errors_path: Path | None = None, dry_run: bool = False,
         summary_path: Path | None = None, **options: Any) -> None:
    from cohort.db import refresh_statistics, unit_of_work
    from cohort.importer.report import ImportFailed, dump_json, write_errors

    factory = current_app.extensions["cohort.sessionmaker"]
    keyring = current_app.extensions["cohort.keyring"]
    errors: list[Any] = []
    result = None
    try:
        with _progress(label) as progress, unit_of_work(factory) as session:
            result = importer(session, keyring, path, today=clock.today(), now=clock.now(),
                              progress=progress, dry_run=dry_run,
                              every_error=errors_path is not None,
                              keep_ids=summary_path is not None, **options)
            errors = result.errors
    except ImportFailed as exc:
        errors, result = exc.row_errors, exc.result
    except CohortError as exc:
        fail(exc)
    if errors_path is not None:
        with errors_path.open("w", encoding="utf-8", newline="") as out:
            write_errors(out, errors)
    if summary_path is not None and result is not None:
        dump_json(summary_path, result.as_json(path=path, dry_run=dry_run,
                                               imported=not dry_run and not errors,
                                               errors=errors))
    if errors:
        _show_by_rule(errors)
        if errors_path is None:
            for error in errors[:SHOWN_ERRORS]:
                click.echo(f"  {error}", err=True)
            hidden = len(errors) - SHOWN_ERRORS
            if hidden > 0:
                click.echo(f"  ... and {hidden} more (--errors FILE lists them all)", err=True)
        if len(errors) >= MAX_ERRORS and errors_path is None and not dry_run:
            click.echo("  (reading stopped: too many errors)", err=True)
    if dry_run:
        assert result is not None  # a dry run answers counts even for a refused file
        click.echo(f"dry run, nothing written: {result.summary()}")
        sys.exit(2 if errors else 0)
    if errors:
        rows = len({e.row for e in errors})
        counts = f" (with them left out: {result.summary()})" if result is not None else ""
        click.echo(f"error: {label} refused: {rows} row(s) refused; nothing was imported"
                   f"{counts}", err=True)
        sys.exit(2)
    assert result is not None
    refresh_statistics(current_app.extensions["cohort.engine"])  # plans fit the new rows
    click.echo(result.summary())


@import_group.command("participants")
@_FILE
@_WORKERS
@_report_options
def import_participants_command(path: Path, workers: int | None, **report: Any) -> None:
    """Register the participants of a CSV file (all or none; re-importing changes nothing)."""
    from cohort.importer.participants import import_participants

    _run("participants", import_participants, path, workers=workers, **report)


@import_group.command("enrolments")
@_FILE
@click.option("--programme", "programme", metavar="CODE", default=None,
              help="Programme whose action codes the file uses (default: the latest).")
@_WORKERS
@_report_options
def import_enrolments_command(path: Path, programme: str | None, workers: int | None,
                              **report: Any) -> None:
    """Enrol (and end) the rows of a CSV file (all or none; re-importing changes nothing)."""
    from cohort.importer.enrolments import import_enrolments

    _run("enrolments", import_enrolments, path, programme=programme, workers=workers,
         **report)


@import_group.command("events")
@_FILE
@_WORKERS
@click.option("--programme", "programme", metavar="CODE", default=None,
              help="Programme whose action codes action_code uses (default: the latest).")
@click.option("--remember", type=click.IntRange(min=1), default=REMEMBERED, show_default=True,
              help="Participants whose state is kept between chunks: fewer use less memory "
                   "(about 1 KB each) and read more back from the database.")
@_report_options
def import_events_command(path: Path, workers: int | None, programme: str | None,
                          remember: int, **report: Any) -> None:
    """Record the pathway events of a CSV file (all or none; re-importing changes nothing)."""
    from cohort.importer.events import import_events

    _run("events", import_events, path, workers=workers, remembered=remember,
         programme=programme, **report)


_PROGRAMME = click.option("--programme", "programme", metavar="CODE", default=None,
                          help="Programme whose action codes the file uses (default: the "
                               "latest).")


def _changes(kind: str, doc: str) -> None:
    """``cohort import KIND``: one of the kinds of cohort.importer.changes."""

    def command(path: Path, programme: str | None, workers: int | None, **report: Any) -> None:
        from functools import partial

        from cohort.importer.changes import import_changes

        _run(kind, partial(import_changes, kind), path, programme=programme,
             workers=workers, **report)

    command.__doc__ = doc
    import_group.command(kind)(_FILE(_PROGRAMME(_WORKERS(_report_options(command)))))


_changes("operations", "Create operations named by code, or change them (all or none; "
                       "re-importing changes nothing).")
_changes("enrolment-ends", "End enrolments named by participant and action (all or none; "
                           "re-importing changes nothing).")
_changes("cancellations", "Cancel enrolments entered by mistake, with a reason (all or none; "
                          "re-importing changes nothing).")
_changes("voids", "Void events named by id, with a reason (all or none; re-importing "
                  "changes nothing).")
_changes("corrections", "Correct events: void each and record its replacement (all or none; "
                        "re-importing changes nothing).")


@click.command("export")
@with_appcontext
@click.argument("kind", type=click.Choice(["participants", "enrolments", "events"]))
@click.option("--structure", required=True, metavar="NAME|UUID",
              help="The structure whose own data is exported.")
@click.option("--with-identity", is_flag=True, default=False,
              help="Name people by last_name/first_names/birth_date (decrypted, audited) "
                   "instead of participant_id.")
@click.option("--output", "-o", metavar="FILE", default="-", type=click.File("w"),
              help="Where to write the CSV (default: stdout).")
def export_command(kind: str, structure: str, with_identity: bool, output: Any) -> None:
    """Write a structure's participants, enrolments or events in the import formats."""
    from cohort.actors import SYSTEM
    from cohort.db import unit_of_work
    from cohort.importer.export import export

    factory = current_app.extensions["cohort.sessionmaker"]
    try:
        with unit_of_work(factory) as session:
            rows = export(session, current_app.extensions["cohort.keyring"], SYSTEM, kind,
                          structure, output, with_identity=with_identity, now=clock.now())
    except CohortError as exc:
        fail(exc)
    click.echo(f"{kind}: {rows} rows exported", err=True)
