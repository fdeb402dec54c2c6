"""The report on two connections: the same figures as on one, read from one state.

The execution report runs its statements on REPORT_WORKERS connections that share one
snapshot (cohort/snapshot.py). These tests commit real data (the other report tests work
inside one rolled-back connection, where only that connection sees the rows, so the
report computes there alone) and check that the figures are those of a single
connection, and that writes committed while the snapshot is opened or read never mix in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort import create_app, demo
from cohort.actors import SYSTEM
from cohort.db import make_engine
from cohort.errors import Rejected
from cohort.models import AuditEntry, InstanceMeta, Structure
from cohort.report import figures, model
from cohort.services import accounts
from cohort.snapshot import ATTEMPTS, run_shared, shared_snapshot
from tests.builders import NOW, token_client
from tests.conftest import new_database

D = dt.date
PARAMS = {"programme": "erbm-2023", "departement": "62", "year": 2023,
          "as_of": D(2024, 3, 31), "mode": "internal", "format": "json"}
SETTINGS = {"DISCLOSURE_K": 5, "DISCLOSURE_ROUNDING_BASE": 5}


@pytest.fixture(scope="module")
def engine_with_data(backend: str, keyring: Any, tmp_path_factory: pytest.TempPathFactory,
                     request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    """One committed demo database per backend for the module (the tests below only add
    markers, which no report reads)."""
    url = new_database(backend, tmp_path_factory.mktemp("snapshot"), request)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        demo.generate(session, keyring, seed=7, participants=40, today=D(2024, 12, 31))
    yield engine
    engine.dispose()


def _markers(session: Session) -> int:
    return session.execute(sa.select(sa.func.count()).select_from(InstanceMeta)).scalar_one()


def _commit_marker(engine: sa.Engine, key: str) -> None:
    with Session(engine) as session, session.begin():
        session.add(InstanceMeta(key=key, value="x"))


def test_the_report_on_two_connections_equals_the_report_on_one(
        engine_with_data: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    shared: list[int] = []

    def spy(engine: sa.Engine, tasks: Any, workers: int) -> Any:
        shared.append(workers)
        return run_shared(engine, tasks, workers)

    monkeypatch.setattr(model, "run_shared", spy)
    with Session(engine_with_data) as session:
        parallel = model.build(session, SYSTEM, PARAMS, {**SETTINGS, "REPORT_WORKERS": 2},
                               today=D(2024, 6, 15))
        session.rollback()
    with engine_with_data.connect() as connection, Session(bind=connection) as session:
        single = model.build(session, SYSTEM, PARAMS, {**SETTINGS, "REPORT_WORKERS": 2},
                             today=D(2024, 6, 15))
        session.rollback()
    assert shared == [2]  # only the engine-bound session shared a snapshot
    assert parallel == single
    accompanied = [i["value"] for a in single["actions"] for i in a["indicators"]
                   if i["code"] == "accompanied"]
    assert sum(accompanied) > 0  # the demo data is there, not two empty reports


def test_a_commit_after_the_snapshot_is_opened_is_seen_by_no_session(
        engine_with_data: sa.Engine) -> None:
    with Session(engine_with_data) as session:
        before = _markers(session)
    with shared_snapshot(engine_with_data, 2) as sessions:
        _commit_marker(engine_with_data, "after-opening")
        assert [_markers(s) for s in sessions] == [before, before]
    with Session(engine_with_data) as session:
        assert _markers(session) == before + 1


def test_a_commit_while_the_snapshot_is_being_opened_does_not_split_it(
        engine_with_data: sa.Engine) -> None:
    with Session(engine_with_data) as session:
        before = _markers(session)
    commits = iter(range(1))

    def commit_once() -> None:
        for n in commits:
            _commit_marker(engine_with_data, f"while-opening-{n}")

    with shared_snapshot(engine_with_data, 3, between=commit_once) as sessions:
        seen = [_markers(s) for s in sessions]
    assert len(sessions) == 3
    assert len(set(seen)) == 1
    # PostgreSQL: the followers import the first connection's snapshot, from before the
    # commit; SQLite: the commit is noticed and the connections are opened again, after.
    expected = before if engine_with_data.dialect.name == "postgresql" else before + 1
    assert seen == [expected] * 3


def test_writers_that_never_pause_leave_one_connection_on_sqlite(
        engine_with_data: sa.Engine) -> None:
    calls = iter(range(ATTEMPTS + 1))

    def commit_every_time() -> None:
        _commit_marker(engine_with_data, f"busy-{next(calls)}")

    with shared_snapshot(engine_with_data, 2, between=commit_every_time) as sessions:
        count = len(sessions)
    assert count == (2 if engine_with_data.dialect.name == "postgresql" else 1)


def test_a_failing_task_fails_the_whole_run(engine_with_data: sa.Engine) -> None:
    def refuse(_session: Session) -> int:
        raise Rejected("year", "outside the programme")

    tasks = {"fine": _markers, "refused": refuse, "also fine": _markers}
    with pytest.raises(Rejected):
        run_shared(engine_with_data, tasks, 2)
    found = run_shared(engine_with_data, {"a": _markers, "b": _markers}, 2)
    assert found["a"] == found["b"] >= 1  # at least the demo's own marker


def test_coordinators_write_while_a_report_is_computed(
        engine_with_data: sa.Engine, keys_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The report is computed in a read transaction and audited after: a write committed
    by someone else in the middle of it goes through (on SQLite the request used to hold
    the database's write lock while it computed, and that write waited, then failed)."""
    app = create_app({"DATABASE_URL": engine_with_data.url.render_as_string(hide_password=False),
                      "KEYS_FILE": str(keys_file)})
    with Session(engine_with_data) as session, session.begin():
        where = session.execute(sa.select(Structure).order_by(Structure.id).limit(1)).scalar_one()
        admin = accounts.create_user(session, SYSTEM, {
            "email": "admin-report@example.org", "display_name": "admin", "role": "admin",
            "structure_id": where.uuid, "password": None}, now=NOW)
        secret = accounts.create_token(session, SYSTEM, admin, label="t", days=1,
                                       now=dt.datetime.now(dt.UTC)).secret
        admin_id = admin.id
    fingerprint = figures.fingerprint
    written: list[str] = []

    def fingerprint_after_a_write(*args: Any) -> Any:
        _commit_marker(engine_with_data, "written during a report")
        written.append("committed")
        return fingerprint(*args)

    monkeypatch.setattr(figures, "fingerprint", fingerprint_after_a_write)
    answer = token_client(app, secret).get(
        "/api/v1/reports/erbm-2023/62/2023?format=json&mode=internal&as_of=2024-03-31")
    assert answer.status_code == 200, answer.get_json()
    assert written == ["committed"]
    with Session(engine_with_data) as session:
        audited = session.execute(sa.select(AuditEntry.details).where(
            AuditEntry.action == "report.generate",
            AuditEntry.actor_user_id == admin_id)).scalars().all()
    assert [(d["departement"], d["year"], d["mode"], d["format"]) for d in audited] == [
        ("62", 2023, "internal", "json")]
    app.extensions["cohort.engine"].dispose()
