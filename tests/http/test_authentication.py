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
