"""Partitioned history on PostgreSQL (issue 20, migration 0023).

A database of the previous schema, populated by the demo (two years of pathways, voids,
alerts, follow-ups) and an audit log over several months, is converted in place: every
row is kept, in the partition of its period, every figure is the same, the audit chain
still verifies and the ids go on. On the partitioned tables the references to an event
hold as foreign keys did, a uuid stays unique across years, and a write past the last
partition is refused with the command that creates the next ones, which the monitoring
check reports ahead of time. SQLite keeps plain tables; the commands say so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cohort import audit, clock, demo
from cohort.actors import SYSTEM
from cohort.cli import alembic_config
from cohort.db import make_engine
from cohort.indicators.base import Cut
from cohort.indicators.engine import compute_action
from cohort.models import Event, Participant
from cohort.partitions import StorageNotReady
from cohort.reference import actions_of, programme_by_code
from cohort.services import lifecycle
from tests.builders import NOW, enrol, record, register, runs
from tests.conftest import new_database
from tests.scenarios.test_cli import cohort

D = dt.date
HISTORY = ("event", "event_interval", "audit_entry")
KEPT = (*HISTORY, "event_void", "alert", "followup_check")


def _only_postgresql(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite keeps plain tables")


def _digests(conn: sa.Connection) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its rows in id order."""
    return {table: tuple(conn.exec_driver_sql(  # type: ignore[misc]
        f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) "  # noqa: S608
        f"FROM {table} t").one()) for table in KEPT}


def _figures(session: Session) -> str:
    """Every declared indicator of both départements for 2024, as of its last day."""
    programme = programme_by_code(session, "erbm-2023")
    cut = Cut(period_from=D(2024, 1, 1), period_to=D(2024, 12, 31), as_of=D(2024, 12, 31))
    return json.dumps([[dataclasses.asdict(r) for r in compute_action(session, programme, a, cut)]
                       for a in actions_of(session, programme)], sort_keys=True, default=str)


def _kinds(conn: sa.Connection) -> dict[str, str]:
    return dict(conn.exec_driver_sql(  # type: ignore[arg-type]
        "SELECT relname, relkind::text FROM pg_class WHERE relname IN "
        "('event', 'event_interval', 'audit_entry')").all())


@pytest.fixture
def previous_schema(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
                    keyring: Any) -> str:
    """A database at revision 0022 holding the demo and audit entries over six months.

    Written at head and taken down to 0022 (the services write the head's schema), which
    the downgrade test proves is exactly the schema 0022 created."""
    _only_postgresql(backend)
    url = new_database(backend, tmp_path, request)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        demo.generate(session, keyring, seed=2023, participants=24, today=D(2024, 12, 31))
        for month in range(1, 7):
            audit.append(session, SYSTEM, "test.entry",
                         now=dt.datetime(2026, month, 15, 23, 30, tzinfo=dt.UTC))
    engine.dispose()
    command.downgrade(alembic_config(url), "0022")
    return url


def test_the_previous_schema_converts_in_place_keeping_rows_figures_and_chain(
        previous_schema: str, keyring: Any) -> None:
    url = previous_schema
    engine = make_engine(url)
    with engine.connect() as conn:
        assert set(_kinds(conn).values()) == {"r"}
        before = _digests(conn)
        top = conn.exec_driver_sql("SELECT max(id) FROM event").scalar_one()
    with Session(engine) as session:
        figures = _figures(session)
    assert before["event"][0] > 300
    assert before["event_void"][0] > 0
    assert before["alert"][0] > 0

    command.upgrade(alembic_config(url), "head")

    with engine.connect() as conn:
        assert _kinds(conn) == dict.fromkeys(HISTORY, "p")
        assert _digests(conn) == before
        # Each row sits in the partition of its period (dates from 2020 on, UTC months).
        misplaced = conn.exec_driver_sql(
            "SELECT count(*) FROM event WHERE tableoid::regclass::text "
            "<> 'event_y' || extract(year FROM date)").scalar_one()
        assert misplaced == 0
        misplaced = conn.exec_driver_sql(
            "SELECT count(*) FROM event_interval WHERE tableoid::regclass::text "
            "<> 'event_interval_y' || extract(year FROM start_date)").scalar_one()
        assert misplaced == 0
        months = conn.exec_driver_sql(
            "SELECT DISTINCT tableoid::regclass::text FROM audit_entry "
            "WHERE action = 'test.entry' ORDER BY 1").scalars().all()
        assert months == [f"audit_entry_m2026_{m:02d}" for m in range(1, 7)]
    with Session(engine) as session:
        assert _figures(session) == figures
        assert audit.verify(session) == []
    with Session(engine) as session, session.begin():
        person = session.execute(sa.select(Participant).limit(1)).scalar_one()
        added = record(session, keyring, person, "contact", D(2024, 6, 1), mode="phone")
        assert added.id > top

    command.downgrade(alembic_config(url), "0022")
    with engine.connect() as conn:
        assert set(_kinds(conn).values()) == {"r"}
        after = _digests(conn)
    assert after["event"][0] == before["event"][0] + 1
    assert after["audit_entry"] == before["audit_entry"]
    engine.dispose()


def _enrolled(session: Session, keyring: Any) -> Participant:
    """An ASE youth followed in 62-A6 since September 2023."""
    person = register(session, keyring, birth_date=D(2004, 5, 1))
    enrol(session, keyring, person, "62-A6", runs(session, "62-A6"), D(2023, 9, 1))
    return person


@pytest.fixture
def partitioned(backend: str, fresh_database_url: str) -> str:
    _only_postgresql(backend)
    return fresh_database_url


def test_references_to_events_hold_on_the_partitioned_table(
        partitioned: str, keyring: Any) -> None:
    engine = make_engine(partitioned)
    with Session(engine) as session, session.begin():
        person = _enrolled(session, keyring)
        entry = record(session, keyring, person, "housing_entry", D(2024, 3, 1),
                       housing_type="social_rental")
        first_uuid = uuid.uuid4()
        record(session, keyring, person, "contact", D(2024, 4, 1), id=first_uuid, mode="phone")
        pid, entry_id = person.id, entry.id

    def refused(sql: str, **params: Any) -> str:
        with engine.begin() as conn, pytest.raises(IntegrityError) as caught:
            conn.execute(sa.text(sql), params)
        return str(caught.value.orig)

    insert = ("INSERT INTO event (uuid, participant_id, type, date, closes_id, attributes, "
              "body_sha256, recorded_at) VALUES (:u, :p, :t, :d, :c, '{}', '', now())")
    assert "fk_event_closes_id_event" in refused(
        insert, u=str(uuid.uuid4()), p=pid, t="housing_exit", d=D(2025, 1, 2), c=10**9)
    assert "fk_event_void_event_id_event" in refused(
        "INSERT INTO event_void (event_id, reason, voided_at) VALUES (:e, 'x', now())", e=10**9)
    # The same client uuid on another date (another partition) is still a duplicate.
    assert "uq_event_uuid" in refused(
        insert, u=str(first_uuid), p=pid, t="contact", d=D(2023, 4, 1), c=None)
    # An event its interval still points at cannot go (ON DELETE RESTRICT).
    assert "still referenced" in refused("DELETE FROM event WHERE id = :e", e=entry_id)

    # Erasing the person with their pathway removes everything, in the service's order.
    with Session(engine) as session, session.begin():
        person = session.get(Participant, pid)
        lifecycle.erase(session, SYSTEM, person, mode=lifecycle.DELETE_PATHWAY,
                        cause="test", now=NOW, ledger=None)
    with engine.connect() as conn:
        left = conn.execute(sa.select(sa.func.count()).select_from(Event)
                            .where(Event.participant_id == pid)).scalar_one()
        assert left == 0
    engine.dispose()


def _drop_event_years(url: str, first: int) -> list[int]:
    """As if nobody had run the monthly command since ``first - 1``."""
    years = list(range(first, clock.today().year + 2))
    engine = make_engine(url)
    with engine.begin() as conn:
        for year in years:
            conn.exec_driver_sql(f"DROP TABLE event_y{year}")
    engine.dispose()
    return years


def test_a_write_past_the_last_partition_is_refused_until_the_next_ones_exist(
        partitioned: str, keys_file: Path, keyring: Any,
        capfd: pytest.CaptureFixture[str]) -> None:
    from cohort import create_app
    from cohort.services import accounts
    from tests.builders import token_client

    url = partitioned
    years = _drop_event_years(url, 2024)
    env = {"COHORT_DATABASE_URL": url, "COHORT_KEYS_FILE": str(keys_file)}
    check = cohort("db", "partitions", "check", env=env)
    assert check.returncode == 1
    assert "event: partitions end on 2023-12-31" in check.stderr
    assert "run `cohort db partitions create`" in check.stderr

    app = create_app({"DATABASE_URL": url, "KEYS_FILE": str(keys_file)})
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        person_uuid = _enrolled(session, keyring).uuid
        coordinator = accounts.create_user(session, SYSTEM, {
            "email": "coord@example.org", "display_name": "coord", "role": "coordinator",
            "structure_id": runs(session, "62-A6").uuid, "password": None}, now=NOW)
        secret = accounts.create_token(session, SYSTEM, coordinator, label="tests", days=1,
                                       now=dt.datetime.now(dt.UTC)).secret
    client = token_client(app, secret)
    event = {"id": str(uuid.uuid4()), "participant_id": str(person_uuid), "type": "contact",
             "date": "2024-05-02", "attributes": {"mode": "phone"}}
    answer = client.post("/api/v1/events", json=event)
    assert answer.status_code == 503, answer.get_json()
    body = answer.get_json()
    assert body["errors"]["json"]["date"] == [
        "no partition of the event history holds year 2024 yet"]
    assert "cohort db partitions create --through 2024-12-31" in body["message"]
    logged = [json.loads(line) for line in capfd.readouterr().err.splitlines()
              if line.startswith("{")]
    loud = [(e["level"], e["path"], e["msg"]) for e in logged
            if e["logger"] == "cohort.partitions"]
    assert loud == [("ERROR", "/api/v1/events", "no partition of event holds year 2024: run "
                     "`cohort db partitions create --through 2024-12-31`")]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one() == 0

    created = cohort("db", "partitions", "create", env=env)
    assert created.returncode == 0, created.stderr
    assert [f"created event_y{year}" for year in years] == [
        line for line in created.stdout.splitlines() if line.startswith("created")]
    again = cohort("db", "partitions", "create", env=env)
    assert "created" not in again.stdout  # idempotent
    assert cohort("db", "partitions", "check", env=env).returncode == 0
    status = cohort("db", "partitions", "status", env=env)
    assert f"writes up to {clock.today().year + 1}-12-31" in status.stdout

    answer = client.post("/api/v1/events", json=event)
    assert answer.status_code == 201, answer.get_json()
    app.extensions["cohort.engine"].dispose()
    engine.dispose()


def test_creating_partitions_gives_way_to_a_running_query(
        partitioned: str, keys_file: Path) -> None:
    """A report reading the event table holds it: the command waits a few seconds (never
    queueing every write behind it), then stops without creating anything."""
    env = {"COHORT_DATABASE_URL": partitioned, "COHORT_KEYS_FILE": str(keys_file)}
    later = clock.today().year + 3
    engine = make_engine(partitioned)
    with engine.connect() as reader:
        reader.exec_driver_sql("SELECT count(*) FROM event").scalar_one()  # holds its lock
        blocked = cohort("db", "partitions", "create", "--through", f"{later}-12-31", env=env)
    assert blocked.returncode == 1
    assert "a running query holds a history table" in blocked.stderr
    assert "Traceback" not in blocked.stderr
    with engine.connect() as conn:
        assert conn.exec_driver_sql(
            f"SELECT to_regclass('event_y{later}')").scalar_one() is None
    done = cohort("db", "partitions", "create", "--through", f"{later}-12-31", env=env)
    assert f"created event_y{later}" in done.stdout
    assert f"created audit_entry_m{later}_12" in done.stdout
    engine.dispose()


def test_an_events_import_past_the_last_partition_is_refused_whole(
        partitioned: str, keyring: Any, tmp_path: Path) -> None:
    from cohort.importer.events import import_events
    from tests.builders import TODAY
    from tests.db.test_import import EVENT_HEADER, write

    _drop_event_years(partitioned, 2024)
    engine = make_engine(partitioned)
    with Session(engine) as session, session.begin():
        person_uuid = _enrolled(session, keyring).uuid
    rows = [[str(uuid.uuid4()), str(person_uuid), "contact", day, "", "", "", "", "", "", "",
             "phone", "", ""] for day in ("2023-11-02", "2024-02-03")]
    path = write(tmp_path / "events.csv", EVENT_HEADER, rows)
    with Session(engine) as session, pytest.raises(StorageNotReady) as refused, \
            session.begin():
        import_events(session, keyring, path, today=TODAY, now=NOW)
    assert refused.value.errors == {
        "date": ["no partition of the event history holds year 2024 yet"]}
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one() == 0
    engine.dispose()


def test_on_sqlite_the_commands_say_there_is_nothing_to_partition(
        backend: str, fresh_database_url: str, keys_file: Path) -> None:
    if backend != "sqlite":
        pytest.skip("the PostgreSQL commands are tested above")
    env = {"COHORT_DATABASE_URL": fresh_database_url, "COHORT_KEYS_FILE": str(keys_file)}
    status = cohort("db", "partitions", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert "event: plain table" in status.stdout
    assert cohort("db", "partitions", "check", env=env).returncode == 0
    created = cohort("db", "partitions", "create", env=env)
    assert "plain tables: nothing to create" in created.stdout
