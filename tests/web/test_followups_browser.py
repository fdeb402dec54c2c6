"""In Chromium: a coordinator opens the checks due from the home page and records one."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from cohort import clock
from cohort.actors import SYSTEM
from cohort.db import unit_of_work
from cohort.services import enrolments
from tests.builders import enrol, register
from tests.web.conftest import LiveServer, screenshot, serious_accessibility_violations
from tests.web.test_followups_pages import START, end_for


def test_a_coordinator_records_a_due_check_from_the_worklist(live_server: LiveServer,
                                                             pages: Any) -> None:
    app = live_server.app
    keyring = app.extensions["cohort.keyring"]
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        youth = register(s, keyring, home_departement="62")
        enrolment = enrol(s, keyring, youth, "62-A6", live_server.people["structures"]["ml"],
                          START)
        enrolments.end(s, SYSTEM, enrolment,
                       {"end_date": end_for("due"), "exit_reason": "end_of_support"},
                       today=clock.today(), now=clock.now())

    page = pages("coord_ml")
    due = page.get_by_role("link", name="Suivis à 6 mois à réaliser")
    expect(page.locator(".compteur", has=due).locator("strong")).to_have_text("1")
    assert serious_accessibility_violations(page) == []
    due.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suivis à 6 mois")
    expect(page.get_by_role("link", name="À réaliser (1)")).to_have_attribute(
        "aria-current", "page")
    assert serious_accessibility_violations(page) == []
    screenshot(page, "suivis-a-6-mois")

    page.get_by_role("link", name="Saisir le suivi").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suivi à 6 mois")
    expect(page.get_by_label("Date du suivi")).to_have_value(clock.today().isoformat())
    assert serious_accessibility_violations(page) == []
    screenshot(page, "suivi-a-6-mois-formulaire")
    page.get_by_label("Jeune joint").check()
    page.get_by_label("Emploi", exact=True).select_option(label="CDI")
    page.get_by_label("Logement", exact=True).select_option(label="Logement locatif social")
    page.get_by_label("Salaire").check()
    page.get_by_role("button", name="Enregistrer le suivi").click()
    expect(page.get_by_role("status")).to_have_text("Suivi à 6 mois enregistré : Jeune joint.")
    expect(page.get_by_role("link", name="Réalisé (1)")).to_be_visible()
    page.get_by_role("link", name="Voir le résultat").click()
    expect(page.get_by_role("heading", name="Résultat enregistré")).to_be_visible()
