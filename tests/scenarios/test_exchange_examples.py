"""The example files of docs/examples/ (one per kind, natural keys only) import as the
documentation says, in its order, and a second time change nothing; the kinds that record
changes (operations, enrolment ends, cancellations, voids, corrections) refuse bad rows as
the API does and report them like every import (issue 22, parts 2 and 6)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from cohort.db import unit_of_work
from cohort.models import Enrolment, Event, EventVoid, FollowUpCheck, Operation
from tests.db.test_import import write
from tests.scenarios.test_exchange_cli import _structure
from tests.scenarios.test_import_cli import app, counts, invoke  # noqa: F401 - the fixture

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
ORDER = ("operations", "participants", "enrolments", "events", "enrolment-ends",
         "cancellations", "voids", "corrections")
ML = "Mission Locale de Lens"


def _load_examples(app: Any) -> None:  # noqa: F811
    for kind in ORDER:
        done = invoke(app, kind, "--structure", ML, str(EXAMPLES / f"{kind}.csv"))
        assert done.exit_code == 0, (kind, done.output)


def test_every_example_file_imports_then_changes_nothing(app: Any) -> None:  # noqa: F811
    assert sorted(p.stem for p in EXAMPLES.glob("*.csv")) == sorted(ORDER)
    for kind in ORDER:  # natural keys only: no uuid in any example
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", (EXAMPLES / f"{kind}.csv").read_text())
    _structure(app, ML)
    said = {}
    for kind in ORDER:
        done = invoke(app, kind, "--structure", ML, str(EXAMPLES / f"{kind}.csv"))
        assert done.exit_code == 0, (kind, done.output)
        said[kind] = done.stdout
    assert said == {
        "operations": "operations: 1 rows, created 1, changed 0, unchanged 0, refused 0\n",
        "participants": "participants: 4 rows, created 4, unchanged 0, refused 0\n",
        "enrolments": "enrolments: 4 rows, created open 4, created ended 0, ended 0, "
                      "unchanged 0, refused 0\n",
        "events": "events: 5 rows, created 5, unchanged 0, refused 0\n",
        "enrolment-ends": "enrolment-ends: 1 rows, ended 1, unchanged 0, refused 0\n",
        "cancellations": "cancellations: 1 rows, cancelled 1, unchanged 0, refused 0\n",
        "voids": "voids: 1 rows, voided 1, unchanged 0, refused 0\n",
        "corrections": "corrections: 1 rows, corrected 1, unchanged 0, refused 0\n",
    }
    state = _state(app)
    assert state == {"operations": 1, "ended": 1, "cancelled": 1, "checks": 1,
                     "events": 6, "voided": 2, "hours": ["28"]}
    for kind in ORDER:
        again = invoke(app, kind, "--structure", ML, str(EXAMPLES / f"{kind}.csv"))
        assert again.exit_code == 0, (kind, again.output)
        assert re.search(r"unchanged [1-5], refused 0\n$", again.stdout), again.stdout
        assert not re.search(r"\b(created|ended|cancelled|voided|corrected|changed) [1-9]",
                             again.stdout), again.stdout
    assert _state(app) == state


def _state(app: Any) -> dict[str, Any]:  # noqa: F811
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        def count(model: Any, *where: Any) -> int:
            return s.execute(sa.select(sa.func.count()).select_from(model).where(*where)
                             ).scalar_one()

        live = ~sa.exists().where(EventVoid.event_id == Event.id)
        return {
            "operations": count(Operation),
            "ended": count(Enrolment, Enrolment.end_date.is_not(None)),
            "cancelled": count(Enrolment, Enrolment.cancelled_at.is_not(None)),
            "checks": count(FollowUpCheck, FollowUpCheck.status == "scheduled"),
            "events": count(Event),
            "voided": count(EventVoid),
            "hours": [str(int(h)) for h in s.execute(
                sa.select(Event.hours).where(Event.type == "clause_hours", live)).scalars()],
        }


def test_change_files_refuse_as_the_api_does_and_dry_runs_match(
        app: Any, tmp_path: Path) -> None:  # noqa: F811
    _structure(app, ML)
    _load_examples(app)
    ends = write(tmp_path / "ends.csv",
                 ["file_number", "action_code", "start_date", "end_date", "exit_reason"], [
                     ["ML-0002", "62-A6", None, "2023-10-31", "training"],      # ends it
                     ["ML-0001", "62-A6", None, "2023-09-30", "employment"],    # same: unchanged
                     ["ML-0001", "62-A6", "2023-02-01", "2023-08-31", "employment"],  # 409
                     ["ML-0003", "62-A6", None, "2023-01-01", "training"],      # before start
                     ["ML-0009", "62-A6", None, "2023-10-31", "training"],      # nobody
                     ["ML-0003", "62-A5", None, "2023-10-31", "training"],      # not enrolled
                     ["ML-0003", "62-A6", None, "2023-10-31", "fired"],         # bad reason
                 ])
    dry = invoke(app, "enrolment-ends", "--structure", ML, "--dry-run", "--summary-json",
                 str(tmp_path / "dry.json"), str(ends))
    real = invoke(app, "enrolment-ends", "--structure", ML, "--errors",
                  str(tmp_path / "errors.csv"), str(ends))
    assert dry.exit_code == real.exit_code == 2
    assert json.loads((tmp_path / "dry.json").read_text())["counts"] == {
        "rows": 7, "ended": 1, "unchanged": 1, "refused": 5}
    with (tmp_path / "errors.csv").open(encoding="utf-8") as fh:
        refused = {(int(r["line"]), r["column"], r["rule"]) for r in csv.DictReader(fh)}
    assert refused == {
        (4, "end_date", "already ended"),
        (5, "end_date", "is before the enrolment's start date"),
        (6, "file_number", "not found"),
        (7, "action_code", "the participant has no open enrolment in this action "
                           "(give start_date)"),
        (8, "exit_reason", "Must be one of: employment, training, housing_obtained, "
                           "moved_away, end_of_support, support_refused, lost_contact, "
                           "age_limit, other."),
    }, refused
    assert _state(app)["ended"] == 1  # nothing written

    voids = write(tmp_path / "voids.csv", ["id", "reason"], [
        ["EV-1-1", "wrong person"], ["EV-2-1", "another reason"], ["EV-9-9", "x"],
        ["EV-1-2", ""]])
    done = invoke(app, "voids", "--structure", ML, "--errors", str(tmp_path / "v.csv"),
                  str(voids))
    assert done.exit_code == 2
    with (tmp_path / "v.csv").open(encoding="utf-8") as fh:
        assert {(int(r["line"]), r["column"]) for r in csv.DictReader(fh)} == {
            (3, "id"), (4, "id"), (5, "reason")}
    without = invoke(app, "voids", str(EXAMPLES / "voids.csv"))
    assert "id: not a uuid (give --structure to use your own ids)" in without.stderr

    # Uuids stay accepted: an enrolment by enrolment_id, an event by its uuid.
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        open_one = s.execute(sa.select(Enrolment.uuid).where(
            Enrolment.end_date.is_(None), Enrolment.cancelled_at.is_(None))
            .order_by(Enrolment.id)).scalars().first()
        event = s.execute(sa.select(Event.uuid).where(
            Event.type == "housing_entry", ~sa.exists().where(EventVoid.event_id == Event.id))
            .order_by(Event.id)).scalars().first()
    by_id = write(tmp_path / "cancel.csv", ["enrolment_id", "reason"],
                  [[str(open_one), "duplicate"]])
    assert invoke(app, "cancellations", str(by_id)).stdout.startswith(
        "cancellations: 1 rows, cancelled 1, unchanged 0")
    assert "unchanged 1" in invoke(app, "cancellations", str(by_id)).stdout
    void = write(tmp_path / "void.csv", ["id", "reason"], [[str(event), "duplicate"]])
    assert "voided 1" in invoke(app, "voids", str(void)).stdout
    assert "unchanged 1" in invoke(app, "voids", str(void)).stdout

    # An operation file changes what differs, and refuses another action under its code.
    ops = write(tmp_path / "ops.csv", ["code", "action_code", "kind", "label", "start_date",
                                       "end_date", "planned_hours"], [
        ["CH-LIEVIN-2023", "62-A6", "clause_site", "Chantier de Liévin", "2023-01-01",
         "2024-06-30", "1500"],
        ["CH-ARRAS-2024", "62-A6", "clause_site", "Chantier d'Arras", "2024-01-01", None,
         None]])
    done = invoke(app, "operations", str(ops))
    assert done.exit_code == 0, done.output
    assert done.stdout == "operations: 2 rows, created 1, changed 1, unchanged 0, refused 0\n"
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        hours = s.execute(sa.select(Operation.planned_hours, Operation.end_date).where(
            Operation.code == "CH-LIEVIN-2023")).one()
    assert (int(hours[0]), hours[1]) == (1500, dt.date(2024, 6, 30))
    assert "unchanged 2" in invoke(app, "operations", str(ops)).stdout
    other = write(tmp_path / "other.csv", ["code", "action_code", "kind", "label",
                                           "start_date"],
                  [["CH-ARRAS-2024", "62-A5", "clause_site", "Chantier", "2024-01-01"]])
    refused_op = invoke(app, "operations", str(other))
    assert refused_op.exit_code == 2
    assert "action_code: differs from the operation recorded with this code" in \
        refused_op.stderr
    assert counts(app)["Enrolment"] == 4
