"""Fixtures for the pages: signed-in test clients, and a live server driven by Chromium."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import pytest
from werkzeug.serving import make_server

from cohort import create_app
from cohort.actors import SYSTEM
from cohort.config import PROJECT_ROOT
from cohort.db import unit_of_work
from cohort.models import User
from cohort.services import accounts, second_factor, web_sessions
from tests.builders import cast

PASSWORD = "mot-de-passe-des-tests-web"
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"


def sign_in(client: Any, user: Any) -> Any:
    """Give a test client a web session of ``user`` (as the login form would)."""
    config = client.application.config
    limits = web_sessions.Limits(idle=dt.timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
                                 lifetime=dt.timedelta(hours=config["SESSION_MAX_HOURS"]))
    with unit_of_work(client.application.extensions["cohort.sessionmaker"]) as s:
        token = web_sessions.open_session(s, s.get(User, user.id), now=dt.datetime.now(dt.UTC),
                                          limits=limits)
    with client.session_transaction() as sess:
        sess["sid"] = token
    return client


def csrf_token(client: Any, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client: Any, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """POST a form with a fresh CSRF token, as a browser would."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client)}, **kwargs)


@pytest.fixture
def web(app: Any, people: dict[str, Any]) -> Callable[[str], Any]:
    """web("coord_ml") → a test client signed in as that user of the cast."""

    def client_for(login: str) -> Any:
        user = people["users"][login][0]
        return sign_in(app.test_client(), user)

    return client_for


@dataclass
class LiveServer:
    url: str
    app: Any
    people: dict[str, Any]
    password: str = PASSWORD
    extra: dict[str, Any] = field(default_factory=dict)

    def email(self, login: str) -> str:
        return f"{login}@example.org"

    def next_code(self, login: str) -> str:
        """The user's next TOTP code: each 30-second step is accepted once, so a second
        sign-in within the same step uses the next step's code (drift allows it)."""
        totp = pyotp.TOTP(self.extra["totp"][login])
        step = max(totp.timecode(dt.datetime.now(dt.UTC)) + 1,
                   self.extra["steps"].get(login, 0) + 1)
        self.extra["steps"][login] = step
        return totp.generate_otp(step)


@pytest.fixture
def live_server(fresh_database_url: str, keys_file: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """The service on a database of its own, served on loopback, with the test cast
    (tests/builders.py) able to sign in with PASSWORD."""
    app = create_app({"TESTING": True, "DATABASE_URL": fresh_database_url,
                      "KEYS_FILE": str(keys_file), "SESSION_COOKIE_SECURE": False,
                      "ERASURE_LEDGER_FILE": str(tmp_path / "erasure-ledger.jsonl"),
                      "LOGIN_RATE_LIMIT": "1000/minute"})
    now = dt.datetime.now(dt.UTC)
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        people = cast(s)
        totp: dict[str, str] = {}
        for login, (user, _secret) in people["users"].items():
            accounts.update_user(s, SYSTEM, user, {"password": PASSWORD}, now=now)
            if second_factor.required(user):  # administrators: set up as they would
                secret = second_factor.begin(s, app.extensions["cohort.keyring"], user).secret
                second_factor.confirm(s, user, app.extensions["cohort.keyring"],
                                      pyotp.TOTP(secret).now(), now=now)
                totp[login] = secret
        s.flush()
        s.expunge_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, people=people,
                         extra={"totp": totp, "steps": {}})
    finally:
        server.shutdown()
        thread.join(5)
        app.extensions["cohort.engine"].dispose()


@pytest.fixture
def pages(browser: Any, live_server: LiveServer) -> Iterator[Callable[[str], Any]]:
    """pages("coord_ml") → a Chromium page (French locale, Paris time) signed in as that user
    through the login form. Script errors and failed sub-resources fail the test."""
    contexts: list[Any] = []
    console_errors: list[str] = []

    def signed_in(login: str) -> Any:
        context = browser.new_context(base_url=live_server.url, locale="fr-FR",
                                      timezone_id="Europe/Paris",
                                      viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        # A refused form (422) or a French 404 page is an expected answer, which Chromium
        # also logs as a console error: count console errors other than those, and every
        # failed sub-resource (stylesheet, image...) separately.
        page.on("console", lambda msg: console_errors.append(msg.text)
                if msg.type == "error" and not msg.text.startswith("Failed to load resource")
                else None)
        page.on("response", lambda r: console_errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and r.request.resource_type != "document" else None)
        page.goto("/connexion")
        page.get_by_label("Adresse e-mail").fill(live_server.email(login))
        page.get_by_label("Mot de passe").fill(live_server.password)
        page.get_by_role("button", name="Se connecter").click()
        if login in live_server.extra["totp"]:
            page.wait_for_url(re.compile(r".*/connexion/code$"))
            page.get_by_label(re.compile("Code à 6 chiffres")).fill(
                live_server.next_code(login))
            page.get_by_role("button", name="Valider").click()
        page.wait_for_url(re.compile(r".*/(\?.*)?$"))
        return page

    yield signed_in
    for context in contexts:
        context.close()
    assert console_errors == [], f"errors in the browser console: {console_errors}"


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as a test artefact (test-artifacts/screenshots/)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def serious_accessibility_violations(page: Any) -> list[str]:
    """axe-core (bundled by axe-playwright-python, served from disk, no CDN) on the page:
    the serious and critical violations, as "rule: target" lines."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {node['target']}" for v in results.response["violations"]
            if v["impact"] in ("serious", "critical") for node in v["nodes"]]
