"""``cohort import participants|enrolments|events FILE``: the CSV import commands.

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
from flask.cli import AppGroup

from cohort import clock
from cohort.cli_errors import fail
from cohort.errors import CohortError
from cohort.importer.memory import REMEMBERED

if TYPE_CHECKING:
    from cohort.importer.pipeline import Progress
    from cohort.importer.report import ImportResult

SHOWN_ERRORS = 50

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


def _run(label: str, importer: Callable[..., ImportResult], path: Path, **options: Any) -> None:
    from cohort.db import refresh_statistics, unit_of_work
    from cohort.importer.report import ImportFailed

    factory = current_app.extensions["cohort.sessionmaker"]
    keyring = current_app.extensions["cohort.keyring"]
    try:
        with _progress(label) as progress, unit_of_work(factory) as session:
            result = importer(session, keyring, path, today=clock.today(), now=clock.now(),
                              progress=progress, **options)
    except ImportFailed as exc:
        click.echo(f"error: {label} refused: {exc.message}", err=True)
        for error in exc.row_errors[:SHOWN_ERRORS]:
            click.echo(f"  {error}", err=True)
        hidden = len(exc.row_errors) - SHOWN_ERRORS
        if hidden > 0 or exc.stopped:
            click.echo(f"  ... and {hidden if hidden > 0 else 0} more"
                       f"{' (reading stopped: too many errors)' if exc.stopped else ''}",
                       err=True)
        sys.exit(2)
    except CohortError as exc:
        fail(exc)
    refresh_statistics(current_app.extensions["cohort.engine"])  # plans fit the new rows
    click.echo(result.summary())


@import_group.command("participants")
@_FILE
@_WORKERS
def import_participants_command(path: Path, workers: int | None) -> None:
    """Register the participants of a CSV file (all or none; re-importing changes nothing)."""
    from cohort.importer.participants import import_participants

    _run("participants", import_participants, path, workers=workers)


@import_group.command("enrolments")
@_FILE
@click.option("--programme", "programme", metavar="CODE", default=None,
              help="Programme whose action codes the file uses (default: the latest).")
@_WORKERS
def import_enrolments_command(path: Path, programme: str | None, workers: int | None) -> None:
    """Enrol (and end) the rows of a CSV file (all or none; re-importing changes nothing)."""
    from cohort.importer.enrolments import import_enrolments

    _run("enrolments", import_enrolments, path, programme=programme, workers=workers)


@import_group.command("events")
@_FILE
@_WORKERS
@click.option("--remember", type=click.IntRange(min=1), default=REMEMBERED, show_default=True,
              help="Participants whose state is kept between chunks: fewer use less memory "
                   "(about 1 KB each) and read more back from the database.")
def import_events_command(path: Path, workers: int | None, remember: int) -> None:
    """Record the pathway events of a CSV file (all or none; re-importing changes nothing)."""
    from cohort.importer.events import import_events

    _run("events", import_events, path, workers=workers, remembered=remember)
