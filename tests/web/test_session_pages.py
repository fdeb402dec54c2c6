"""Signing in and out in a real browser; the pages' shell (menu per role, French errors)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import LiveServer, screenshot, serious_accessibility_violations


def test_sign_in_shows_the_menu_of_the_role_and_signs_out(
        browser: Any, live_server: LiveServer, pages: Any) -> None:
    page = pages("coord_ml")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accueil")
    menu = page.get_by_role("navigation", name="Menu principal")
    expect(menu.get_by_role("link", name="Accueil")).to_have_attribute("aria-current", "page")
    assert serious_accessibility_violations(page) == []
    screenshot(page, "accueil-coordinateur")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    page.goto("/")
    expect(page).to_have_url(live_server.url + "/connexion")


def test_wrong_password_and_unknown_page_are_french(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    page = context.new_page()
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(live_server.email("coord_ml"))
    page.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_have_text("Identifiants incorrects ou compte désactivé.")
    assert serious_accessibility_violations(page) == []
    response = page.goto("/nulle-part")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Erreur 404")
    context.close()
