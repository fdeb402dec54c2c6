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


def test_an_idle_session_expires_and_sign_in_returns_to_the_page(
        app: Any, people: Any, session: Any, monkeypatch: Any) -> None:
    import datetime as dt

    from cohort.actors import SYSTEM
    from cohort.services import accounts
    from tests.web.conftest import PASSWORD, csrf_token

    user = people["users"]["coord_ml"][0]
    accounts.update_user(session, SYSTEM, user, {"password": PASSWORD},
                         now=dt.datetime.now(dt.UTC))
    session.commit()
    client = app.test_client()
    signed = client.post("/connexion", data={"email": user.email, "password": PASSWORD,
                                              "csrf_token": csrf_token(client, "/connexion")})
    assert signed.status_code == 302
    assert client.get("/personnes").status_code == 200

    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=app.config["SESSION_IDLE_MINUTES"],
                                                   seconds=60)
    monkeypatch.setattr("cohort.clock.now", lambda: later)
    expired = client.get("/personnes")
    assert expired.status_code == 302
    assert expired.headers["Location"] == "/connexion?suite=/personnes"
    page = client.get(expired.headers["Location"]).get_data(as_text=True)
    assert "votre session a expiré" in page

    back = client.post("/connexion?suite=/personnes", data={
        "email": user.email, "password": PASSWORD,
        "csrf_token": csrf_token(client, "/connexion")})
    assert back.headers["Location"] == "/personnes"
    outside = client.post("/connexion?suite=//evil.example/", data={
        "email": user.email, "password": PASSWORD,
        "csrf_token": csrf_token(client, "/connexion")})
    assert outside.headers["Location"] == "/"


def test_sign_in_attempts_are_limited_and_the_api_is_not(
        app: Any, people: Any, session: Any) -> None:
    """The sign-in form answers 429 past its limit (a password-guessing brake); requests
    with a token never meet that limiter, and set no session cookie."""
    from tests.builders import token_client
    from tests.web.conftest import csrf_token

    session.commit()
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    client = app.test_client()
    wrong = {"email": "coord_ml@example.org", "password": "pas le bon",
             "csrf_token": csrf_token(client, "/connexion")}
    tries = [client.post("/connexion", data=wrong) for _ in range(4)]
    assert [t.status_code for t in tries] == [401, 401, 401, 429]
    assert "Identifiants incorrects" in tries[0].get_data(as_text=True)

    api = token_client(app, people["users"]["coord_ml"][1])
    answers = [api.get("/api/v1/structures") for _ in range(10)]
    assert {a.status_code for a in answers} == {200}
    assert not any("Set-Cookie" in a.headers for a in answers)
