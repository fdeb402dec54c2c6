"""The duplicate suggestion at registration, in Chromium: a second spelling of a person the
structure follows is suggested (and opened); another structure is told that a close record
exists elsewhere, sees nothing of it, registers the person and files a link request."""

from __future__ import annotations

import datetime as dt
from typing import Any

from playwright.sync_api import expect

from tests.builders import person
from tests.web.conftest import LiveServer, screenshot, serious_accessibility_violations

BIRTH = dt.date(2000, 5, 27)


def _register(page: Any, last_name: str) -> None:
    page.goto("/personnes")
    identity = person(last_name=last_name, first_names="Ombeline", birth_date=BIRTH)
    form = page.get_by_role("region", name="Enregistrer une nouvelle personne")
    form.get_by_label("Nom de naissance").fill(identity["last_name"])
    form.get_by_label("Prénom(s)").fill(identity["first_names"])
    form.get_by_label("Date de naissance").fill(identity["birth_date"].isoformat())
    form.get_by_role("button", name="Enregistrer la personne").click()


def test_a_second_spelling_is_suggested_at_registration(live_server: LiveServer,
                                                        pages: Any) -> None:
    page = pages("coord_ml")
    page.set_default_timeout(10_000)
    _register(page, "Dupont Le Fevre")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fiche de la personne")
    first_url = page.url

    _register(page, "Dupond-Lefèvre")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Cette personne est peut-être déjà enregistrée")
    known = page.get_by_role("region", name="Personnes suivies par votre structure")
    expect(known.get_by_role("listitem")).to_have_count(1)
    expect(known).to_contain_text("Dupont Le Fevre Ombeline")
    expect(known).to_contain_text("27/05/2000")
    assert serious_accessibility_violations(page) == []
    screenshot(page, "registration-suggestion")
    known.get_by_role("link", name="C'est cette personne : ouvrir sa fiche").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fiche de la personne")
    assert page.url == first_url

    other = pages("coord_plie")
    other.set_default_timeout(10_000)
    _register(other, "dupont lefèvre")
    elsewhere = other.get_by_role("region", name="Une fiche proche existe dans une autre structure")
    expect(elsewhere).to_be_visible()
    main = other.get_by_role("main")
    expect(main).not_to_contain_text("Dupont Le Fevre")
    expect(main).not_to_contain_text("Mission Locale")
    assert first_url.rsplit("/", 1)[-1] not in other.content()
    assert serious_accessibility_violations(other) == []
    screenshot(other, "registration-elsewhere")
    elsewhere.get_by_label("Motif de la demande de rapprochement").fill(
        "Dit avoir été suivie par une mission locale")
    elsewhere.get_by_role("button", name="Enregistrer et demander le rapprochement").click()
    expect(other.get_by_role("heading", level=1)).to_have_text(
        "Demande de rapprochement envoyée")
    other.get_by_role("link", name="Ouvrir la fiche de la personne").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Fiche de la personne")
