"""`cohort import ...` as an operator runs it: three files, a re-run, a refused file."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cohort import create_app
from cohort.actors import SYSTEM
from cohort.db import unit_of_work
from cohort.importer.cli import import_group
from cohort.models import Enrolment, Event, EventInterval, Participant
from cohort.services import accounts
from cohort.services.structures import create_structure
from tests.builders import person, token_client
from tests.db.test_import import write


@pytest.fixture
def app(fresh_database_url: str, keys_file: Path) -> Iterator[Any]:
    app = create_app({"DATABASE_URL": fresh_database_url, "KEYS_FILE": str(keys_file)})
    yield app
    app.extensions["cohort.engine"].dispose()


def invoke(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(import_group, list(args), catch_exceptions=False)


def coordinator_of(app: Any, structure_uuid: str) -> Any:
    """An API client for a coordinator of the structure that follows the imported people."""
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        user = accounts.create_user(s, SYSTEM, {
            "email": "coordination@example.org", "display_name": "coordination",
            "structure_id": structure_uuid, "role": "coordinator", "password": None},
            now=dt.datetime.now(dt.UTC))
        secret = accounts.create_token(s, SYSTEM, user, label="tests", days=1,
                                       now=dt.datetime.now(dt.UTC)).secret
    return token_client(app, secret)


def counts(app: Any) -> dict[str, int]:
    with app.extensions["cohort.engine"].connect() as conn:
        return {model.__name__: conn.execute(
                    sa.select(sa.func.count()).select_from(model)).scalar_one()
                for model in (Participant, Enrolment, Event, EventInterval)}


def test_three_files_then_the_same_files_again(app: Any, tmp_path: Path) -> None:
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        ml = str(create_structure(s, SYSTEM, {"name": "Mission Locale de Lens",
                                              "kind": "mission_locale",
                                              "departement": "62"}).uuid)
    people = [person(birth_date=dt.date(2005, 3, 10), ase_past=True) for _ in range(3)]
    files = {
        "participants": write(tmp_path / "participants.csv",
                              ["last_name", "first_names", "birth_date", "ase_past"],
                              [[p["last_name"], p["first_names"], p["birth_date"], "oui"]
                               for p in people], bom=True),
        "enrolments": write(tmp_path / "enrolments.csv",
                            ["last_name", "first_names", "birth_date", "action_code",
                             "structure_id", "start_date", "rsa_at_entry"],
                            [[p["last_name"].upper(), p["first_names"], p["birth_date"],
                              "62-A6", ml, "2023-02-01", "non"] for p in people], sep=","),
    }
    ids = [[uuid.uuid4(), uuid.uuid4()] for _ in people]
    files["events"] = write(
        tmp_path / "events.csv",
        ["id", "last_name", "first_names", "birth_date", "type", "date", "housing_type",
         "reason"],
        [row for p, (entry, exit_) in zip(people, ids, strict=True) for row in (
            [entry, p["last_name"], p["first_names"], p["birth_date"], "housing_entry",
             "2023-03-01", "youth_residence", None],
            [exit_, p["last_name"], p["first_names"], p["birth_date"], "housing_exit",
             "2023-09-30", None, "moved_by_choice"])])

    for kind, created in (("participants", 3), ("enrolments", 3), ("events", 6)):
        if kind == "events":
            refused = invoke(app, kind, "--remember", "0", str(files[kind]))
            assert refused.exit_code == 2
            assert "--remember" in refused.output
        # Remembering one participant: the others are read back between chunks.
        options = ["--remember", "1"] if kind == "events" else []
        result = invoke(app, kind, *options, str(files[kind]))
        assert result.exit_code == 0, result.output
        assert re.search(rf"created( open)? {created},", result.stdout), result.stdout
    assert counts(app) == {"Participant": 3, "Enrolment": 3, "Event": 6, "EventInterval": 3}

    for kind, rows in (("participants", 3), ("enrolments", 3), ("events", 6)):
        again = invoke(app, kind, str(files[kind]))
        assert again.exit_code == 0, again.output
        assert re.search(r"created( open)? 0,", again.stdout), again.stdout
        assert f"unchanged {rows}, refused 0" in again.stdout
    assert counts(app) == {"Participant": 3, "Enrolment": 3, "Event": 6, "EventInterval": 3}

    # The API recognises an imported event posted again with the same id and body.
    with app.extensions["cohort.engine"].connect() as conn:
        first = conn.execute(sa.select(Participant.uuid).order_by(Participant.id)).scalar()
    body = {"id": str(ids[0][0]), "participant_id": str(first), "type": "housing_entry",
            "date": "2023-03-01", "attributes": {"housing_type": "youth_residence"}}
    response = coordinator_of(app, ml).post("/api/v1/events", json=body)
    assert response.status_code == 200, response.get_json()


def test_a_file_with_three_bad_rows_exits_2_and_writes_nothing(app: Any,
                                                                tmp_path: Path) -> None:
    people = [person() for _ in range(5)]
    rows = [[p["last_name"], p["first_names"], p["birth_date"], "F"] for p in people]
    rows[1][2] = "10/03/2005"  # not ISO
    rows[2][0] = "***"  # normalises to nothing
    rows[4][3] = "female"
    path = write(tmp_path / "participants.csv",
                 ["last_name", "first_names", "birth_date", "sex"], rows)

    result = invoke(app, "participants", str(path))
    assert result.exit_code == 2
    assert "row 3, column birth_date:" in result.stderr
    assert "row 4, column last_name:" in result.stderr
    assert "row 6, column sex:" in result.stderr
    for p in people:
        for value in (p["last_name"], p["first_names"], p["birth_date"].isoformat()):
            assert value not in result.output
    assert "10/03/2005" not in result.output
    assert counts(app)["Participant"] == 0


def test_worker_processes_and_the_programme_option(app: Any, tmp_path: Path) -> None:
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        ml = str(create_structure(s, SYSTEM, {"name": "PLIE", "kind": "plie",
                                              "departement": "62"}).uuid)
    people = [person(birth_date=dt.date(2000, 1, 1), ase_past=False) for _ in range(4)]
    participants = write(tmp_path / "p.csv", ["last_name", "first_names", "birth_date"],
                         [[p["last_name"], p["first_names"], p["birth_date"]] for p in people])
    assert invoke(app, "participants", "--workers", "2", str(participants)).exit_code == 0
    enrolments = write(tmp_path / "e.csv",
                       ["last_name", "first_names", "birth_date", "action_code",
                        "structure_id", "start_date", "rsa_at_entry"],
                       [[p["last_name"], p["first_names"], p["birth_date"], "62-A1", ml,
                         "2023-02-01", "1"] for p in people])
    unknown = invoke(app, "enrolments", "--programme", "erbm-1999", str(enrolments))
    assert unknown.exit_code == 2
    assert "programme" in unknown.stderr
    done = invoke(app, "enrolments", "--programme", "erbm-2023", "--workers", "2",
                  str(enrolments))
    assert done.exit_code == 0, done.output
    assert "created open 4," in done.stdout
