"""Every migration runs both ways on each backend: up to head one revision at a time, down
to base one revision at a time, and up again.

Downgrades are otherwise never run, so a broken one would only show on the day a release
is rolled back. Each downgrade must give back exactly the schema its upgrade started from
(tables, columns, keys, indexes, checks, triggers and functions), base must hold no
application object, and after the second upgrade the models and the migrations must still
agree. Alembic runs through ``migrations/env.py`` as ``cohort db upgrade`` does, so on
SQLite without the foreign-key pragma (batch mode copies and drops tables: stack-notes P1).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from cohort.cli import alembic_config
from cohort.db import make_engine
from tests.conftest import empty_database

Schema = dict[str, Any]


def revisions(cfg: Any) -> list[str]:
    """The revision ids from the first to the head (one head: tests/test_consistency.py)."""
    script = ScriptDirectory.from_config(cfg)
    return [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]


def schema(url: str) -> Schema:
    """The database's schema as plain sorted data, comparable across two states (Alembic's
    own ``alembic_version`` table left out: it stays, empty, at base)."""
    engine = make_engine(url, foreign_keys=False, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return {"tables": _tables(sa.inspect(conn)), **_routines(conn)}
    finally:
        engine.dispose()


def _tables(inspector: Any) -> dict[str, Any]:
    """Each table's columns (in order: a batch copy must not reorder them), keys, indexes
    and checks, read with the inspector's one-query-per-kind ``get_multi_*`` methods."""
    def rows(items: list[dict[str, Any]]) -> list[str]:
        return sorted(json.dumps(item, sort_keys=True, default=str) for item in items)

    columns = inspector.get_multi_columns()
    pks = inspector.get_multi_pk_constraint()
    fks = inspector.get_multi_foreign_keys()
    uniques = inspector.get_multi_unique_constraints()
    indexes = inspector.get_multi_indexes()
    checks = inspector.get_multi_check_constraints()
    return {
        key[1]: {
            "columns": [{"name": c["name"], "type": str(c["type"]), "nullable": c["nullable"],
                         "default": c.get("default")} for c in columns[key]],
            "pk": pks[key],
            "fks": rows(fks[key]),
            "unique": rows(uniques[key]),
            "indexes": rows(indexes[key]),
            "checks": rows(checks[key]),
        }
        for key in columns if key[1] != "alembic_version"
    }


def _routines(conn: sa.Connection) -> dict[str, list[str]]:
    """Triggers and functions, which the inspector does not see (the audit log's)."""
    if conn.dialect.name == "sqlite":
        triggers = conn.exec_driver_sql(
            "SELECT name || ' ON ' || tbl_name FROM sqlite_master WHERE type = 'trigger'"
        ).scalars()
        return {"triggers": sorted(triggers), "functions": []}
    triggers = conn.exec_driver_sql(
        "SELECT tgname || ' ON ' || tgrelid::regclass FROM pg_trigger WHERE NOT tgisinternal"
    ).scalars()
    functions = conn.exec_driver_sql(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public'"
    ).scalars()
    return {"triggers": sorted(triggers), "functions": sorted(functions)}


def test_every_downgrade_undoes_its_upgrade(backend: str, tmp_path: Path,
                                            request: pytest.FixtureRequest) -> None:
    url = empty_database(backend, tmp_path, request)
    cfg = alembic_config(url)
    steps = revisions(cfg)
    assert len(steps) >= 2, "nothing to walk"
    before = {"base": schema(url)}
    for rev in steps:
        command.upgrade(cfg, rev)
        before[rev] = schema(url)
    at_head = before[steps[-1]]

    for rev, previous in zip(reversed(steps), reversed(["base", *steps[:-1]]), strict=True):
        command.downgrade(cfg, previous)
        assert schema(url) == before[previous], f"downgrade of {rev} leaves a different schema"

    assert before["base"] == {"tables": {}, "triggers": [], "functions": []}
    assert _current_revision(url) is None

    command.upgrade(cfg, "head")
    assert schema(url) == at_head
    command.check(cfg)  # raises if the models and the migrations disagree


def _current_revision(url: str) -> str | None:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    finally:
        engine.dispose()


# A few rows in the tables that the downgrades to 0002 keep. On SQLite 0003's downgrade
# rebuilds participant while every table referring to it holds rows: with the foreign-key
# pragma on, registration_grant (ON DELETE CASCADE) would lose its row.
NOW = dt.datetime(2024, 6, 15, 12, 0, tzinfo=dt.UTC)
SEED: dict[str, list[dict[str, Any]]] = {
    "programme": [{"id": 1, "code": "test", "title": "Programme de test",
                   "period_start": dt.date(2023, 1, 1), "period_end": dt.date(2025, 12, 31),
                   "parties": [], "settings": {}, "source_sha256": "0" * 64,
                   "loaded_at": NOW}],
    "action": [{"id": 1, "uuid": "00000000-0000-4000-8000-000000000041", "programme_id": 1,
                "code": "62-A6", "departement": "62", "axis": 1, "title": "Action de test",
                "public": "jeunes", "territory": "62", "eligibility": {}, "budget": {},
                "targets": {}, "indicators": [], "settings": {}}],
    "structure": [{"id": 1, "uuid": "00000000-0000-4000-8000-000000000001",
                   "name": "Mission locale de test", "kind": "mission_locale",
                   "departement": "62"}],
    "app_user": [{"id": 1, "uuid": "00000000-0000-4000-8000-000000000002",
                  "email": "coordination@example.org", "display_name": "coordination",
                  "structure_id": 1, "role": "coordinator", "password_hash": None,
                  "active": True, "session_version": 1}],
    "participant": [{"id": n, "uuid": f"00000000-0000-4000-8000-00000000001{n}",
                     "pseudonym": f"{n:064x}", "pseudonym_version": 1, "nir_hash": None,
                     "nir_version": None, "identity_sealed": b"sealed", "identity_version": 1,
                     "birth_month": "2004-11", "sex": "F", "home_departement": "62",
                     "home_epci": None, "ase_past": True, "registered_by_structure_id": 1,
                     "merged_into_id": None if n == 1 else 1} for n in (1, 2)],
    "enrolment": [{"id": 1, "uuid": "00000000-0000-4000-8000-000000000021",
                   "participant_id": 1, "action_id": 1, "structure_id": 1,
                   "start_date": dt.date(2023, 2, 1), "end_date": None, "exit_reason": None,
                   "rsa_at_entry": False, "age_at_entry": 18, "under_26": True,
                   "ase_past": True, "parent_child_0_3": False, "intensity": None,
                   "forced": False, "force_justification": None, "version": 1}],
    "event": [{"id": 1, "uuid": "00000000-0000-4000-8000-000000000031", "participant_id": 1,
               "enrolment_id": 1, "operation_id": None, "type": "housing_entry",
               "date": dt.date(2023, 3, 1), "closes_id": None,
               "attributes": {"housing_type": "social_rental"}, "category": None,
               "qualifying": None, "via_programme": None, "planned_months": None,
               "hours": None, "body_sha256": "0" * 64}],
    "registration_grant": [{"id": 1, "structure_id": 1, "participant_id": 2}],
}


def test_downgrade_keeps_the_rows_of_the_tables_it_keeps(backend: str, tmp_path: Path,
                                                         request: pytest.FixtureRequest
                                                         ) -> None:
    url = empty_database(backend, tmp_path, request)
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        _seed(engine)
        command.downgrade(cfg, "0002")
        with engine.connect() as conn:
            meta = sa.MetaData()
            meta.reflect(conn, only=list(SEED))
            for name, rows in SEED.items():
                table = meta.tables[name]
                kept = conn.execute(sa.select(table.c.id).order_by(table.c.id)).scalars()
                assert list(kept) == [row["id"] for row in rows], name
            assert "merged_into_id" not in meta.tables["participant"].c
            if backend == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    finally:
        engine.dispose()
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")
    command.check(cfg)


def _seed(engine: sa.Engine) -> None:
    stamps = {"created_at": NOW, "recorded_at": NOW, "granted_at": NOW}
    with engine.begin() as conn:
        meta = sa.MetaData()
        meta.reflect(conn, only=list(SEED))
        for name, rows in SEED.items():
            table = meta.tables[name]
            defaults = {k: v for k, v in stamps.items() if k in table.c}
            conn.execute(table.insert(), [defaults | row for row in rows])
