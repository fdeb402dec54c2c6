"""The administrator's main flow in Chromium: create an account, reset its password (the
"mot de passe oublié" case), and the person signs in with the new one; axe-core finds no
serious violation on the administration pages."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import LiveServer, screenshot, serious_accessibility_violations


def test_admin_creates_an_account_resets_its_password_and_the_person_signs_in(
        browser: Any, live_server: LiveServer, pages: Any) -> None:
    page = pages("admin")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Administration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    assert serious_accessibility_violations(page) == []
    admin_menu = page.get_by_role("navigation", name="Pages d'administration")

    admin_menu.get_by_role("link", name="Utilisateurs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Utilisateurs")
    assert serious_accessibility_violations(page) == []
    page.get_by_role("link", name="Créer un compte").click()
    page.get_by_label("Adresse e-mail").fill("nouvelle.referente@example.org")
    page.get_by_label("Nom affiché").fill("Nouvelle référente")
    page.get_by_label("Structure").select_option(
        label="Maison du Département Solidarité de Lens (62)")
    page.get_by_label("Rôle").select_option(label="Référent·e ASE")
    page.get_by_label("Mot de passe initial").fill("mot-de-passe-initial-1")
    page.get_by_role("button", name="Créer le compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compte de Nouvelle référente")
    expect(page.get_by_text("Compte créé.")).to_be_visible()

    page.get_by_label("Nouveau mot de passe").fill("mot-de-passe-provisoire-2")
    page.get_by_role("button", name="Réinitialiser le mot de passe").click()
    expect(page.get_by_text("Mot de passe réinitialisé.")).to_be_visible()
    assert serious_accessibility_violations(page) == []
    screenshot(page, "administration")

    for link, heading in [("Structures", "Structures"), ("Clés", "Clés"),
                          ("Effacements", "Effacements"),
                          ("Journal d'audit", "Journal d'audit")]:
        admin_menu.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert serious_accessibility_violations(page) == [], heading
    expect(page.get_by_text("Chaîne vérifiée")).to_be_visible()
    screenshot(page, "administration-journal")

    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    newcomer = context.new_page()
    newcomer.goto("/connexion")
    newcomer.get_by_label("Adresse e-mail").fill("nouvelle.referente@example.org")
    newcomer.get_by_label("Mot de passe").fill("mot-de-passe-initial-1")
    newcomer.get_by_role("button", name="Se connecter").click()
    expect(newcomer.get_by_role("alert")).to_have_text(
        "Identifiants incorrects ou compte désactivé.")
    newcomer.get_by_label("Mot de passe").fill("mot-de-passe-provisoire-2")
    newcomer.get_by_role("button", name="Se connecter").click()
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Accueil")
    expect(newcomer.get_by_text("Référent·e ASE").first).to_be_visible()
    context.close()
