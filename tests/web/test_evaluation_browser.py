"""The evaluator's flow in Chromium: 62-A6's indicators with a hidden cell, cohorts, reports."""

from __future__ import annotations

import datetime as dt
import re
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
    expect(page.get_by_role("img", name="Cohorte 2023 : parts par horizon")).to_be_visible()
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


def _no_sideways_scroll(page: Any) -> None:
    """At 375 px (a phone), the page itself never scrolls sideways: wide tables scroll
    inside their own box."""
    page.set_viewport_size({"width": 375, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 376 && !e.closest('.tableau-large'))
        .slice(0, 5).map(e => e.tagName + '.' + e.className)""")
    assert width <= 375, f"{page.url} is {width} px wide at 375 px: {wide}"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_evaluator_downloads_a_french_csv_and_an_xlsx(
        browser: Any, live_server: LiveServer, pages: Any, keyring: Any) -> None:
    """Issue 19: the indicators page's French CSV opens in a French spreadsheet (BOM,
    semicolons, decimal comma); the cohorts page's workbook has its notes and codebook."""
    import io

    from openpyxl import load_workbook

    _youths_in_62_a6(live_server, keyring)
    page = pages("evaluator")
    menu = page.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("link", name="Indicateurs").click()
    page.get_by_label("Action", exact=True).select_option("62-A6")
    page.get_by_role("button", name="Afficher les indicateurs").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Tableur (CSV français)").click()
    assert download.value.suggested_filename.startswith("indicateurs_erbm-2023_62-A6_")
    assert download.value.suggested_filename.endswith("_publie.tableur.csv")
    content = download.value.path().read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert "Action;Code;Indicateur;Valeur;" in text
    assert "62-A6;turned_18;Jeunes devenus majeurs sur la période;secret;" in text
    assert serious_accessibility_violations(page) == []
    _no_sideways_scroll(page)

    menu.get_by_role("link", name="Cohortes").click()
    page.get_by_label("62-A6 — Prévenir les sorties sèches", exact=False).check()
    page.get_by_label("Regroupement des entrées").select_option("semester")
    page.get_by_role("button", name="Afficher les cohortes").click()
    expect(page.get_by_role("table", name="Cases masquées par regroupement des entrées")
           ).to_contain_text("Par semestre")
    expect(page.get_by_role("img", name="Cohorte 2023-S1 : parts par horizon")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Classeur (XLSX, avec notes et dictionnaire)").click()
    assert download.value.suggested_filename.endswith("_publie.xlsx")
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert book.sheetnames == ["Cohortes", "Notes", "Dictionnaire"]
    assert [c.value for c in book["Cohortes"][4]][:3] == ["Cohorte", "Horizon", "Membres"]
    assert book["Cohortes"]["A5"].value == "2023-S1"
    assert serious_accessibility_violations(page) == []
    screenshot(page, "cohortes-semestre-evaluateur")
    _no_sideways_scroll(page)

    menu.get_by_role("link", name="Dictionnaire").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dictionnaire des indicateurs")
    assert serious_accessibility_violations(page) == []
    _no_sideways_scroll(page)


def test_the_pilot_reads_the_report_in_the_page_and_prints_it(
        browser: Any, live_server: LiveServer, pages: Any, keyring: Any) -> None:
    _youths_in_62_a6(live_server, keyring)
    page = pages("pilot62")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Rapports").click()
    page.get_by_role("button", name="Préparer les téléchargements").click()
    page.get_by_role("link", name="Lire le rapport dans le navigateur").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rapport d'exécution")
    summary = page.get_by_role("navigation", name="Sommaire du rapport")
    summary.get_by_role("link", name="62-A6 — Prévenir les sorties sèches",
                        exact=False).click()
    expect(page).to_have_url(re.compile(r"#action-62-A6$"))
    expect(page.get_by_role("heading", name="62-A6 — Prévenir les sorties sèches",
                            exact=False)).to_be_in_viewport()
    expect(page.get_by_role("link", name="Télécharger le rapport (XLSX, tableur)")
           ).to_be_visible()
    assert serious_accessibility_violations(page) == []
    screenshot(page, "rapport-page-pilote")
    _no_sideways_scroll(page)

    page.emulate_media(media="print")
    hidden = page.evaluate("""() => ['.entete', '.pied', '.rapport-outils'].map(
        s => getComputedStyle(document.querySelector(s)).display)""")
    assert hidden == ["none", "none", "none"]  # menus, footer and buttons are not printed
    breaks = page.evaluate("""() => [...document.querySelectorAll('.rapport section.action')]
        .map(s => getComputedStyle(s).breakBefore)""")
    assert len(breaks) == 6  # the six Pas-de-Calais actions
    assert set(breaks) == {"page"}  # each action starts a page
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    page.emulate_media(media="screen")


def test_the_evaluator_pools_both_departements_and_reads_the_codebook(
        browser: Any, live_server: LiveServer, pages: Any, keyring: Any) -> None:
    """The clause twins: 8 entries in 62-A2, 4 in 59-A4 (hidden alone, published pooled)."""
    with unit_of_work(live_server.app.extensions["cohort.sessionmaker"]) as s:
        plie62 = structure(s, kind="plie")
        plie59 = structure(s, kind="plie", departement="59")
        for i in range(8):
            enrol(s, keyring, register(s, keyring, birth_date=dt.date(2001, 1 + i, 1)),
                  "62-A2", plie62, dt.date(2023, 2 + i, 1), rsa_at_entry=True)
        for i in range(4):
            enrol(s, keyring, register(s, keyring, birth_date=dt.date(1990, 1 + i, 1)),
                  "59-A4", plie59, dt.date(2023, 3 + i, 1))
    page = pages("evaluator")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Cohortes").click()
    page.get_by_label("62-A2 — Mobiliser", exact=False).check()
    page.get_by_label("Regroupement des entrées").select_option("year")
    page.get_by_role("button", name="Afficher les cohortes").click()
    pooled = page.get_by_role("table", name="Cases masquées si les deux départements sont "
                                            "réunis")
    expect(pooled).to_contain_text("Actions réunies : 59-A4, 62-A2, J-CLAUSES.")
    assert serious_accessibility_violations(page) == []
    _no_sideways_scroll(page)
    pooled.get_by_role("link", name="Afficher les deux départements réunis").click()
    expect(page.get_by_text("Actions : 59-A4, 62-A2, J-CLAUSES.")).to_be_visible()
    expect(page.get_by_label("59-A4 — Renforcer", exact=False)).to_be_checked()
    assert serious_accessibility_violations(page) == []
    _no_sideways_scroll(page)
    screenshot(page, "cohortes-deux-departements")

    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Dictionnaire").click()
    expect(page.get_by_role("heading", name="Indicateurs communs à toutes les actions")
           ).to_be_visible()
    expect(page.locator("#dico-59-A1 + p")).to_contain_text("Aucun indicateur propre")
    assert serious_accessibility_violations(page) == []
    _no_sideways_scroll(page)
