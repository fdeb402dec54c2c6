"""``cohort demo``: load the demo data set in one transaction, and create the demo users.

The demo package is imported inside the commands only: ``cohort --help`` and the service
never load the generator. ``demo load`` prints counts, then two synthetic identities to
search for and the structure whose demo coordinator follows them (never anything else
identifying). It refuses a database that already has participants (``--if-empty`` turns
that refusal into a quiet no-op for ``make demo``, still printing the identities).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from cohort import clock
from cohort.actors import Role
from cohort.cli_errors import fail
from cohort.db import unit_of_work
from cohort.errors import CohortError


@click.group("demo", cls=AppGroup)
def demo_group() -> None:
    """Synthetic demo data (a demo database only, never with real data)."""


def _participants(ctx: click.Context, param: click.Parameter, value: int) -> int:
    """The generator's own bounds, read only when the command runs."""
    from cohort.demo import MAX_PARTICIPANTS, MIN_PARTICIPANTS

    if not MIN_PARTICIPANTS <= value <= MAX_PARTICIPANTS:
        raise click.BadParameter(f"must be between {MIN_PARTICIPANTS} and {MAX_PARTICIPANTS}")
    return value


@demo_group.command("load")
@click.option("--seed", type=int, default=2023, show_default=True,
              help="Seed of the generator: the same seed and today give the same pathways.")
@click.option("--participants", type=int, default=300, show_default=True,
              callback=_participants, help="Number of distinct people.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The demo's today (default: today in France): pathways run up to it and "
                   "its follow-up checks are swept on it.")
@click.option("--if-empty", is_flag=True,
              help="Load only into an empty database; otherwise do nothing (exit 0).")
def demo_load(seed: int, participants: int, today: dt.datetime | None, if_empty: bool) -> None:
    """Load synthetic pathways for the six Pas-de-Calais actions (2022 to --today)."""
    from cohort.demo import DatabaseNotEmpty, generate

    as_of = today.date() if today is not None else clock.today()
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
        if not if_empty:
            fail(exc)
            return
        click.echo("the database already has participants: demo data not loaded")
    except CohortError as exc:
        fail(exc)
        return
    else:
        click.echo(f"demo data loaded (seed {seed}, as of {as_of.isoformat()}):")
        for line in summary.lines():
            click.echo(f"  {line}")
    _echo_showcase(keyring)


def _echo_showcase(keyring: Any) -> None:
    """Two demo identities to search for, read back through the identity service."""
    from cohort.demo import showcase
    from cohort.demo.accounts import DEMO_USERS

    with unit_of_work(current_app.extensions["cohort.sessionmaker"]) as session:
        found = showcase(session, keyring, now=clock.now())
    if found is None or not found.identities:
        return
    click.echo("two demo participants to search for (synthetic identities):")
    for identity in found.identities:
        click.echo(f"  {identity['last_name']} {identity['first_names']}, "
                   f"born {identity['birth_date'].isoformat()}")
    who = next((u.email for u in DEMO_USERS
                if u.role is Role.COORDINATOR and u.structure == found.structure), None)
    click.echo(f"  followed by {found.structure}" + (f" (sign in as {who})" if who else ""))


@demo_group.command("users")
@click.option("--tokens-file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to append the new demo tokens (mode 0600; keep it out of git).")
def demo_users(tokens_file: Path) -> None:
    """One demo user per role (demo keys only): web password and API tokens."""
    from cohort.demo.accounts import DEMO_PASSWORD, ensure_demo_accounts

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
