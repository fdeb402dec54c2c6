"""Tokens and web sessions: every bad credential is a bare 401; changes apply at once."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM
from cohort.models import AuditEntry
from cohort.services import accounts
from tests.builders import token_client

PASSWORD = "une phrase de passe assez longue"


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer  ",
                                    "Bearer cht_not-a-real-token", "bearer\x00cht_x"])
def test_bad_or_missing_tokens_get_a_bare_401(client: Any, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/v1/structures", headers=headers)
    assert response.status_code == 401
    body = response.get_json()
    assert set(body) == {"code", "status", "message"}
    assert "cht_not-a-real-token" not in response.get_data(as_text=True)


def test_expired_and_revoked_tokens(app: Any, session: Session, people: dict[str, Any]) -> None:
    user = people["users"]["coord_ml"][0]
    old = accounts.create_token(session, SYSTEM, user, label="old", days=1,
                                now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
    revoked = accounts.create_token(session, SYSTEM, user, label="rev", days=5,
                                    now=dt.datetime.now(dt.UTC))
    accounts.revoke_token(session, SYSTEM, revoked.token, now=dt.datetime.now(dt.UTC))
    session.commit()
    for secret in (old.secret, revoked.secret):
        response = token_client(app, secret).get("/api/v1/structures")
        assert response.status_code == 401
        assert response.get_json()["message"] == "invalid or expired token"


def test_disabling_or_demoting_a_user_applies_to_the_next_request(
        clients: dict[str, Any], people: dict[str, Any], session: Session) -> None:
    coordinator = clients["coord_ml"]
    assert coordinator.get("/api/v1/events").status_code == 200
    user = people["users"]["coord_ml"][0]
    accounts.update_user(session, SYSTEM, user, {"role": "evaluator"}, now=dt.datetime.now(dt.UTC))
    session.commit()
    assert coordinator.get("/api/v1/events").status_code == 403
    accounts.update_user(session, SYSTEM, user, {"active": False}, now=dt.datetime.now(dt.UTC))
    session.commit()
    assert coordinator.get("/api/v1/structures").status_code == 401


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1).decode()


@pytest.fixture
def web_user(session: Session, people: dict[str, Any]) -> Any:
    user = accounts.create_user(session, SYSTEM, {
        "email": "Camille.Martin@example.org", "display_name": "Camille",
        "structure_id": people["structures"]["ml"].uuid, "role": "coordinator",
        "password": PASSWORD}, now=dt.datetime.now(dt.UTC))
    session.commit()
    return user


def test_web_login_logout_with_csrf(client: Any, web_user: Any, session: Session) -> None:
    page = client.get("/connexion")
    assert page.status_code == 200
    assert "Mot de passe" in page.get_data(as_text=True)
    no_csrf = client.post("/connexion", data={"email": "camille.martin@example.org",
                                              "password": PASSWORD})
    assert no_csrf.status_code == 400  # refused before any password check
    assert "text/html" in no_csrf.content_type
    assert client.get("/").status_code == 302
    token = _csrf(client.get("/connexion").data)
    wrong = client.post("/connexion", data={"email": "camille.martin@example.org",
                                            "password": "pas le bon", "csrf_token": token})
    assert wrong.status_code == 401
    assert "Identifiants incorrects" in wrong.get_data(as_text=True)
    ok = client.post("/connexion", data={"email": "CAMILLE.MARTIN@example.org",
                                         "password": PASSWORD, "csrf_token": token})
    assert ok.status_code == 302
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert client.get("/").status_code == 200
    # The session does not open the API (bearer tokens only there).
    assert client.get("/api/v1/structures").status_code == 401
    logins = session.execute(sa.select(AuditEntry.outcome).where(AuditEntry.action == "login")
                             ).scalars().all()
    assert sorted(logins) == ["ok", "refused"]
    home = client.get("/").data
    assert client.post("/deconnexion", data={"csrf_token": _csrf(home)}).status_code == 302
    assert client.get("/").status_code == 302


def test_disabled_user_loses_their_session(client: Any, web_user: Any, session: Session) -> None:
    token = _csrf(client.get("/connexion").data)
    client.post("/connexion", data={"email": web_user.email, "password": PASSWORD,
                                    "csrf_token": token})
    assert client.get("/").status_code == 200
    accounts.update_user(session, SYSTEM, web_user, {"active": False},
                         now=dt.datetime.now(dt.UTC))
    session.commit()
    assert client.get("/").status_code == 302


def test_login_attempts_are_rate_limited(client: Any, web_user: Any) -> None:
    token = _csrf(client.get("/connexion").data)
    statuses = [client.post("/connexion", data={"email": web_user.email, "password": "non",
                                                "csrf_token": token}).status_code
                for _ in range(12)]
    assert statuses[:10] == [401] * 10
    assert statuses[-1] == 429


def test_session_cookie_is_secure_by_default(database_url: str, keys_file: Any) -> None:
    from cohort import create_app

    app = create_app({"DATABASE_URL": database_url, "KEYS_FILE": str(keys_file)})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    app.extensions["cohort.engine"].dispose()


def _signed_in(client: Any, user: Any) -> Any:
    token = _csrf(client.get("/connexion").data)
    assert client.post("/connexion", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302
    return client


def _copy(client: Any) -> Any:
    """Another browser holding a copy of `client`'s session cookie."""
    thief = client.application.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def test_signing_out_ends_a_copied_cookie_too(client: Any, web_user: Any,
                                             session: Session) -> None:
    """Issue 18, finding 2: a cookie copied before signing out used to keep working."""
    _signed_in(client, web_user)
    thief = _copy(client)
    assert thief.get("/").status_code == 200
    assert client.post("/deconnexion",
                       data={"csrf_token": _csrf(client.get("/").data)}).status_code == 302
    assert thief.get("/").status_code == 302
    assert thief.get("/").headers["Location"].startswith("/connexion")
    outs = session.execute(sa.select(AuditEntry.actor_user_id)
                           .where(AuditEntry.action == "logout")).scalars().all()
    assert outs == [web_user.id]


def _clock_at(monkeypatch: pytest.MonkeyPatch, when: dt.datetime) -> None:
    monkeypatch.setattr("cohort.clock.now", lambda: when)


def test_an_idle_session_ends_after_the_idle_timeout(
        client: Any, web_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    start = dt.datetime.now(dt.UTC)
    _clock_at(monkeypatch, start)
    _signed_in(client, web_user)
    idle = dt.timedelta(minutes=client.application.config["SESSION_IDLE_MINUTES"])
    assert idle == dt.timedelta(minutes=30)  # the default of config/default.toml
    _clock_at(monkeypatch, start + idle - dt.timedelta(minutes=1))
    assert client.get("/").status_code == 200  # used: the idle timeout starts again
    _clock_at(monkeypatch, start + 2 * idle - dt.timedelta(minutes=2))
    assert client.get("/").status_code == 200
    _clock_at(monkeypatch, start + 3 * idle)
    assert client.get("/").status_code == 302


def test_a_session_in_constant_use_still_ends_at_its_lifetime(
        client: Any, web_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    start = dt.datetime.now(dt.UTC)
    _clock_at(monkeypatch, start)
    _signed_in(client, web_user)
    thief = _copy(client)
    lifetime = dt.timedelta(hours=client.application.config["SESSION_MAX_HOURS"])
    assert lifetime == dt.timedelta(hours=10)
    moment = start
    while moment + dt.timedelta(minutes=20) < start + lifetime:
        moment += dt.timedelta(minutes=20)
        _clock_at(monkeypatch, moment)
        assert client.get("/").status_code == 200
    _clock_at(monkeypatch, start + lifetime)
    assert client.get("/").status_code == 302
    assert thief.get("/").status_code == 302


def test_strict_transport_security_when_cookies_are_secure(
        database_url: str, keys_file: Any) -> None:
    from cohort import create_app

    secure = create_app({"DATABASE_URL": database_url, "KEYS_FILE": str(keys_file),
                         "TESTING": True})
    answer = secure.test_client().get("/connexion")
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    secure.extensions["cohort.engine"].dispose()


def test_no_strict_transport_security_on_a_plain_http_demo(client: Any) -> None:
    assert "Strict-Transport-Security" not in client.get("/connexion").headers


@pytest.mark.parametrize("suite", [
    "/%09/evil.example", "/%0a/evil.example", "/%0d%0a/evil.example", "//evil.example/",
    "/%5Cevil.example", "https://evil.example/", "/%E2%80%8B/evil.example", "%2F%2Fevil.example",
])
def test_sign_in_never_redirects_to_another_site(client: Any, web_user: Any,
                                                 suite: str) -> None:
    """Issue 18, finding 7: "/", a tab, "/evil.example" was answered Location: //evil.example."""
    page = client.get(f"/connexion?suite={suite}")
    answer = client.post(f"/connexion?suite={suite}", data={
        "email": web_user.email, "password": PASSWORD, "csrf_token": _csrf(page.data)})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"


def test_re_enabling_a_user_does_not_bring_their_old_tokens_back(
        app: Any, session: Session, people: dict[str, Any]) -> None:
    user = people["users"]["coord_ml"][0]
    before = token_client(app, people["users"]["coord_ml"][1])
    assert before.get("/api/v1/structures").status_code == 200
    for active in (False, True):
        accounts.update_user(session, SYSTEM, user, {"active": active},
                             now=dt.datetime.now(dt.UTC))
        session.commit()
    assert before.get("/api/v1/structures").status_code == 401
    fresh = accounts.create_token(session, SYSTEM, user, label="après réactivation", days=1,
                                  now=dt.datetime.now(dt.UTC))
    session.commit()
    assert token_client(app, fresh.secret).get("/api/v1/structures").status_code == 200
