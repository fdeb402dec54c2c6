"""Crash safety: `cohort import` and `cohort keys rotate` killed with SIGKILL mid-way.

The import is one transaction: after the kill the database holds none of the file, and a
rerun holds every row exactly once. The rotation commits batch by batch: after the kill
some rows are on the new key version and some on the old, every identity still opens, and
a rerun finishes the job so that the old version can be retired. Both databases pass their
integrity checks afterwards.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.db import is_sqlite, make_engine
from cohort.errors import Conflict
from cohort.identity.keyring import Purpose, load_keyring
from cohort.models import Event, EventInterval, Participant
from cohort.services import keys
from cohort.services.participants import read_identity
from tests.builders import enrol, register, structure

PEOPLE = 300
EVENTS_EACH = 100  # 30,000 events: several seconds of import, long enough to be killed in


def cohort_process(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COHORT_")}
    return subprocess.Popen([sys.executable, "-m", "cohort.cli", *args], env=clean | env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own group: workers die with it


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def kill_when(process: subprocess.Popen[str], ready: Callable[[], bool]) -> None:
    """SIGKILL the process group as soon as `ready()` holds (it must still be running).

    The group is stopped (SIGSTOP) while `ready()` looks, so it cannot run ahead between
    the look and the kill, however starved this poller is on a loaded machine."""
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, "finished before it could be killed: make it longer"
        assert time.monotonic() < deadline
        os.killpg(process.pid, signal.SIGSTOP)
        if ready():
            break
        os.killpg(process.pid, signal.SIGCONT)
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


def integrity(url: str) -> None:
    engine = make_engine(url)
    with engine.connect() as conn:
        if is_sqlite(url):
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        else:  # every constraint validated; no orphan interval or event
            assert conn.execute(sa.text(
                "SELECT count(*) FROM pg_constraint WHERE NOT convalidated")).scalar() == 0
        orphans = conn.execute(sa.select(sa.func.count()).select_from(EventInterval).where(
            ~sa.exists().where(Event.id == EventInterval.start_event_id))).scalar()
        assert orphans == 0
    engine.dispose()


def count(url: str, model: object) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = int(conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())
    engine.dispose()
    return n


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, delimiter=";")
        out.writerow(header)
        out.writerows(rows)
    return path


def people_and_enrolments(url: str, keys_file: Path) -> list[str]:
    """PEOPLE ASE youths enrolled in 62-A6 (through the services); their participant ids."""
    ring = load_keyring(str(keys_file), env={})
    engine = make_engine(url)
    with Session(engine) as s, s.begin():
        ml = structure(s)
        people = [register(s, ring, birth_date=dt.date(2005, 1 + i % 12, 1 + i % 28))
                  for i in range(PEOPLE)]
        for p in people:
            enrol(s, ring, p, "62-A6", ml, dt.date(2023, 1, 2))
        ids = [str(p.uuid) for p in people]
    engine.dispose()
    return ids


def test_a_killed_import_leaves_nothing_and_a_rerun_everything_once(
        fresh_database_url: str, keys_file: Path, tmp_path: Path) -> None:
    env = {"COHORT_DATABASE_URL": fresh_database_url, "COHORT_KEYS_FILE": str(keys_file)}
    ids = people_and_enrolments(fresh_database_url, keys_file)
    rng = random.Random()
    rows, event_ids = [], []
    for pid in ids:
        for k in range(EVENTS_EACH):
            event_ids.append(str(uuid.uuid4()))
            day = dt.date(2023, 2, 1) + dt.timedelta(days=k * 5)
            rows.append([event_ids[-1], pid, "contact", day.isoformat(),
                         rng.choice(["phone", "meeting", "home_visit"])])
    events = write_csv(tmp_path / "events.csv", ["id", "participant_id", "type", "date", "mode"],
                       rows)

    process = cohort_process("import", "events", str(events), "--workers", "0", env=env)
    started = time.monotonic()
    pause = rng.uniform(2.5, 4.5)  # past start-up (~2 s), inside the import (~6 s here)
    kill_when(process, lambda: time.monotonic() - started > pause)
    assert count(fresh_database_url, Event) == 0  # all or nothing
    integrity(fresh_database_url)

    code, out, err = finish(cohort_process("import", "events", str(events), env=env))
    assert code == 0, err
    assert count(fresh_database_url, Event) == len(rows)
    engine = make_engine(fresh_database_url)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(Event.uuid)).scalars().all()
    engine.dispose()
    assert sorted(str(u) for u in stored) == sorted(event_ids)  # each row exactly once
    integrity(fresh_database_url)


def test_a_killed_rotation_is_finished_by_a_rerun(fresh_database_url: str, keys_file: Path,
                                                  tmp_path: Path) -> None:
    own_keys = tmp_path / "keys.toml"
    shutil.copy(keys_file, own_keys)
    env = {"COHORT_DATABASE_URL": fresh_database_url, "COHORT_KEYS_FILE": str(own_keys)}
    people_and_enrolments(fresh_database_url, own_keys)
    code, _, err = finish(cohort_process("keys", "add", "--purpose", "encryption", env=env))
    assert code == 0, err
    engine = make_engine(fresh_database_url)

    def moved() -> int:  # a plain reader: the stopped rotation may hold the write lock
        with engine.connect().execution_options(cohort_read_only=True) as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(Participant).where(
                Participant.identity_version == 2)).scalar_one())

    process = cohort_process("keys", "rotate", "--purpose", "encryption", "--batch-size", "1",
                             env=env)
    target = random.Random().randint(20, 120)
    kill_when(process, lambda: moved() >= target)
    halfway = moved()
    assert 20 <= halfway < PEOPLE
    integrity(fresh_database_url)
    ring = load_keyring(str(own_keys), env={})
    with Session(engine) as s:  # both versions open while the rotation is unfinished
        assert keys.versions_in_use(s, Purpose.ENCRYPTION) == {1: PEOPLE - halfway, 2: halfway}
        for p in s.execute(sa.select(Participant)).scalars():
            assert read_identity(ring, p)["last_name"].startswith("Testnom")
        with pytest.raises(Conflict):  # the old version is still in use
            keys.check_retirable(s, ring, Purpose.ENCRYPTION, 1)

    code, out, err = finish(cohort_process("keys", "rotate", "--purpose", "encryption",
                                           env=env))
    assert code == 0, err
    assert moved() == PEOPLE
    with Session(engine) as s:
        assert all(read_identity(ring, p)["last_name"].startswith("Testnom")
                   for p in s.execute(sa.select(Participant)).scalars())
    engine.dispose()
    code, out, err = finish(cohort_process("keys", "retire", "--purpose", "encryption",
                                           "--version", "1", env=env))
    assert code == 0, err
    integrity(fresh_database_url)
