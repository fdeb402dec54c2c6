"""The ``cohort`` command: database, programme, keys, imports and demo data.

Each command is a thin shell: parse options, open one unit of work, call a service,
print the outcome; errors print a message and exit non-zero without a traceback.

Start-up stays light: this module imports click and Flask's CLI only. A command imports
what it needs when it runs, the app is built only for a command that uses it, and the
command groups that live beside their features are imported on first use, so ``--help``
works, quickly, with no key file, no key variable and no database configured.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import current_app
from flask.cli import FlaskGroup

from cohort import clock
from cohort.actors import Role
from cohort.cli_errors import fail_cleanly as _fail_cleanly
from cohort.config import PROJECT_ROOT
from cohort.domain.enums import Departement, StructureKind
from cohort.errors import CohortError, NotFound

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from sqlalchemy.orm import Session

# Command groups that live beside the features they drive: name → "module:attribute".
FEATURE_COMMANDS = {
    "budget": "cohort.report.cli:budget_group",
    "cohorts": "cohort.indicators.cli:cohorts_command",
    "demo": "cohort.demo_cli:demo_group",
    "export": "cohort.importer.cli:export_command",
    "followups": "cohort.followups_cli:followups_group",
    "import": "cohort.importer.cli:import_group",
    "indicators": "cohort.indicators.cli:indicators_command",
    "publish": "cohort.indicators.cli:publish_command",
    "report": "cohort.report.cli:report_command",
}


class CohortGroup(FlaskGroup):
    """A FlaskGroup that never builds the app to find commands, and imports a feature's
    commands only when they are listed or run.

    Flask's own group loads the app to look for commands the app adds; ours adds none,
    and building it needs the keys and the database, which ``--help`` must not.
    """

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy_commands:
            module, attribute = self.lazy_commands[name].split(":")
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, name)
        return self.commands.get(name)


def _create_app(*_: Any) -> Any:
    from cohort import create_app

    try:
        return create_app()
    except CohortError as exc:
        click.echo(f"error: configuration: {exc.message}", err=True)
        sys.exit(2)


@click.group(cls=CohortGroup, lazy_commands=FEATURE_COMMANDS, create_app=_create_app,
             add_default_commands=True, add_version_option=False, load_dotenv=False)
def cli() -> None:
    """cohort: pseudonymised cohort tracking for the ERBM convention."""


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def sessions() -> Any:
    return current_app.extensions["cohort.sessionmaker"]


def _unit_of_work() -> contextlib.AbstractContextManager[Session]:
    """One transaction on the app's database (cohort.db is imported when a command runs)."""
    from cohort.db import unit_of_work

    return unit_of_work(sessions())


@cli.group()
def db() -> None:
    """Database schema."""


def _checked_database_url() -> str:
    """The settings and key checks of the app's start-up, without building the app.

    Migrating needs no routes, forms or API, whose imports would take most of the
    command's time; a missing or bad key, or keys that do not fit the stored rows, are
    refused here as the service would refuse them.
    """
    from cohort.config import load_settings
    from cohort.db import make_engine
    from cohort.identity.keyring import load_keyring
    from cohort.services.keys import check_against_database

    try:
        settings = load_settings()
        keyring = load_keyring(settings.get("KEYS_FILE") or None)
        engine = make_engine(settings["DATABASE_URL"])
        try:
            with engine.connect() as conn:
                check_against_database(keyring, conn.execution_options(cohort_read_only=True))
        finally:
            engine.dispose()
    except CohortError as exc:
        click.echo(f"error: configuration: {exc.message}", err=True)
        sys.exit(2)
    return str(settings["DATABASE_URL"])


@db.command("upgrade", with_appcontext=False)
def db_upgrade() -> None:
    """Apply every migration (creates the schema on a new database)."""
    from alembic import command as alembic_command

    alembic_command.upgrade(alembic_config(_checked_database_url()), "head")
    click.echo("database is at the latest revision")


@db.command("analyze", with_appcontext=False)
def db_analyze() -> None:
    """Refresh the query planner's statistics (after large writes; daily from cron)."""
    from cohort.db import make_engine, refresh_statistics

    engine = make_engine(_checked_database_url())
    try:
        refresh_statistics(engine)
    finally:
        engine.dispose()
    click.echo("statistics refreshed")


@db.group("partitions")
def db_partitions() -> None:
    """History partitions on PostgreSQL: event and event_interval by year, audit_entry by
    month (SQLite keeps plain tables)."""


def _history_engine() -> Any:
    from cohort.db import make_engine

    return make_engine(_checked_database_url())


@db_partitions.command("status", with_appcontext=False)
def partitions_status() -> None:
    """How far each history table's partitions reach."""
    from cohort.partitions import coverage

    engine = _history_engine()
    try:
        with engine.connect() as conn:
            for cover in coverage(conn):
                click.echo(f"{cover.table}: " + (
                    "plain table" if cover.through is None else
                    f"{cover.partitions} partitions, writes up to {cover.through.isoformat()}"))
    finally:
        engine.dispose()


@db_partitions.command("create", with_appcontext=False)
@click.option("--through", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The last day the partitions must hold (default: 31 December of next "
                   "year).")
def partitions_create(through: dt.datetime | None) -> None:
    """Create the next periods' partitions ahead of time (idempotent; monthly from cron)."""
    from sqlalchemy.exc import OperationalError

    from cohort.partitions import create_through

    last_day = through.date() if through else dt.date(clock.today().year + 1, 12, 31)
    engine = _history_engine()
    try:
        with engine.begin() as conn:
            created = create_through(conn, last_day)
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        click.echo("error: a running query holds a history table; nothing was created, "
                   "run the command again", err=True)
        sys.exit(1)
    finally:
        engine.dispose()
    for name in created:
        click.echo(f"created {name}")
    click.echo(f"partitions hold writes through {last_day.isoformat()}"
               if engine.dialect.name == "postgresql" else "plain tables: nothing to create")


@db_partitions.command("check", with_appcontext=False)
@click.option("--days", default=92, show_default=True, type=click.IntRange(min=0),
              help="How many days ahead of today the partitions must already reach.")
def partitions_check(days: int) -> None:
    """Exit 1 when a write in the next DAYS would find no partition (for monitoring)."""
    from cohort.partitions import shortfalls

    engine = _history_engine()
    try:
        with engine.connect() as conn:
            problems = shortfalls(conn, clock.today() + dt.timedelta(days=days))
    finally:
        engine.dispose()
    if problems:
        for problem in problems:
            click.echo(f"error: {problem}", err=True)
        click.echo("run `cohort db partitions create`", err=True)
        sys.exit(1)
    click.echo(f"partitions hold writes for at least the next {days} days")


@cli.group()
def programme() -> None:
    """Programme definitions (config/programmes/*.toml)."""


@programme.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_fail_cleanly
def programme_load(path: Path) -> None:
    """Load or update a programme file (idempotent)."""
    from cohort.services.programmes import load_programme_file

    with _unit_of_work() as session:
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


def _system_actor() -> Any:
    from cohort.actors import SYSTEM

    return SYSTEM


@cli.group()
def structures() -> None:
    """Structures (Mission Locale, PLIE, MDS...)."""


@structures.command("create")
@click.option("--name", required=True)
@click.option("--kind", required=True, type=click.Choice([k.value for k in StructureKind]))
@click.option("--departement", required=True, type=click.Choice([d.value for d in Departement]))
@_fail_cleanly
def structures_create(name: str, kind: str, departement: str) -> None:
    """Create a structure and print its id."""
    from cohort.services.structures import create_structure

    with _unit_of_work() as session:
        structure = create_structure(session, _system_actor(),
                                     {"name": name, "kind": kind, "departement": departement},
                                     now=clock.now())
    click.echo(str(structure.uuid))


@cli.group()
def users() -> None:
    """Users of the service."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--structure", "structure_id", required=True, help="The structure's id (uuid).")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role
                                                          if r is not Role.SYSTEM]))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              default="", help="Web password (prompted; empty for API-only users).")
@_fail_cleanly
def users_create(email: str, display_name: str, structure_id: str, role: str,
                 password: str) -> None:
    """Create a user."""
    from cohort.services.accounts import create_user

    with _unit_of_work() as session:
        user = create_user(session, _system_actor(), {
            "email": email, "display_name": display_name, "structure_id": structure_id,
            "role": role, "password": password or None}, now=clock.now())
    click.echo(str(user.uuid))


@users.command("set")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role if r is not Role.SYSTEM]))
@click.option("--disable", "active", flag_value=False, default=None)
@click.option("--enable", "active", flag_value=True)
@click.option("--reset-password", is_flag=True, help="Prompt for a new password.")
@_fail_cleanly
def users_set(email: str, role: str | None, active: bool | None, reset_password: bool) -> None:
    """Change a user's role, disable/enable them, or reset their password."""
    from cohort.services.accounts import update_user, user_by_email

    data: dict[str, Any] = {}
    if role:
        data["role"] = role
    if active is not None:
        data["active"] = active
    if reset_password:
        data["password"] = click.prompt("New password", hide_input=True,
                                        confirmation_prompt=True)
    with _unit_of_work() as session:
        user = user_by_email(session, email)
        if user is None:
            raise NotFound("no such user", errors={"email": ["not found"]})
        update_user(session, _system_actor(), user, data, now=clock.now())
    click.echo("updated")


@cli.group()
def tokens() -> None:
    """API bearer tokens."""


@tokens.command("create")
@click.argument("email")
@click.option("--label", default="api", show_default=True)
@click.option("--days", default=90, show_default=True, type=int)
@_fail_cleanly
def tokens_create(email: str, label: str, days: int) -> None:
    """Create a token for a user; it is printed once and never stored."""
    from cohort.services.accounts import create_token, user_by_email

    with _unit_of_work() as session:
        user = user_by_email(session, email)
        if user is None:
            raise NotFound("no such user", errors={"email": ["not found"]})
        issued = create_token(session, _system_actor(), user, label=label, days=days,
                              now=clock.now())
    click.echo(f"token id: {issued.token.uuid}")
    click.echo(f"token (shown once): {issued.secret}")


@tokens.command("revoke")
@click.argument("token_id")
@_fail_cleanly
def tokens_revoke(token_id: str) -> None:
    """Revoke a token by its id."""
    from cohort.models import ApiToken
    from cohort.services.accounts import revoke_token
    from cohort.services.lookup import by_uuid

    with _unit_of_work() as session:
        revoke_token(session, _system_actor(), by_uuid(session, ApiToken, token_id, "token_id"),
                     now=clock.now())
    click.echo("revoked")


@cli.group("enrolments")
def enrolments_group() -> None:
    """Checks over stored enrolments."""


@enrolments_group.command("check-operators")
def enrolments_check_operators() -> None:
    """List the enrolments whose structure may not enrol into their action (its
    département, or a joint action, and its kind among the action's operators); nothing is
    changed. Exit 1 when one that was not forced is found, else 0."""
    from cohort.services.enrolments import operator_violations

    with _unit_of_work() as session:
        found = operator_violations(session)
    for v in found:
        click.echo("\t".join((v.enrolment_uuid, v.action_code, v.structure_name,
                              v.structure_kind, v.structure_departement,
                              "forced" if v.forced else "not forced", "; ".join(v.reasons))))
    unforced = sum(not v.forced for v in found)
    click.echo(f"{len(found)} enrolment(s) break the operator rule, {unforced} not forced",
               err=bool(unforced))
    if unforced:
        sys.exit(1)


@cli.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 naming each altered or missing entry."""
    from cohort import audit

    with _unit_of_work() as session:
        problems = audit.verify(session)
    if problems:
        for problem in problems:
            click.echo(f"entry {problem.entry_id}: {problem.reason}", err=True)
        sys.exit(1)
    click.echo("audit chain verified")


@audit_group.command("purge")
@click.option("--months", default=None, type=int,
              help="Keep this many months (default: the AUDIT_RETENTION_MONTHS setting).")
def audit_purge(months: int | None) -> None:
    """Delete entries older than the retention period (recorded in the chain)."""
    from cohort import audit
    from cohort.domain.calendar import add_months

    keep = months or int(current_app.config["AUDIT_RETENTION_MONTHS"])
    now = clock.now()
    cutoff_day = add_months(now.date(), -keep)
    cutoff = dt.datetime.combine(cutoff_day, dt.time(), tzinfo=dt.UTC)
    with _unit_of_work() as session:
        deleted = audit.purge(session, _system_actor(), before=cutoff, now=now)
    click.echo(f"purged {deleted} entries older than {cutoff_day.isoformat()}")


def _keyring() -> Any:
    return current_app.extensions["cohort.keyring"]


def _key_file() -> Path:
    value = current_app.config.get("KEYS_FILE")
    if not value:
        click.echo("error: KEYS_FILE: keys come from the environment; edit them there", err=True)
        sys.exit(2)
    return Path(value)


PURPOSES = click.Choice(["encryption", "pseudonym", "nir", "similarity"])


@keys.command("status")
def keys_status() -> None:
    """Key versions configured, current, and rows per version."""
    from cohort.services.keys import key_status

    with _unit_of_work() as session:
        for status in key_status(session, _keyring()):
            if not status.configured:
                click.echo(f"{status.purpose}: no key; duplicate detection unavailable")
                continue
            configured = ", ".join(str(v) for v in status.configured)
            rows = ", ".join(f"v{v}: {n}" for v, n in status.rows.items()) or "no rows"
            click.echo(f"{status.purpose}: current v{status.current}; configured {configured}; "
                       f"rows {rows}" + (f"; {status.missing} without keys" if status.missing
                                         else ""))


@keys.command("add", with_appcontext=False)
@click.option("--purpose", required=True, type=PURPOSES)
@click.option("--keys-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              envvar="COHORT_KEYS_FILE", required=True)
def keys_add(purpose: str, keys_file: Path) -> None:
    """Add a new key version for a purpose and make it current (then run `keys rotate`)."""
    from cohort.identity.keyring import Purpose, add_version

    version = add_version(keys_file, Purpose(purpose))
    click.echo(f"{purpose}: version {version} added and current; restart the service, "
               f"then run `cohort keys rotate --purpose {purpose}`")


@keys.command("rotate")
@click.option("--purpose", required=True, type=PURPOSES)
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000))
@_fail_cleanly
def keys_rotate(purpose: str, batch_size: int) -> None:
    """Re-encrypt or re-hash every row under the current version (resumable, idempotent)."""
    from cohort.identity.keyring import Purpose
    from cohort.services.keys import rotate

    result = rotate(sessions(), _keyring(), _system_actor(), Purpose(purpose),
                    batch_size=batch_size, now=clock.now)
    click.echo(f"{purpose}: {result.done} rows moved to the current version; "
               f"{result.remaining} remaining")
    if result.remaining:
        sys.exit(1)


@keys.command("retire")
@click.option("--purpose", required=True, type=PURPOSES)
@click.option("--version", required=True, type=int)
@_fail_cleanly
def keys_retire(purpose: str, version: int) -> None:
    """Remove an old version from the key file, once no row uses it."""
    from cohort import audit
    from cohort.identity.keyring import Purpose, remove_version
    from cohort.services.keys import check_retirable

    with _unit_of_work() as session:
        check_retirable(session, _keyring(), Purpose(purpose), version)
        remove_version(_key_file(), Purpose(purpose), version)
        audit.append(session, _system_actor(), "keys.retire", now=clock.now(),
                     details={"purpose": purpose, "version": version})
    click.echo(f"{purpose}: version {version} retired")


@cli.command("erase")
@click.argument("participant_id")
@click.option("--delete-pathway", is_flag=True,
              help="Delete the pathway too (default: keep it, pseudonymous and countable).")
@click.option("--reason", required=True,
              help="Why (the request received, its date), at least 10 characters, no "
                   "identity; written to the audit log.")
@_fail_cleanly
def erase_command(participant_id: str, delete_pathway: bool, reason: str) -> None:
    """Erase a participant's identity at once (the operator's path on the server; in the
    service an erasure is asked by one administrator and approved by another)."""
    from cohort.errors import Rejected
    from cohort.models import Participant
    from cohort.services import lifecycle
    from cohort.services.lookup import by_uuid

    mode = lifecycle.DELETE_PATHWAY if delete_pathway else lifecycle.KEEP_PATHWAY
    with _unit_of_work() as session:
        participant = by_uuid(session, Participant, participant_id, "participant_id")
        if len(reason.strip()) < 10:
            raise Rejected("reason", "at least 10 characters")
        lifecycle.erase(session, _system_actor(), participant, mode=mode, cause="request",
                        now=clock.now(), ledger=_ledger(), reason=reason)
    _checkpoint()
    click.echo(f"erased ({mode})")


@cli.group()
def erasures() -> None:
    """The erasure ledger."""


@erasures.command("replay")
@_fail_cleanly
def erasures_replay() -> None:
    """Re-apply every erasure of the ledger file (run after restoring a backup)."""
    from cohort.services import lifecycle

    ledger = _ledger()
    if ledger is None:
        raise NotFound("no ledger configured", errors={"ERASURE_LEDGER_FILE": ["missing"]})
    with _unit_of_work() as session:
        applied = lifecycle.replay(session, _system_actor(), ledger, now=clock.now())
    _checkpoint()
    click.echo(f"{applied} erasures re-applied")


@cli.group()
def retention() -> None:
    """Retention limits."""


@retention.command("apply")
@click.option("--years", type=int, default=None,
              help="Years after the last exit (default: the RETENTION_YEARS setting).")
@click.option("--execute", is_flag=True, help="Erase for real (default: a dry run).")
@_fail_cleanly
def retention_apply(years: int | None, execute: bool) -> None:
    """Erase identities past retention; a dry run by default."""
    from cohort.services import lifecycle

    keep = years or int(current_app.config["RETENTION_YEARS"])
    with _unit_of_work() as session:
        count = lifecycle.apply_retention(session, _system_actor(), today=clock.today(),
                                          years=keep, execute=execute, now=clock.now(),
                                          ledger=_ledger())
    if execute:
        _checkpoint()
        click.echo(f"erased the identity of {count} participants (pathways kept)")
    else:
        click.echo(f"dry run: {count} participants are past retention ({keep} years); "
                   "run again with --execute to erase them")


def _ledger() -> Path | None:
    value = current_app.config.get("ERASURE_LEDGER_FILE")
    return Path(value) if value else None


def _checkpoint() -> None:
    from cohort.request_db import checkpoint

    checkpoint()


@cli.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_fail_cleanly
def backup_command(file: Path) -> None:
    """Write a consistent backup of the database to FILE (mode 0600; keys not included)."""
    from cohort.backup import backup

    done = backup(current_app.config["DATABASE_URL"], file,
                  pg_bin=current_app.config.get("PG_BIN"))
    click.echo(f"backup written: {done.path} ({done.size} bytes)")


@cli.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_fail_cleanly
def restore_command(file: Path) -> None:
    """Restore FILE into an empty database, then replay the erasure ledger."""
    from cohort.backup import restore
    from cohort.services import lifecycle
    from cohort.services.keys import check_against_database

    engine = current_app.extensions["cohort.engine"]
    engine.dispose()
    restore(current_app.config["DATABASE_URL"], file, pg_bin=current_app.config.get("PG_BIN"))
    engine.dispose()
    with engine.connect() as conn:  # the restored rows may need key versions we lack
        check_against_database(current_app.extensions["cohort.keyring"], conn)
    click.echo(f"restored from {file}")
    ledger = _ledger()
    if ledger is None:
        click.echo("warning: no ERASURE_LEDGER_FILE configured: erasures not replayed", err=True)
        return
    with _unit_of_work() as session:
        applied = lifecycle.replay(session, _system_actor(), ledger, now=clock.now())
    _checkpoint()
    click.echo(f"{applied} erasures re-applied from the ledger")


if __name__ == "__main__":
    cli()
