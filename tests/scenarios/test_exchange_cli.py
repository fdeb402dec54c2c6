"""Exchange with partner systems through the import commands (issue 22): full error
reports, dry runs that match the real run, counts and a machine-readable summary."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

from cohort.actors import SYSTEM
from cohort.db import unit_of_work
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
