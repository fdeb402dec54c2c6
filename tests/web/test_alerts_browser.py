"""In Chromium: a coordinator records a support break of an ASE youth; the Pas-de-Calais
referent sees the alert from the home page, takes it in hand, then closes it with a note."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from cohort.db import unit_of_work
from tests.builders import enrol, register
from tests.web.conftest import LiveServer, screenshot, serious_accessibility_violations
from tests.web.test_followups_pages import START


def test_a_support_break_reaches_the_referent_who_acknowledges_then_closes_it(
        live_server: LiveServer, pages: Any) -> None:
    app = live_server.app
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        youth = register(s, app.extensions["cohort.keyring"], home_departement="62")
        enrol(s, app.extensions["cohort.keyring"], youth, "62-A6",
              live_server.people["structures"]["ml"], START)
        youth_id = youth.uuid

    coordinator = pages("coord_ml")
    coordinator.goto(f"/personnes/{youth_id}/evenements/nouveau?type=support_break")
    coordinator.get_by_label("Motif").fill("Ne vient plus aux rendez-vous")
    coordinator.get_by_role("button", name="Enregistrer l'événement").click()
    expect(coordinator.get_by_role("status").first).to_contain_text("Événement enregistré")

    referent = pages("referent62")
    open_alerts = referent.get_by_role("link", name="Alertes ouvertes", exact=True)
    expect(open_alerts).to_be_visible()
    expect(referent.locator(".compteur", has=open_alerts).locator("strong")).to_have_text("1")
    assert serious_accessibility_violations(referent) == []
    open_alerts.click()
    expect(referent.get_by_role("heading", level=1)).to_have_text("Alertes ASE")
    alert = referent.get_by_role("article", name="Rupture d'accompagnement — action 62-A6")
    expect(alert).to_contain_text("Ouverte")
    assert serious_accessibility_violations(referent) == []
    screenshot(referent, "alertes-referent")

    alert.get_by_role("button", name="Prendre en compte").click()
    expect(referent.get_by_role("status")).to_have_text("Alerte prise en compte.")
    referent.get_by_role("link", name="Prises en compte (1)").click()
    alert = referent.get_by_role("article", name="Rupture d'accompagnement — action 62-A6")
    expect(alert).to_contain_text("Prise en compte le")
    alert.get_by_label("Note de clôture").fill("Rendez-vous repris avec l'éducateur")
    alert.get_by_role("button", name="Clôturer l'alerte").click()
    expect(referent.get_by_role("status")).to_have_text("Alerte clôturée.")
    referent.get_by_role("link", name="Clôturées (1)").click()
    closed = referent.get_by_role("article", name="Rupture d'accompagnement — action 62-A6")
    expect(closed).to_contain_text("Rendez-vous repris avec l'éducateur")
    closed.get_by_role("link", name="Voir le parcours du jeune").click()
    expect(referent.get_by_role("heading", level=1)).not_to_have_text("Erreur 404")
