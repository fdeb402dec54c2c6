"""``cohort demo load``: the demo data set in one transaction, then a summary of counts.

The summary never names anyone. The command refuses a database that already has
participants (``--if-empty`` turns that refusal into a quiet no-op for ``make demo``).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from cohort import clock
from cohort.cli_errors import fail
from cohort.db import unit_of_work
from cohort.demo import (
    DEFAULT_TODAY,
    MAX_PARTICIPANTS,
    MIN_PARTICIPANTS,
    DatabaseNotEmpty,
    generate,
)
from cohort.demo_accounts import DEMO_PASSWORD, ensure_demo_accounts
from cohort.errors import CohortError


@click.group("demo", cls=AppGroup)
def demo_group() -> None:
    """Synthetic demo data (a demo database only, never with real data)."""




@demo_group.command("load")
@click.option("--seed", type=int, default=2023, show_default=True,
              help="Seed of the generator: the same seed gives the same pathways.")
@click.option("--participants", type=click.IntRange(MIN_PARTICIPANTS, MAX_PARTICIPANTS),
              default=300, show_default=True, help="Number of distinct people.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]),
              default=DEFAULT_TODAY.isoformat(), show_default=True,
              help="The demo's today: nothing is dated or recorded after it.")
@click.option("--if-empty", is_flag=True,
              help="Load only into an empty database; otherwise do nothing (exit 0).")
def demo_load(seed: int, participants: int, today: dt.datetime, if_empty: bool) -> None:
    """Load synthetic pathways for the six Pas-de-Calais actions (2022 to --today)."""
    as_of = today.date()
    if as_of > clock.today():
        fail(CohortError("--today is in the future", errors={"today": ["in the future"]}))
    keyring = current_app.extensions["cohort.keyring"]
    if not getattr(keyring, "demo", False):
        click.echo("warning: the keys in use are not marked as demo keys", err=True)
    try:
        with unit_of_work(current_app.extensions["cohort.sessionmaker"]) as session:
            summary = generate(session, keyring, seed=seed, participants=participants,
                               today=as_of)
    except DatabaseNotEmpty as exc:
        if if_empty:
            click.echo("the database already has participants: demo data not loaded")
            return
        fail(exc)
        return
    except CohortError as exc:
        fail(exc)
        return
    click.echo(f"demo data loaded (seed {seed}, as of {as_of.isoformat()}):")
    for line in summary.lines():
        click.echo(f"  {line}")


@demo_group.command("users")
@click.option("--tokens-file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to append the new demo tokens (mode 0600; keep it out of git).")
def demo_users(tokens_file: Path) -> None:
    """One demo user per role (demo keys only): web password and API tokens."""
    keyring = current_app.extensions["cohort.keyring"]
    try:
        with unit_of_work(current_app.extensions["cohort.sessionmaker"]) as session:
            accounts = ensure_demo_accounts(session, demo_keys=getattr(keyring, "demo", False),
                                            now=clock.now())
    except CohortError as exc:
        fail(exc)
        return
    fresh = [a for a in accounts if a.token]
    if fresh:
        tokens_file.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(tokens_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
                       "a", encoding="utf-8") as out:
            for account in fresh:
                out.write(f"{account.user.role.value}\t{account.user.email}\t{account.token}\n")
    click.echo(f"demo users (web password: {DEMO_PASSWORD}):")
    for account in accounts:
        click.echo(f"  {account.user.role.value:<13} {account.user.email}")
    click.echo(f"API tokens: {tokens_file} (use 'Authorization: Bearer <token>')")
