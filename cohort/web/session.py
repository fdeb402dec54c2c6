"""Signing in and out (web sessions; the API takes bearer tokens instead)."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
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
from cohort.errors import CohortError
from cohort.models import User
from cohort.request_db import keyring, transaction
from cohort.services import second_factor, web_sessions
from cohort.services.accounts import user_by_email
from cohort.web.blueprint import bp, limiter
from cohort.web.messages import french

# Between the password and the second factor: long enough to open the app and type a code.
PENDING_SECONDS = 300


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
                if second_factor.enabled(user) or second_factor.required(user):
                    session.clear()
                    session["pending"] = {"user": user.id, "version": user.session_version,
                                          "since": now.timestamp(), "next": next_path}
                    return redirect(url_for("web.login_code" if second_factor.enabled(user)
                                            else "web.login_second_factor"))
                return _signed_in(s, user, next_path, now=now)
            anonymous = Actor(role=Role.SYSTEM)
            audit.append(s, anonymous, "login", now=now, outcome="refused",
                         target_type="user", target_id=user.uuid if user else None)
        error = "Identifiants incorrects ou compte désactivé."
    elif request.method == "POST":
        error = "Saisissez votre adresse e-mail et votre mot de passe."
    return (render_template("login.html", form=form, error=error, next_path=next_path,
                            expired=next_path is not None and request.method == "GET"),
            200 if error is None else 401)


def _signed_in(s: Any, user: User, next_path: str | None, *, now: Any,
               factor: str | None = None) -> Any:
    """Open the server-side session (the sign-in is complete) and go where the user was."""
    actor = Actor(role=Role(user.role), user_id=user.id, structure_id=user.structure_id)
    audit.append(s, actor, "login", now=now, target_type="user", target_id=user.uuid,
                 details={"second_factor": factor} if factor else None)
    token = web_sessions.open_session(s, user, now=now, limits=session_limits())
    session.clear()
    session.permanent = True
    session["sid"] = token
    return redirect(next_path or url_for("web.home"))


def _pending_user(s: Any, now: Any) -> tuple[User | None, str | None]:
    """The user who gave the right password a few minutes ago, if still the same user."""
    pending = session.get("pending")
    if not isinstance(pending, dict) or now.timestamp() - pending.get("since", 0) > PENDING_SECONDS:
        return None, None
    user = s.get(User, pending.get("user"))
    if user is None or not user.active or user.session_version != pending.get("version"):
        return None, None
    return user, pending.get("next")


class CodeForm(FlaskForm):  # type: ignore[misc]
    code = StringField("Code à 6 chiffres de l'application, ou code de secours",
                       validators=[DataRequired(), Length(max=40)])


@bp.route("/connexion/code", methods=["GET", "POST"])
@public
@limiter.limit(lambda: str(current_app.config["LOGIN_RATE_LIMIT"]), methods=["POST"])
def login_code() -> Any:
    """Second step of the sign-in for a user whose second factor is active."""
    now = clock.now()
    form = CodeForm()
    error = None
    with transaction() as s:
        user, next_path = _pending_user(s, now)
        if user is None or not second_factor.enabled(user):
            return redirect(url_for("web.login"))
        if form.validate_on_submit():
            typed = form.code.data or ""
            if second_factor.verify(s, keyring(), user, typed, now=now):
                factor = "totp" if typed.strip().isdigit() else "recovery_code"
                return _signed_in(s, user, next_path, now=now, factor=factor)
            audit.append(s, Actor(role=Role.SYSTEM), "login", now=now, outcome="refused",
                         target_type="user", target_id=user.uuid,
                         details={"second_factor": "wrong code"})
            error = "Code incorrect, expiré ou déjà utilisé."
    return render_template("second_factor/code.html", form=form, error=error), \
        200 if error is None else 401


@bp.route("/connexion/double-authentification", methods=["GET", "POST"])
@public
@limiter.limit(lambda: str(current_app.config["LOGIN_RATE_LIMIT"]), methods=["POST"])
def login_second_factor() -> Any:
    """An administrator without a second factor sets it up before the sign-in completes."""
    now = clock.now()
    with transaction() as s:
        user, next_path = _pending_user(s, now)
        if user is None or second_factor.enabled(user):
            return redirect(url_for("web.login"))
        page = _setup(s, user, now)
        if isinstance(page, list):
            _signed_in(s, user, next_path, now=now, factor="totp")
            return render_template("second_factor/recovery_codes.html", codes=page,
                                   next_url=next_path or url_for("web.home"))
    return page


@bp.route("/compte/double-authentification", methods=["GET", "POST"])
@allow(*ALL_ROLES)
def account_second_factor() -> Any:
    """Anyone may add a second factor to their account (administrators must have one)."""
    now = clock.now()
    with transaction() as s:
        user = s.get(User, current_actor().user_id)
        assert user is not None
        if second_factor.enabled(user):
            return render_template("second_factor/active.html")
        page = _setup(s, user, now)
        if isinstance(page, list):
            return render_template("second_factor/recovery_codes.html", codes=page,
                                   next_url=url_for("web.home"))
    return page


def _setup(s: Any, user: User, now: Any) -> Any:
    """The set-up page (a new secret on first view), or the recovery codes once the first
    code is right."""
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        try:
            return second_factor.confirm(s, user, keyring(), form.code.data or "", now=now)
        except CohortError as refusal:
            error = french(refusal.errors.get("code", [refusal.message])[0])
    enrolment = second_factor.pending_secret(keyring(), user) or second_factor.begin(
        s, keyring(), user)
    return (render_template("second_factor/setup.html", form=form, error=error,
                            secret=enrolment.secret, uri=enrolment.uri,
                            required=second_factor.required(user)),
            200 if error is None else 422)


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
