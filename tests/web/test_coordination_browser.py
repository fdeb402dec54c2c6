"""The coordinator's flow in Chromium: register a youth, enrol in 62-A6, log a housing entry,
a training start and a support break, end the enrolment, read the timeline."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from playwright.sync_api import expect

from cohort import clock
from cohort.domain.calendar import add_months
from tests.builders import person
from tests.web.conftest import LiveServer, screenshot, serious_accessibility_violations


def _iso(days_ago: int) -> str:
    return (clock.today() - dt.timedelta(days=days_ago)).isoformat()


def _log_event(page: Any, type_label: str, date: str, fill: Any) -> None:
    page.get_by_role("link", name="Saisir un événement").click()
    page.get_by_role("link", name=type_label, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Saisir un événement : {type_label}")
    page.locator("#champ-date").fill(date)
    fill(page)
    page.get_by_role("button", name="Enregistrer l'événement").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Événement enregistré : {type_label}")


def test_coordinator_registers_enrols_logs_events_and_ends(
        live_server: LiveServer, pages: Any) -> None:
    page = pages("coord_ml")
    page.set_default_timeout(10_000)
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Personnes suivies").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Personnes suivies")
    assert serious_accessibility_violations(page) == []

    identity = person(birth_date=dt.date(clock.today().year - 18, 1, 15))
    form = page.get_by_role("region", name="Enregistrer une nouvelle personne")
    form.get_by_label("Nom de naissance").fill(identity["last_name"])
    form.get_by_label("Prénom(s)").fill(identity["first_names"])
    form.get_by_label("Date de naissance").fill(identity["birth_date"].isoformat())
    form.get_by_label("Sexe").select_option(label="Femme")
    form.get_by_label("Confié(e) à l'ASE").check()
    form.get_by_role("button", name="Enregistrer la personne").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fiche de la personne")
    expect(page.get_by_role("status").first).to_contain_text("La personne est enregistrée")

    page.get_by_role("link", name="Inscrire dans une action").click()
    a6 = page.locator("#champ-action_id option", has_text="62-A6").get_attribute("value")
    page.locator("#champ-action_id").select_option(a6)
    page.get_by_label("Date d'entrée").fill(_iso(40))
    page.get_by_role("button", name="Inscrire", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("Inscription enregistrée")

    _log_event(page, "Entrée dans un logement", _iso(30),
               lambda p: p.get_by_label("Logement").select_option(label="Logement locatif social"))
    _log_event(page, "Début de formation", _iso(20),
               lambda p: p.get_by_label("Formation qualifiante").check())

    def support_break(p: Any) -> None:
        assert serious_accessibility_violations(p) == []
        p.get_by_label("Motif").fill("Ne répond plus aux appels")

    _log_event(page, "Rupture d'accompagnement", _iso(10), support_break)

    page.get_by_role("link", name=re.compile("^Clore l'accompagnement")).click()
    page.get_by_label("Dernier jour d'accompagnement").fill(_iso(0))
    page.get_by_label("Motif de sortie").select_option(label="Formation")
    page.get_by_role("button", name="Clore l'accompagnement").click()
    expect(page.get_by_role("status").first).to_contain_text("L'accompagnement est clos")

    enrolments = page.get_by_role("table", name="Accompagnements de la personne")
    expect(enrolments).to_contain_text("62-A6")
    expect(enrolments).to_contain_text("Formation")
    expect(enrolments).to_contain_text("À venir")
    periods = page.get_by_role("table", name="Périodes du parcours")
    for label in ("Logement", "Formation", "Rupture d'accompagnement"):
        expect(periods.get_by_role("row", name=re.compile(label))).to_contain_text("en cours")
    expect(page.get_by_role("img", name="Frise des périodes du parcours")).to_be_visible()
    expect(page.get_by_role("table", name="Événements du parcours, par date")
           ).to_contain_text("Logement locatif social")
    assert identity["last_name"] not in page.content()
    assert serious_accessibility_violations(page) == []
    screenshot(page, "fiche-participant")
    youth_page = page.url

    # The six-month check is on the structure's worklist, due six months after the end.
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Suivis à 6 mois").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suivis à 6 mois")
    due = add_months(clock.today(), 6)
    worklist = page.get_by_role("table", name=re.compile("^Suivis à 6 mois"))
    row = worklist.get_by_role("row").filter(has_text="62-A6")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("À venir")
    expect(row).to_contain_text(due.strftime("%d/%m/%Y"))
    row.get_by_role("link", name=re.compile("Voir le parcours")).click()
    expect(page).to_have_url(youth_page)

    # The ASE referent of the département sees the support break as an open alert.
    referent = pages("referent62")
    referent.get_by_role("link", name="Alertes ouvertes").click()
    expect(referent.get_by_role("heading", level=1)).to_have_text("Alertes ASE")
    expect(referent.get_by_role("article", name=re.compile("Rupture d'accompagnement"))
           ).to_have_count(1)

    # A coordinator of another structure cannot reach the youth's page.
    other = pages("coord_plie")
    response = other.goto(youth_page)
    assert response is not None
    assert response.status == 404
    expect(other.get_by_role("heading", level=1)).to_have_text("Erreur 404")
    expect(other.get_by_role("main")).to_contain_text("n'existe pas ou ne vous est pas accessible")
    assert identity["last_name"] not in other.content()
