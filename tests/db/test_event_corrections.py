"""A correction (domain.md §5) on both databases: indicators count the new event only, and
a refused replacement leaves the old event as it was."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM
from cohort.errors import Conflict, Rejected
from cohort.identity.keyring import Keyring
from cohort.indicators.base import Cut
from cohort.indicators.engine import compute_action
from cohort.models import Event, EventVoid
from cohort.reference import actions_of, programme_by_code
from cohort.services import events
from tests.builders import NOW, enrol, record, register, runs

D = dt.date
TODAY = D(2024, 6, 15)


def _support_breaks(session: Session) -> dict[str, Any]:
    programme = programme_by_code(session, "erbm-2023")
    cut = Cut(period_from=D(2023, 1, 1), period_to=D(2023, 12, 31), as_of=D(2024, 1, 31))
    (a4,) = actions_of(session, programme, action="62-A4")
    results = compute_action(session, programme, a4, cut)
    return next(r.values for r in results if r.code == "support_breaks")


def _replacement(participant: Any, enrolment: Any, day: dt.date, **extra: Any) -> dict[str, Any]:
    return {"id": extra.pop("id", uuid.uuid4()), "participant_id": participant.uuid,
            "type": "support_break", "date": day, "enrolment_id": enrolment.uuid,
            "operation_id": None, "closes": None, "attributes": {"reason": "absent"}}


def test_indicators_count_only_the_new_event(session: Session, keyring: Keyring) -> None:
    adult = register(session, keyring, birth_date=D(2003, 1, 1), ase_past=True)
    enrolment = enrol(session, keyring, adult, "62-A4", runs(session, "62-A4"), D(2023, 1, 1),
                      intensity="simple")
    old = record(session, keyring, adult, "support_break", D(2023, 3, 1),
                 enrolment_id=enrolment.uuid, reason="absent")
    assert _support_breaks(session)["value"] == 1
    data = _replacement(adult, enrolment, D(2023, 3, 2))
    new = events.correct(session, keyring, SYSTEM, old.uuid, data, "mauvaise date",
                         today=TODAY, now=NOW)
    assert new.created
    assert _support_breaks(session) == {"value": 1, "people": 1}
    stored = session.execute(sa.select(Event.date, Event.corrects_id).where(
        Event.participant_id == adult.id).order_by(Event.id)).all()
    assert stored == [(D(2023, 3, 1), None), (D(2023, 3, 2), old.id)]
    again = events.correct(session, keyring, SYSTEM, old.uuid, data, "mauvaise date",
                           today=TODAY, now=NOW)
    assert not again.created
    assert again.event.id == new.event.id


def test_a_refused_replacement_voids_nothing(session: Session, keyring: Keyring) -> None:
    adult = register(session, keyring, birth_date=D(2003, 1, 1), ase_past=True)
    enrolment = enrol(session, keyring, adult, "62-A4", runs(session, "62-A4"), D(2023, 1, 1),
                      intensity="simple")
    old = record(session, keyring, adult, "support_break", D(2023, 3, 1),
                 enrolment_id=enrolment.uuid, reason="absent")
    with pytest.raises(Rejected) as refused:
        events.correct(session, keyring, SYSTEM, old.uuid,
                       _replacement(adult, enrolment, D(2022, 12, 31)), "mauvaise date",
                       today=TODAY, now=NOW)
    assert refused.value.field == "date"
    with pytest.raises(Rejected):
        events.correct(session, keyring, SYSTEM, old.uuid,
                       _replacement(adult, enrolment, D(2023, 3, 2)), "  ",
                       today=TODAY, now=NOW)
    assert session.execute(sa.select(sa.func.count()).select_from(EventVoid)).scalar_one() == 0
    assert _support_breaks(session)["value"] == 1
    events.void(session, SYSTEM, old, "saisie en double", now=NOW)
    with pytest.raises(Conflict):
        events.correct(session, keyring, SYSTEM, old.uuid,
                       _replacement(adult, enrolment, D(2023, 3, 2)), "mauvaise date",
                       today=TODAY, now=NOW)
