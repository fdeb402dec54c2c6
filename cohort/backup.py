"""Backups and restores of the database (keys are backed up separately: docs/operations.md).

SQLite: the online backup API (a consistent copy while the service runs, WAL included).
PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore``, found on the PATH or in
``PG_BIN``. A restore goes into an empty database only, and is followed by the replay of
the erasure ledger, so that nobody erased after the backup comes back.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from cohort.db import is_sqlite, make_engine
from cohort.errors import CohortError, Conflict, Rejected

DEFAULT_PG_BIN = "/usr/lib/postgresql/15/bin"


class BackupFailed(CohortError):
    def __init__(self, message: str, field: str = "backup"):
        super().__init__(message, errors={field: [message]})


@dataclass(frozen=True)
class Done:
    path: Path
    size: int


def _sqlite_path(url: str) -> Path:
    database = sa.make_url(url).database
    if not database or database == ":memory:":
        raise Rejected("DATABASE_URL", "a file database is needed")
    return Path(database)


def _pg_tool(name: str, pg_bin: str | None) -> str:
    found = shutil.which(name)
    candidate = Path(pg_bin or DEFAULT_PG_BIN) / name
    if candidate.exists():
        return str(candidate)
    if found:
        return found
    raise BackupFailed(f"{name} not found (set PG_BIN)", "PG_BIN")


def _pg_target(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password (which goes in the environment, not in `ps`), nor
    psycopg's prepare_threshold (a driver option libpq would refuse)."""
    parsed = sa.make_url(url).difference_update_query(["prepare_threshold"])
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False)
    return uri, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True,  # noqa: S603
                            check=False)  # fixed pg_* binaries, list arguments, no shell
    if result.returncode != 0:
        # pg_* messages name objects, never row values.
        last = (result.stderr.strip().splitlines() or ["failed"])[-1]
        raise BackupFailed(f"{what} failed: {last}")


def backup(url: str, target: Path, *, pg_bin: str | None = None) -> Done:
    """Write a consistent copy of the database to ``target`` (never overwritten)."""
    if target.exists():
        raise Conflict("the backup file already exists", errors={"file": ["exists"]})
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    if is_sqlite(url):
        source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    else:
        uri, env = _pg_target(url)
        _run([_pg_tool("pg_dump", pg_bin), "--format=custom", "--no-owner", "--no-privileges",
              "--file", str(partial), "--dbname", uri], env, "pg_dump")
    os.chmod(partial, 0o600)
    partial.rename(target)
    return Done(target, target.stat().st_size)


def _is_empty(url: str) -> bool:
    if is_sqlite(url) and not _sqlite_path(url).exists():
        return True
    engine = make_engine(url)
    try:
        return not sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def restore(url: str, source: Path, *, pg_bin: str | None = None) -> Done:
    """Restore a backup into an empty database (a new file or a newly created database)."""
    if not source.is_file():
        raise Rejected("file", "no such backup file")
    if not _is_empty(url):
        raise Conflict("the database is not empty: restore into a new database",
                       errors={"DATABASE_URL": ["not empty"]})
    if is_sqlite(url):
        path = _sqlite_path(url)
        backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            if backup_file.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupFailed("the backup file is damaged", "file")
            target = sqlite3.connect(path)
            try:
                backup_file.backup(target)
                problems = target.execute("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise BackupFailed("the restored database breaks foreign keys")
            finally:
                target.close()
        except sqlite3.DatabaseError as exc:
            raise BackupFailed("not a cohort SQLite backup", "file") from exc
        finally:
            backup_file.close()
    else:
        uri, env = _pg_target(url)
        _run([_pg_tool("pg_restore", pg_bin), "--no-owner", "--no-privileges",
              "--exit-on-error", "--single-transaction", "--dbname", uri, str(source)],
             env, "pg_restore")
    return Done(source, source.stat().st_size)
