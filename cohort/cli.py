"""The ``cohort`` command: database, programme, keys, imports and demo data.

Each command is a thin shell: parse options, open one unit of work, call a service,
print the outcome; errors print a message and exit non-zero without a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from flask import current_app
from flask.cli import FlaskGroup

from cohort import create_app
from cohort.config import PROJECT_ROOT
from cohort.db import unit_of_work
from cohort.errors import CohortError


def _fail_cleanly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into a message and exit status 2 (never a traceback)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CohortError as exc:
            click.echo(f"error: {exc.message}", err=True)
            for field, reasons in exc.errors.items():
                for reason in reasons if isinstance(reasons, list) else [reasons]:
                    click.echo(f"  {field}: {reason}", err=True)
            sys.exit(2)

    return wrapper


def _create_app(*_: Any) -> Any:
    try:
        return create_app()
    except CohortError as exc:
        click.echo(f"error: configuration: {exc.message}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True,
             add_version_option=False, load_dotenv=False)
def cli() -> None:
    """cohort: pseudonymised cohort tracking for the ERBM convention."""


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def sessions() -> Any:
    return current_app.extensions["cohort.sessionmaker"]


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (creates the schema on a new database)."""
    alembic_command.upgrade(alembic_config(current_app.config["DATABASE_URL"]), "head")
    click.echo("database is at the latest revision")


@cli.group()
def programme() -> None:
    """Programme definitions (config/programmes/*.toml)."""


@programme.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_fail_cleanly
def programme_load(path: Path) -> None:
    """Load or update a programme file (idempotent)."""
    from cohort.services.programmes import load_programme_file

    with unit_of_work(sessions()) as session:
        result = load_programme_file(session, path)
    click.echo(
        f"programme {result.programme_code} {result.programme}: actions created "
        f"{result.created}, updated {result.updated}, unchanged {result.unchanged}"
    )
    if result.not_in_file:
        click.echo(f"kept, no longer in the file: {', '.join(result.not_in_file)}")


@cli.group()
def keys() -> None:
    """Keys (kept outside the database)."""


@keys.command("new", with_appcontext=False)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--demo", is_flag=True, help="Mark the keys as demo keys (demo database only).")
@_fail_cleanly
def keys_new(path: Path, demo: bool) -> None:
    """Write a new key file (mode 0600); refuses to overwrite an existing one."""
    from cohort.identity.keyring import generate_key_file

    if path.exists():
        click.echo(f"error: {path} already exists; refusing to overwrite keys", err=True)
        sys.exit(2)
    generate_key_file(path, demo=demo)
    click.echo(f"wrote {'DEMO ' if demo else ''}keys to {path}")


if __name__ == "__main__":
    cli()
