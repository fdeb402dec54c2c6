"""The CSV import refuses what the API refuses (domain.md §5): an event of an enrolment
dated outside its period, a start identical to one already recorded."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM
from cohort.identity.keyring import Keyring
from cohort.importer.events import import_events
from cohort.models import Event
from cohort.services import enrolments
from tests.builders import NOW, TODAY, enrol, register, structure
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
