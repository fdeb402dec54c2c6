"""Backup and restore on both databases: every table comes back identical, a restore
refuses a database that is not empty, and the erasure ledger is replayed afterwards."""

from __future__ import annotations

import datetime as dt
import stat
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort import backup
from cohort.actors import SYSTEM, Actor, Role
from cohort.db import Model, make_engine
from cohort.identity.keyring import load_keyring
from cohort.models import Participant
from cohort.services import enrolments, lifecycle
from cohort.services.budgets import record_actual
from tests.builders import NOW, TODAY, enrol, record, register, structure
from tests.scenarios.test_aggregates_cli import cohort

ADMIN = Actor(role=Role.ADMIN, user_id=None)


def empty_database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/restored-{uuid.uuid4().hex[:6]}.db"
    server = request.getfixturevalue("pg_server")
    name = "r_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(server).set(database=name).render_as_string(hide_password=False)


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (and the schema revision), in primary-key order."""
    engine = make_engine(url)
    tables = {t.name: t for t in Model.metadata.sorted_tables}
    out = {}
    with engine.connect() as conn:
        for name, table in tables.items():
            order = list(table.primary_key.columns) or list(table.columns)
            out[name] = [tuple(r) for r in conn.execute(sa.select(table).order_by(*order))]
        out["alembic_version"] = [tuple(r) for r in conn.execute(
            sa.text("SELECT version_num FROM alembic_version"))]
    engine.dispose()
    return out


def test_backup_restore_and_ledger_replay(backend: str, fresh_database_url: str,
                                          keys_file: Path, tmp_path: Path,
                                          request: pytest.FixtureRequest) -> None:
    ring = load_keyring(str(keys_file), env={})
    engine = make_engine(fresh_database_url)
    with Session(engine) as s, s.begin():
        ml = structure(s)
        people = [register(s, ring, ase_past=True) for _ in range(3)]
        placements = [enrol(s, ring, p, "62-A6", ml, dt.date(2023, 2, 1)) for p in people]
        record(s, ring, people[0], "housing_entry", dt.date(2023, 3, 1),
               housing_type="social_rental")
        record(s, ring, people[1], "support_break", dt.date(2023, 4, 1),
               enrolment_id=placements[1].uuid, reason="absent")
        enrolments.end(s, SYSTEM, placements[2], {"end_date": dt.date(2023, 8, 31),
                                                  "exit_reason": "end_of_support"},
                       today=TODAY, now=NOW)
        record_actual(s, SYSTEM, "erbm-2023", "62-A6", 2023, {"total": Decimal("289000")},
                      now=NOW)
        erased_later = people[0].uuid
    engine.dispose()
    before = snapshot(fresh_database_url)
    assert before["participant"]
    assert before["followup_check"]
    assert before["alert"]

    env = {"COHORT_DATABASE_URL": fresh_database_url, "COHORT_KEYS_FILE": str(keys_file)}
    file = tmp_path / "cohort.backup"
    made = cohort("backup", str(file), env=env)
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    again = cohort("backup", str(file), env=env)
    assert again.returncode == 2
    assert "exists" in again.stderr

    # Every table comes back identical.
    copy = empty_database(backend, tmp_path, request)
    backup.restore(copy, file)
    assert snapshot(copy) == before
    refused = cohort("restore", str(file), env={**env, "COHORT_DATABASE_URL": copy})
    assert refused.returncode == 2
    assert "not empty" in refused.stderr

    # An erasure after the backup is re-applied when the backup is restored.
    ledger = tmp_path / "erasures.jsonl"
    engine = make_engine(fresh_database_url)
    with Session(engine) as s, s.begin():
        victim = s.execute(sa.select(Participant).where(
            Participant.uuid == erased_later)).scalar_one()
        lifecycle.erase(s, ADMIN, victim, mode="keep_pathway", cause="request", now=NOW,
                        ledger=ledger)
    engine.dispose()
    target = empty_database(backend, tmp_path, request)
    restored = cohort("restore", str(file), env={
        **env, "COHORT_DATABASE_URL": target, "COHORT_ERASURE_LEDGER_FILE": str(ledger)})
    assert restored.returncode == 0, restored.stderr
    assert "1 erasures re-applied" in restored.stdout
    engine = make_engine(target)
    with Session(engine) as s:
        sealed = s.execute(sa.select(Participant.identity_sealed).where(
            Participant.uuid == erased_later)).scalar_one()
        assert sealed is None
        assert s.execute(sa.select(sa.func.count()).select_from(Participant)).scalar_one() == 3
    engine.dispose()

    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(b"not a backup at all")
    broken = cohort("restore", str(damaged), env={
        **env, "COHORT_DATABASE_URL": empty_database(backend, tmp_path, request)})
    assert broken.returncode == 2
    assert "Traceback" not in broken.stderr
