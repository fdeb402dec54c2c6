"""The service additions the coordinator pages use: the enrol form's actions, whether an
action needs an intensity, and the timeline's enrolment details (title, structure, check)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cohort.actors import SYSTEM
from cohort.domain import rules
from cohort.services import enrolments, programmes
from cohort.services.timeline import timeline
from tests.builders import NOW, TODAY, enrol, register


def test_actions_for_enrolment_lists_every_action_in_code_order(session: Any) -> None:
    actions = programmes.actions_for_enrolment(session)
    codes = [a.code for a in actions]
    assert "62-A6" in codes
    assert codes == sorted(codes)
    by_code = {a.code: a for a in actions}
    assert programmes.needs_intensity(by_code["62-A4"])
    assert not programmes.needs_intensity(by_code["62-A6"])
    assert rules.needs_intensity({"intensity_units": {"simple": 0.5}})
    assert not rules.needs_intensity({})


def test_timeline_enrolments_carry_title_structure_and_check_state(
        session: Any, keyring: Any, people: Any) -> None:
    where = people["structures"]["ml"]
    youth = register(session, keyring, birth_date=dt.date(2006, 1, 15))
    enrolment = enrol(session, keyring, youth, "62-A6", where, dt.date(2024, 1, 10))
    view = timeline(session, SYSTEM, youth, now=NOW, today=TODAY)
    (row,) = view["enrolments"]
    assert row["structure_name"] == where.name
    assert row["action_title"].startswith("Prévenir les sorties sèches")
    assert row["followup"] is None
    enrolments.end(session, SYSTEM, enrolment, {"end_date": dt.date(2024, 5, 31),
                                                "exit_reason": "training"},
                   today=TODAY, now=NOW)
    (row,) = timeline(session, SYSTEM, youth, now=NOW, today=TODAY)["enrolments"]
    assert row["followup"]["state"] == "upcoming"
    assert row["followup"]["due_date"] == dt.date(2024, 11, 30)
    assert timeline(session, SYSTEM, youth, now=NOW)["enrolments"][0]["followup"]["state"] is None
