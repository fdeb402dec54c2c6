"""Signing in and out (web sessions; the API takes bearer tokens instead)."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from cohort import audit, clock
from cohort.actors import Actor, Role
from cohort.auth import (
    ALL_ROLES,
    allow,
    check_password,
    current_actor,
    public,
    session_limits,
)
from cohort.request_db import transaction
from cohort.services import web_sessions
from cohort.services.accounts import user_by_email
from cohort.web.blueprint import bp, limiter


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Adresse e-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Mot de passe", validators=[DataRequired(), Length(max=500)])


def local_path(value: str | None) -> str | None:
    """A path on this site to return to after signing in (never another site's URL).

    Browsers drop tabs and line breaks from a Location and read a backslash as a slash, so
    "/", a tab, "/evil.example" would become "//evil.example": any such character, or
    anything but printable ASCII, refuses the whole value."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return None
    if not all(" " < ch < "\x7f" for ch in value) or "\\" in value:
        return None
    return value


@bp.route("/connexion", methods=["GET", "POST"])
@public
@limiter.limit(lambda: str(current_app.config["LOGIN_RATE_LIMIT"]), methods=["POST"])
def login() -> Any:
    """Sign in with e-mail and password (argon2); failures say nothing about which was wrong."""
    form = LoginForm()
    error = None
    next_path = local_path(request.args.get("suite"))
    if form.validate_on_submit():
        now = clock.now()
        with transaction() as s:
            user = user_by_email(s, form.email.data or "")
            ok = check_password(user.password_hash if user else None, form.password.data or "")
            if user is not None and ok and user.active:
                actor = Actor(role=Role(user.role), user_id=user.id,
                              structure_id=user.structure_id)
                audit.append(s, actor, "login", now=now, target_type="user",
                             target_id=user.uuid)
                token = web_sessions.open_session(s, user, now=now, limits=session_limits())
                session.clear()
                session.permanent = True
                session["sid"] = token
                return redirect(next_path or url_for("web.home"))
            anonymous = Actor(role=Role.SYSTEM)
            audit.append(s, anonymous, "login", now=now, outcome="refused",
                         target_type="user", target_id=user.uuid if user else None)
        error = "Identifiants incorrects ou compte désactivé."
    elif request.method == "POST":
        error = "Saisissez votre adresse e-mail et votre mot de passe."
    return (render_template("login.html", form=form, error=error, next_path=next_path,
                            expired=next_path is not None and request.method == "GET"),
            200 if error is None else 401)


@bp.route("/deconnexion", methods=["POST"])
@allow(*ALL_ROLES)
def logout() -> Any:
    """Sign out (POST with the CSRF token, so a link elsewhere cannot sign you out): the
    server-side session ends, so a copy of the cookie is refused too."""
    token = session.get("sid")
    if isinstance(token, str):
        now = clock.now()
        with transaction() as s:
            web_sessions.end_session(s, token, now=now)
            audit.append(s, current_actor(), "logout", now=now)
    session.clear()
    return redirect(url_for("web.login"))
