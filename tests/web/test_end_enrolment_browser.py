"""The end-of-support form in Chromium (issue 17, item 3): the Mission Locale's open
training and CDD are listed and ticked, the PLIE's housing is shown for information only;
after the submit the timeline shows the two periods closed and the housing still open."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from playwright.sync_api import expect

from cohort import clock
from cohort.actors import SYSTEM, Actor, Role
from cohort.db import unit_of_work
from cohort.models import Action, Structure
from cohort.services import enrolments, events, participants
from tests.builders import person
from tests.web.conftest import LiveServer, screenshot, serious_accessibility_violations


def _youth_with_open_periods(live_server: LiveServer) -> str:
    """A youth in 62-A6 at the Mission Locale (training and CDD it recorded) and in 62-A1
    at the PLIE (a housing entry the PLIE recorded); returns the person's uuid."""
    app = live_server.app
    today = clock.today()
    now = dt.datetime.now(dt.UTC)
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        keyring = app.extensions["cohort.keyring"]
        ml = s.query(Structure).filter_by(id=live_server.people["structures"]["ml"].id).one()
        plie = s.query(Structure).filter_by(id=live_server.people["structures"]["plie"].id).one()
        youth = participants.register(s, keyring, SYSTEM, person(
            birth_date=dt.date(today.year - 19, 1, 15)), today=today).participant
        for code, where in (("62-A6", ml), ("62-A1", plie)):
            action = s.query(Action).filter_by(code=code).one()
            enrolments.enrol(s, keyring, SYSTEM, {
                "participant_id": youth.uuid, "action_id": action.uuid,
                "structure_id": where.uuid, "start_date": today - dt.timedelta(days=90),
                "rsa_at_entry": False}, today=today, now=now)

        def record(where: Structure, type_: str, days_ago: int, **attributes: Any) -> None:
            actor = Actor(Role.COORDINATOR, structure_id=where.id, departement="62")
            events.record(s, keyring, actor, {
                "id": uuid.uuid4(), "participant_id": youth.uuid, "type": type_,
                "date": today - dt.timedelta(days=days_ago), "enrolment_id": None,
                "operation_id": None, "closes": None, "attributes": attributes},
                today=today, now=now)

        record(ml, "training_start", 60, qualifying=True)
        record(ml, "employment_start", 30, contract="cdd", planned_months=6)
        record(plie, "housing_entry", 45, housing_type="youth_residence")
        return str(youth.uuid)


def test_end_of_support_closes_the_ticked_periods(live_server: LiveServer, pages: Any) -> None:
    youth = _youth_with_open_periods(live_server)
    page = pages("coord_ml")
    page.set_default_timeout(10_000)
    page.goto(f"/personnes/{youth}")
    page.get_by_role("link", name="Clore l'accompagnement 62-A6").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clore l'accompagnement")

    closable = page.get_by_role("table", name="Périodes à clore")
    expect(closable.get_by_role("checkbox")).to_have_count(2)
    training = closable.get_by_role("checkbox", name=re.compile("^Formation"))
    job = closable.get_by_role("checkbox", name=re.compile("^Emploi"))
    expect(training).not_to_be_checked()
    others = page.get_by_role("list", name="Périodes en cours saisies par une autre structure")
    expect(others).to_contain_text("Logement")
    expect(others.get_by_role("checkbox")).to_have_count(0)
    assert serious_accessibility_violations(page) == []

    training.check()
    job.check()
    yesterday = clock.today() - dt.timedelta(days=1)
    page.get_by_label(re.compile("^Date de fin : Formation")).fill(yesterday.isoformat())
    page.get_by_label("Motif de sortie").select_option(label="Emploi")
    screenshot(page, "fin-accompagnement-periodes")
    page.get_by_role("button", name="Clore l'accompagnement").click()
    expect(page.get_by_role("status").first).to_contain_text("L'accompagnement est clos")
    expect(page.get_by_role("status").first).to_contain_text("Périodes closes : 2")

    periods = page.get_by_role("table", name="Périodes du parcours")
    expect(periods.get_by_role("row", name=re.compile("^Formation"))).to_contain_text(
        yesterday.strftime("%d/%m/%Y"))
    expect(periods.get_by_role("row", name=re.compile("^Formation"))).not_to_contain_text(
        "en cours")
    expect(periods.get_by_role("row", name=re.compile("^Emploi"))).to_contain_text(
        clock.today().strftime("%d/%m/%Y"))
    expect(periods.get_by_role("row", name=re.compile("^Emploi"))).not_to_contain_text(
        "en cours")
    expect(periods.get_by_role("row", name=re.compile("^Logement"))).to_contain_text("en cours")
    assert serious_accessibility_violations(page) == []
