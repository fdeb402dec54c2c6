"""Exchange with partner systems through the import commands (issue 22): full error
reports, dry runs that match the real run, counts and a machine-readable summary."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from cohort.actors import SYSTEM
from cohort.db import unit_of_work
from cohort.models import Event
from cohort.services.structures import create_structure
from tests.builders import person
from tests.db.test_import import write
from tests.scenarios.test_import_cli import app, counts, invoke  # noqa: F401 - the fixture


def _structure(app: Any, name: str = "Mission Locale de Lens") -> str:  # noqa: F811
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        return str(create_structure(s, SYSTEM, {"name": name, "kind": "mission_locale",
                                                "departement": "62"}).uuid)


def test_bad_rows_give_the_full_error_file_and_a_dry_run_that_matches(
        app: Any, tmp_path: Path) -> None:  # noqa: F811
    people = [person(birth_date=dt.date(2005, 3, 10), ase_past=True) for _ in range(1200)]
    rows = [[p["last_name"], p["first_names"], p["birth_date"], "oui"] for p in people]
    bad = {3: 2, 500: 2, 1100: 2}  # row number (header = 1) → column index to spoil
    for line in range(10, 1200):  # 1,190 refused rows: past the old stop at 1,000
        rows[line - 2][3] = "peut-être"
    for line, column in bad.items():
        rows[line - 2][column] = "10/03/2005"
    header = ["last_name", "first_names", "birth_date", "ase_past"]
    path = write(tmp_path / "participants.csv", header, rows)

    dry = invoke(app, "participants", "--dry-run", "--summary-json",
                 str(tmp_path / "dry.json"), str(path))
    real = invoke(app, "participants", "--errors", str(tmp_path / "errors.csv"),
                  "--summary-json", str(tmp_path / "real.json"), str(path))
    assert dry.exit_code == real.exit_code == 2
    assert counts(app)["Participant"] == 0  # neither wrote anything
    dry_counts = json.loads((tmp_path / "dry.json").read_text())["counts"]
    real_summary = json.loads((tmp_path / "real.json").read_text())
    assert dry_counts == real_summary["counts"] == {
        "rows": 1200, "created": 1200 - 1190 - 1, "unchanged": 0, "refused": 1191}
    assert real_summary["imported"] is False
    assert real_summary["created"] == {}
    assert {r["column"]: r["rows"] for r in real_summary["refused_by_rule"]} == {
        "ase_past": 1188, "birth_date": 3}
    with (tmp_path / "errors.csv").open(encoding="utf-8") as fh:
        listed = list(csv.DictReader(fh))
    assert len(listed) == 1191
    assert {int(r["line"]) for r in listed} == {3, *range(10, 1200)}
    assert {r["column"] for r in listed} == {"birth_date", "ase_past"}
    assert "refused rows by rule:" in real.stderr
    # Never a value of the file, in the terminal or the error file.
    text = real.output + dry.output + (tmp_path / "errors.csv").read_text()
    for p in people[:50]:
        assert p["last_name"] not in text
    assert "10/03/2005" not in text
    assert "peut-être" not in text

    # Fixed, the dry run says exactly what the import then does.
    for line in (*range(10, 1200), *bad):
        rows[line - 2] = [people[line - 2]["last_name"], people[line - 2]["first_names"],
                          people[line - 2]["birth_date"], "oui"]
    write(path, header, rows[:600])
    invoke(app, "participants", str(path))
    write(path, header, rows)
    dry = invoke(app, "participants", "--dry-run", str(path))
    assert dry.exit_code == 0, dry.output
    assert "dry run, nothing written: participants: 1200 rows, created 600, unchanged 600, " \
           "refused 0" in dry.stdout
    assert counts(app)["Participant"] == 600
    done = invoke(app, "participants", "--summary-json", str(tmp_path / "done.json"),
                  str(path))
    assert done.stdout == "participants: 1200 rows, created 600, unchanged 600, refused 0\n"
    created = json.loads((tmp_path / "done.json").read_text())["created"]
    assert sorted(map(int, created)) == list(range(602, 1202))
    assert counts(app)["Participant"] == 1200


def _operation(app: Any, code: str) -> None:  # noqa: F811
    from cohort.models import Action
    from cohort.services.structures import create_operation

    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        action = s.execute(sa.select(Action).where(Action.code == "62-A6")).scalar_one()
        create_operation(s, SYSTEM, {"code": code, "action_id": action.uuid,
                                     "kind": "clause_site", "label": "Chantier de Liévin",
                                     "start_date": dt.date(2023, 1, 1)},
                         now=dt.datetime.now(dt.UTC))


def test_a_partner_export_with_natural_keys_only_loads_completely(
        app: Any, tmp_path: Path) -> None:  # noqa: F811
    _structure(app)
    _operation(app, "CH-LIEVIN-2023")
    people = [person(birth_date=dt.date(2005, 3, 10), ase_past=True) for _ in range(4)]
    files = {
        "participants": write(
            tmp_path / "participants.csv",
            ["last_name", "first_names", "birth_date", "ase_past", "file_number"],
            [[p["last_name"], p["first_names"], p["birth_date"], "oui", f"ML-{i:04d}"]
             for i, p in enumerate(people)]),
        "enrolments": write(
            tmp_path / "enrolments.csv",
            ["file_number", "action_code", "start_date", "rsa_at_entry", "end_date",
             "exit_reason"],
            [[f"ML-{i:04d}", "62-A6", "2023-02-01", "non",
              "2023-09-30" if i == 3 else None, "employment" if i == 3 else None]
             for i in range(4)]),
        "events": write(
            tmp_path / "events.csv",
            ["id", "file_number", "type", "date", "action_code", "operation_code",
             "housing_type", "reason", "hours"],
            [row for i in range(4) for row in (
                [f"EV-{i}-1", f"ML-{i:04d}", "housing_entry", "2023-03-01", None, None,
                 "youth_residence", None, None],
                [f"EV-{i}-2", f"ML-{i:04d}", "support_break", "2023-04-01", "62-A6", None,
                 None, "absent", None],
                [f"EV-{i}-3", f"ML-{i:04d}", "clause_hours", "2023-05-01", None,
                 "CH-LIEVIN-2023", None, None, "35"],
            )]),
    }
    for text in files.values():
        body = text.read_text()
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", body)  # no uuid anywhere

    expected = {
        "participants": "participants: 4 rows, created 4, unchanged 0, refused 0\n",
        "enrolments": "enrolments: 4 rows, created open 3, created ended 1, ended 0, "
                      "unchanged 0, refused 0\n",
        "events": "events: 12 rows, created 12, unchanged 0, refused 0\n",
    }
    for kind, path in files.items():
        done = invoke(app, kind, "--structure", "Mission Locale de Lens", str(path))
        assert done.exit_code == 0, done.output
        assert done.stdout == expected[kind]
    assert counts(app) == {"Participant": 4, "Enrolment": 4, "Event": 12, "EventInterval": 8}
    with app.extensions["cohort.engine"].connect() as conn:
        linked = conn.execute(sa.select(sa.func.count()).select_from(Event).where(
            Event.enrolment_id.is_not(None) | Event.operation_id.is_not(None))).scalar_one()
    assert linked == 8

    # The same files again change nothing.
    for kind, path in files.items():
        again = invoke(app, kind, "--structure", "Mission Locale de Lens", str(path))
        assert again.exit_code == 0, again.output
        assert re.search(r"unchanged (4|12), refused 0", again.stdout), again.stdout
    assert counts(app) == {"Participant": 4, "Enrolment": 4, "Event": 12, "EventInterval": 8}

    # A file number is the structure's own: without the structure it names nothing.
    alone = invoke(app, "events", str(files["events"]))
    assert alone.exit_code == 2
    assert "file_number: a file number needs the structure" in alone.stderr

    # Export → edit one row → import: only that row changes.
    from cohort.importer.cli import export_command

    def export(kind: str, *extra: str) -> Path:
        path = tmp_path / f"export-{kind}.csv"
        done = app.test_cli_runner().invoke(export_command, [
            kind, "--structure", "Mission Locale de Lens", "-o", str(path), *extra],
            catch_exceptions=False)
        assert done.exit_code == 0, done.output
        return path

    exported = export("enrolments").read_text().splitlines()
    assert len(exported) == 5
    open_rows = [i for i, line in enumerate(exported) if line.endswith(";;")]
    edited = exported[open_rows[0]].removesuffix(";;") + ";2023-12-31;training"
    (tmp_path / "edited.csv").write_text(
        "\n".join([*exported[:open_rows[0]], edited, *exported[open_rows[0] + 1:]]) + "\n")
    done = invoke(app, "enrolments", str(tmp_path / "edited.csv"))
    assert done.stdout == ("enrolments: 4 rows, created open 0, created ended 0, ended 1, "
                           "unchanged 3, refused 0\n"), done.output
    with_identity = export("enrolments", "--with-identity")
    again = invoke(app, "enrolments", str(with_identity))
    assert "ended 0, unchanged 4, refused 0" in again.stdout, again.output
    assert people[0]["last_name"] in with_identity.read_text()
    # Participants: the export without identity names them by uuid, and imports unchanged.
    participants = export("participants")
    assert len(participants.read_text().splitlines()) == 5
    assert people[0]["last_name"] not in participants.read_text()
    again = invoke(app, "participants", str(participants))
    assert again.stdout == "participants: 4 rows, created 0, unchanged 4, refused 0\n", \
        again.output
    # With identity: one row edited into someone new creates that one only.
    named = export("participants", "--with-identity").read_text().splitlines()
    newcomer = person(birth_date=dt.date(2005, 3, 10), ase_past=True)
    cells = named[2].split(";")
    cells[:3] = [newcomer["last_name"], newcomer["first_names"],
                 newcomer["birth_date"].isoformat()]
    (tmp_path / "people.csv").write_text("\n".join([*named[:2], ";".join(cells),
                                                    *named[3:]]) + "\n")
    done = invoke(app, "participants", str(tmp_path / "people.csv"))
    assert done.stdout == "participants: 4 rows, created 1, unchanged 3, refused 0\n", \
        done.output
    assert counts(app)["Participant"] == 5

    # Events: those imported by action_code/operation_code (digest over the resolved
    # uuids, as the API's) come back from the export unchanged; one row edited into a new
    # event creates that one only; content edited under a kept id is refused by id.
    exported_events = export("events").read_text().splitlines()
    assert len(exported_events) == 13
    again = invoke(app, "events", str(tmp_path / "export-events.csv"))
    assert again.stdout == "events: 12 rows, created 0, unchanged 12, refused 0\n", again.output
    header = exported_events[0].split(";")
    hours_row = next(i for i, line in enumerate(exported_events) if ";clause_hours;" in line)
    cells = exported_events[hours_row].split(";")
    cells[header.index("id")] = "6f1c7a56-0d7e-4c55-9d55-1f2a9e4f0a01"
    cells[header.index("date")] = "2023-05-02"
    edited_events = [*exported_events[:hours_row], ";".join(cells),
                     *exported_events[hours_row + 1:]]
    (tmp_path / "edited-events.csv").write_text("\n".join(edited_events) + "\n")
    done = invoke(app, "events", str(tmp_path / "edited-events.csv"))
    assert done.stdout == "events: 12 rows, created 1, unchanged 11, refused 0\n", done.output
    assert invoke(app, "events", str(tmp_path / "edited-events.csv")).stdout == \
        "events: 12 rows, created 0, unchanged 12, refused 0\n"
    cells[header.index("hours")] = "40"
    (tmp_path / "edited-events.csv").write_text("\n".join(
        [*exported_events[:hours_row], ";".join(cells)]) + "\n")
    refused = invoke(app, "events", str(tmp_path / "edited-events.csv"))
    assert refused.exit_code == 2
    assert "id: already used for a different event" in refused.stderr
    # And the natural-key file itself, once more, is still unchanged.
    again = invoke(app, "events", "--structure", "Mission Locale de Lens", str(files["events"]))
    assert "created 0, unchanged 12, refused 0" in again.stdout, again.output


def test_an_event_posted_through_the_api_exports_and_imports_unchanged(
        app: Any, tmp_path: Path) -> None:  # noqa: F811
    from cohort.importer.cli import export_command
    from tests.scenarios.test_import_cli import coordinator_of

    ml = _structure(app)
    _operation(app, "CH-LENS-2023")
    someone = person(birth_date=dt.date(2005, 3, 10), ase_past=True)
    write(tmp_path / "p.csv", ["last_name", "first_names", "birth_date", "ase_past"],
          [[someone["last_name"], someone["first_names"], someone["birth_date"], "oui"]])
    assert invoke(app, "participants", "--structure", ml, str(tmp_path / "p.csv")).exit_code == 0
    write(tmp_path / "e.csv", ["last_name", "first_names", "birth_date", "action_code",
                               "start_date", "rsa_at_entry"],
          [[someone["last_name"], someone["first_names"], someone["birth_date"], "62-A6",
            "2023-02-01", "non"]])
    assert invoke(app, "enrolments", "--structure", ml, str(tmp_path / "e.csv")).exit_code == 0
    client = coordinator_of(app, ml)
    identity = {k: str(someone[k]) for k in ("last_name", "first_names", "birth_date")}
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        from cohort.models import Enrolment, Operation

        enrolment = str(s.execute(sa.select(Enrolment.uuid)).scalar_one())
        operation = str(s.execute(sa.select(Operation.uuid)).scalar_one())
    bodies = [
        {"id": "0b9f5c3e-7a51-4d0e-9a3c-5d0c6a1e2f01", "participant": identity,
         "type": "support_break", "date": "2023-04-01", "enrolment_id": enrolment,
         "attributes": {"reason": "absent"}},
        {"id": "0b9f5c3e-7a51-4d0e-9a3c-5d0c6a1e2f02", "participant": identity,
         "type": "clause_hours", "date": "2023-05-01", "operation_id": operation,
         "attributes": {"hours": "35"}},
    ]
    for body in bodies:
        answer = client.post("/api/v1/events", json=body)
        assert answer.status_code == 201, answer.get_json()
        assert client.post("/api/v1/events", json=body).status_code == 200  # a retry
    path = tmp_path / "events.csv"
    done = app.test_cli_runner().invoke(export_command, [
        "events", "--structure", ml, "-o", str(path)], catch_exceptions=False)
    assert done.exit_code == 0
    again = invoke(app, "events", str(path))
    assert again.stdout == "events: 2 rows, created 0, unchanged 2, refused 0\n", again.output
    # The same events by natural keys only: unchanged too.
    write(tmp_path / "keyed.csv", ["id", "last_name", "first_names", "birth_date", "type",
                                   "date", "action_code", "operation_code", "reason", "hours"],
          [[b["id"], someone["last_name"], someone["first_names"], someone["birth_date"],
            b["type"], b["date"], "62-A6" if "enrolment_id" in b else None,
            "CH-LENS-2023" if "operation_id" in b else None,
            b["attributes"].get("reason"), b["attributes"].get("hours")] for b in bodies])
    again = invoke(app, "events", str(tmp_path / "keyed.csv"))
    assert again.stdout == "events: 2 rows, created 0, unchanged 2, refused 0\n", again.output
    # A participant named in the body never by identity and uuid at once.
    both = client.post("/api/v1/events", json={**bodies[0], "participant_id": enrolment})
    assert both.status_code == 422
    assert "participant" in both.get_json()["errors"]["json"]
