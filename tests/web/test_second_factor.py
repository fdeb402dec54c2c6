"""The second factor of the sign-in (issue 18): mandatory for administrators, optional for
everyone else; TOTP codes accepted once, recovery codes once, an administrator's reset."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM
from cohort.models import AuditEntry, RecoveryCode, User
from cohort.services import accounts
from tests.web.conftest import PASSWORD, csrf_token, post_form, sign_in


def _password(client: Any, user: User) -> Any:
    return client.post("/connexion", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": csrf_token(client, "/connexion")})


def _code(client: Any, code: str) -> Any:
    return client.post("/connexion/code", data={
        "code": code, "csrf_token": csrf_token(client, "/connexion/code")})


def _with_password(session: Session, user: User) -> User:
    accounts.update_user(session, SYSTEM, user, {"password": PASSWORD},
                         now=dt.datetime.now(dt.UTC))
    session.commit()
    return user


def _set_up(client: Any, start: str) -> tuple[str, list[str]]:
    """Read the secret on the set-up page, type its code: the recovery codes come back."""
    page = client.get(start).get_data(as_text=True)
    secret = re.search(r'id="cle-totp">([A-Z2-7]+)<', page)
    assert secret, "no secret on the set-up page"
    done = client.post(start, data={"code": pyotp.TOTP(secret[1]).now(),
                                    "csrf_token": csrf_token(client, start)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>",
                       done.get_data(as_text=True))
    assert len(codes) == 10
    return secret[1], codes


def test_an_administrator_sets_up_the_second_factor_before_entering(
        app: Any, people: dict[str, Any], session: Session) -> None:
    admin = _with_password(session, people["users"]["admin"][0])
    client = app.test_client()
    first = _password(client, admin)
    assert first.headers["Location"] == "/connexion/double-authentification"
    assert client.get("/").status_code == 302  # not signed in yet
    secret, codes = _set_up(client, "/connexion/double-authentification")
    assert client.get("/").status_code == 200  # the recovery codes page opened the session
    assert session.execute(sa.select(sa.func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == admin.id)).scalar_one() == 10
    assert not any(c.replace("-", "") in str(session.execute(
        sa.select(RecoveryCode.code_sha256)).scalars().all()) for c in codes)

    # Next sign-in: the password, then a code; a wrong code and a replayed code are refused.
    again = app.test_client()
    assert _password(again, admin).headers["Location"] == "/connexion/code"
    assert _code(again, "000000").status_code == 401
    totp = pyotp.TOTP(secret)
    code = totp.generate_otp(totp.timecode(dt.datetime.now(dt.UTC)) + 1)
    assert _code(again, code).status_code == 302
    assert again.get("/").status_code == 200
    replay = app.test_client()
    _password(replay, admin)
    assert _code(replay, code).status_code == 401
    # A recovery code works once.
    assert _code(replay, codes[0].upper()).status_code == 302
    reused = app.test_client()
    _password(reused, admin)
    assert _code(reused, codes[0]).status_code == 401
    actions = session.execute(sa.select(AuditEntry.action, AuditEntry.outcome).where(
        AuditEntry.action.like("%second_factor%") | (AuditEntry.action == "login"))
        .order_by(AuditEntry.id)).all()
    assert ("second_factor.enable", "ok") in actions
    assert ("second_factor.recovery_code", "ok") in actions
    assert actions.count(("login", "refused")) == 3


def test_the_code_step_expires_and_never_opens_a_session_on_its_own(
        app: Any, people: dict[str, Any], session: Session,
        monkeypatch: pytest.MonkeyPatch) -> None:
    admin = _with_password(session, people["users"]["admin"][0])
    client = app.test_client()
    _password(client, admin)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6)
    monkeypatch.setattr("cohort.clock.now", lambda: later)
    assert client.get("/connexion/double-authentification").headers["Location"] == "/connexion"
    assert app.test_client().get("/connexion/code").headers["Location"] == "/connexion"


def test_a_coordinator_may_add_a_second_factor_and_an_admin_may_reset_it(
        app: Any, people: dict[str, Any], session: Session, web: Any) -> None:
    coordinator = _with_password(session, people["users"]["coord_ml"][0])
    client = app.test_client()
    assert _password(client, coordinator).headers["Location"] == "/"  # optional: none yet
    _set_up(client, "/compte/double-authentification")
    assert "est active" in client.get("/compte/double-authentification").get_data(as_text=True)
    fresh = app.test_client()
    assert _password(fresh, coordinator).headers["Location"] == "/connexion/code"

    admin = web("admin")
    reset = post_form(admin, f"/admin/utilisateurs/{coordinator.uuid}/double-authentification",
                      {})
    assert reset.status_code == 302
    assert client.get("/").status_code == 302  # their sessions ended
    assert _password(app.test_client(), coordinator).headers["Location"] == "/"
    assert session.execute(sa.select(AuditEntry.action).where(
        AuditEntry.action == "second_factor.reset")).scalars().all() == [
        "second_factor.reset"]


def test_a_wrong_first_code_keeps_the_same_secret(app: Any, people: dict[str, Any],
                                                  session: Session) -> None:
    user = people["users"]["coord_plie"][0]
    client = sign_in(app.test_client(), user)
    page = client.get("/compte/double-authentification").get_data(as_text=True)
    wrong = post_form(client, "/compte/double-authentification", {"code": "123456"})
    assert wrong.status_code == 422
    assert "pas celui affiché par" in wrong.get_data(as_text=True)
    secret = re.search(r'id="cle-totp">([A-Z2-7]+)<', page)
    assert secret
    assert secret[1] in wrong.get_data(as_text=True)
