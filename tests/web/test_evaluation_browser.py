"""The evaluator's flow in Chromium: 62-A6's indicators with a hidden cell, cohorts, reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from playwright.sync_api import expect

from cohort.db import unit_of_work
from tests.builders import enrol, record, register, structure
from tests.web.conftest import LiveServer, screenshot, serious_accessibility_violations


def _youths_in_62_a6(live_server: LiveServer, keyring: Any) -> None:
    """23 youths in 2023, 22 of whom turn 18 that year (so that count is hidden), some of
    them in training, housed or with resources."""
    with unit_of_work(live_server.app.extensions["cohort.sessionmaker"]) as s:
        ml = structure(s, kind="mission_locale")  # 62-A6 is the Mission Locale's
        for i in range(23):
            born = dt.date(2005, 1 + i % 12, 1) if i < 22 else dt.date(2003, 6, 1)
            youth = register(s, keyring, birth_date=born, ase_past=True)
            start = dt.date(2023, 1 + i % 12, 10)
            enrol(s, keyring, youth, "62-A6", ml, start)
            if i % 2 == 0:  # some pathways, so that the chart has bars
                record(s, keyring, youth, "training_start", start, qualifying=True)
            if i % 3 == 0:
                record(s, keyring, youth, "housing_entry", start, housing_type="social_rental")
            if i % 4 == 0:
                record(s, keyring, youth, "resource_start", start,
                       resource="young_adult_allowance")


def test_the_evaluator_reads_62_a6_indicators_cohorts_and_reports(
        browser: Any, live_server: LiveServer, pages: Any, keyring: Any) -> None:
    _youths_in_62_a6(live_server, keyring)
    page = pages("evaluator")
    menu = page.get_by_role("navigation", name="Menu principal")

    menu.get_by_role("link", name="Indicateurs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Indicateurs")
    expect(page.get_by_label("Mode")).to_have_value("published")
    page.get_by_label("Action", exact=True).select_option("62-A6")
    page.get_by_role("button", name="Afficher les indicateurs").click()
    table = page.get_by_role("table", name="Indicateurs de l'action 62-A6 (effectifs publiés)")
    turned_18 = table.get_by_role("row").filter(has_text="Jeunes devenus majeurs sur la période")
    expect(turned_18.locator(".masque").first).to_have_text("secret statistique")
    expect(table.get_by_role("row").filter(
        has_text="Jeunes pris en charge dans le cadre du référentiel")).to_contain_text("25")
    expect(page.locator("#regle-secret")).to_contain_text("Secret statistique.")
    assert serious_accessibility_violations(page) == []
    screenshot(page, "indicateurs-evaluateur")

    menu.get_by_role("link", name="Cohortes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cohortes")
    page.get_by_label("62-A6 — Prévenir les sorties sèches", exact=False).check()
    page.get_by_label("Regroupement des entrées").select_option("year")
    page.get_by_role("button", name="Afficher les cohortes").click()
    expect(page.get_by_role("img", name="Cohorte 2023 : part des personnes dont la situation "
                                        "est connue, par horizon")).to_be_visible()
    expect(page.get_by_role("table", name="Cohortes par année d'entrée : situation à chaque "
                                          "horizon")).to_contain_text("2023, entrée")
    assert serious_accessibility_violations(page) == []
    screenshot(page, "cohortes-evaluateur")

    menu.get_by_role("link", name="Rapports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapport d'exécution")
    page.get_by_role("button", name="Préparer les téléchargements").click()
    link = page.get_by_role("link", name="Télécharger les données (JSON)")
    expect(link).to_be_visible()
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "rapport-execution-erbm-2023-62-2023-publie.json"
    assert serious_accessibility_violations(page) == []
