"""The "File active" in Chromium: from the home tile, type in the search box and see the
table narrow as one types (the text posted in a JSON body, never in a URL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from playwright.sync_api import expect

from cohort import clock
from cohort.actors import SYSTEM
from cohort.db import unit_of_work
from cohort.services import enrolments, participants
from tests.builders import action, person
from tests.web.conftest import LiveServer, screenshot, serious_accessibility_violations


def _followed_by_ml(live_server: LiveServer, names: list[tuple[str, str]]) -> None:
    app = live_server.app
    keyring = app.extensions["cohort.keyring"]
    ml = live_server.people["structures"]["ml"]
    today = clock.today()
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        a6 = action(s, "62-A6").uuid
        for last, first in names:
            identity = person(last_name=last, first_names=first,
                              birth_date=dt.date(today.year - 18, 1, 15))
            record = participants.register(s, keyring, SYSTEM, identity,
                                           today=today).participant
            enrolments.enrol(s, keyring, SYSTEM, {
                "participant_id": record.uuid, "action_id": a6, "structure_id": ml.uuid,
                "start_date": today - dt.timedelta(days=30), "rsa_at_entry": False},
                today=today, now=clock.now())


def test_typing_narrows_the_caseload(live_server: LiveServer, pages: Any) -> None:
    _followed_by_ml(live_server, [("Dupont-Lefèvre", "Clémentine"),
                                  ("Kowalczyk", "Philomène"), ("Abramowicz", "Gwendoline")])
    page = pages("coord_ml")
    page.set_default_timeout(10_000)
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.get_by_role("link", name="Personnes suivies (accompagnement en cours)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("File active")
    rows = page.locator("table.file-active tbody tr")
    expect(rows).to_have_count(3)
    assert serious_accessibility_violations(page) == []

    box = page.get_by_label("Rechercher un nom dans la file active")
    box.press_sequentially("lef", delay=50)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Dupont-Lefèvre")
    expect(page.locator("table.file-active caption")).to_contain_text(
        "Résultats de la recherche : 1 personne")
    box.fill("KOWAL")
    expect(rows.first).to_contain_text("Kowalczyk")
    expect(rows).to_have_count(1)
    box.fill("zzz")
    expect(rows.first).to_contain_text("Aucune personne de votre file active ne correspond")
    box.fill("")
    expect(rows).to_have_count(3)
    screenshot(page, "caseload-search")

    box.fill("lefe")
    page.get_by_role("button", name="Rechercher", exact=True).click()
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fiche de la personne")
    typed = ("lef", "kowal", "zzz")
    assert not [url for url in urls if any(t in url.lower() for t in typed)]
