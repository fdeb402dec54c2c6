"""The CSV import refuses what the API refuses (domain.md §5): an event of an enrolment
dated outside its period, a start identical to one already recorded."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM
from cohort.identity.keyring import Keyring
from cohort.importer.events import import_events
from cohort.importer.report import ImportFailed
from cohort.models import Event
from cohort.services import enrolments, events
from tests.builders import NOW, TODAY, enrol, record, register, structure
from tests.db.test_import import refused, run, write

HEADER = ["id", "participant_id", "type", "date", "enrolment_id", "reason", "housing_type"]


def test_a_support_break_after_its_enrolment_is_refused(session: Session, keyring: Keyring,
                                                        tmp_path: Path) -> None:
    youth = register(session, keyring, birth_date=dt.date(2005, 3, 10))
    enrolment = enrol(session, keyring, youth, "62-A6", structure(session), dt.date(2023, 2, 1))
    enrolments.end(session, SYSTEM, enrolment, {"end_date": dt.date(2023, 6, 30),
                                                "exit_reason": "end_of_support"},
                   today=TODAY, now=NOW)
    rows = [
        [uuid.uuid4(), youth.uuid, "support_break", "2023-07-01", enrolment.uuid, "absent", None],
        [uuid.uuid4(), youth.uuid, "support_break", "2023-01-31", enrolment.uuid, "absent", None],
        [uuid.uuid4(), youth.uuid, "support_break", "2023-06-30", enrolment.uuid, "absent", None],
    ]
    assert refused(import_events, session, keyring, write(tmp_path / "a.csv", HEADER, rows)
                   ) == [(2, "date"), (3, "date")]
    assert run(import_events, session, keyring,
               write(tmp_path / "b.csv", HEADER, rows[2:])).created == 1
    assert session.execute(sa.select(Event.date).where(Event.participant_id == youth.id)
                           ).scalars().all() == [dt.date(2023, 6, 30)]


def test_a_start_identical_to_one_recorded_is_refused(session: Session, keyring: Keyring,
                                                      tmp_path: Path) -> None:
    youth = register(session, keyring, birth_date=dt.date(2005, 3, 10))
    enrol(session, keyring, youth, "62-A6", structure(session), dt.date(2023, 2, 1))
    record(session, keyring, youth, "housing_entry", dt.date(2023, 3, 1),
                      housing_type="social_rental", via_programme=False)
    voided = record(session, keyring, youth, "housing_entry", dt.date(2023, 4, 1),
                    housing_type="family", via_programme=False)
    events.void(session, SYSTEM, voided, "saisie en double", now=NOW)
    rows = [
        [uuid.uuid4(), youth.uuid, "housing_entry", "2023-03-01", None, None, "social_rental"],
        [uuid.uuid4(), youth.uuid, "housing_entry", "2023-03-01", None, None, "family"],
        [uuid.uuid4(), youth.uuid, "housing_entry", "2023-03-01", None, None, "family"],
        [uuid.uuid4(), youth.uuid, "housing_entry", "2023-04-01", None, None, "family"],
    ]
    with pytest.raises(ImportFailed) as failure:
        run(import_events, session, keyring, write(tmp_path / "a.csv", HEADER, rows))
    errors = failure.value.row_errors
    assert [(e.row, e.column) for e in errors] == [(2, "type"), (4, "type")]
    assert errors[0].reason == "identical to an event already recorded"
    assert run(import_events, session, keyring,
               write(tmp_path / "b.csv", HEADER, rows[1:2] + rows[3:])).created == 2
