"""Server-rendered French pages. For now: login and logout (web sessions)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from cohort import audit, clock
from cohort.actors import Actor, Role
from cohort.auth import ALL_ROLES, allow, check_password, public
from cohort.request_db import transaction
from cohort.services.accounts import user_by_email

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, storage_uri="memory://",
                  default_limits=[])



class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Adresse e-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Mot de passe", validators=[DataRequired(), Length(max=500)])


@bp.route("/connexion", methods=["GET", "POST"])
@public
@limiter.limit(lambda: str(current_app.config["LOGIN_RATE_LIMIT"]), methods=["POST"])
def login() -> Any:
    """Sign in with e-mail and password (argon2); failures say nothing about which was wrong."""
    form = LoginForm()
    error = None
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
                session.clear()
                session.permanent = True
                session["user_id"] = user.id
                session["session_version"] = user.session_version
                return redirect(url_for("web.home"))
            anonymous = Actor(role=Role.SYSTEM)
            audit.append(s, anonymous, "login", now=now, outcome="refused",
                         target_type="user", target_id=user.uuid if user else None)
        error = "Identifiants incorrects ou compte désactivé."
    return render_template("login.html", form=form, error=error), 200 if error is None else 401


@bp.route("/deconnexion", methods=["POST"])
@allow(*ALL_ROLES)
def logout() -> Any:
    """Sign out (POST with the CSRF token, so a link elsewhere cannot sign you out)."""
    session.clear()
    return redirect(url_for("web.login"))


@bp.route("/")
@allow(*ALL_ROLES)
def home() -> Any:
    """The signed-in user's home page."""
    return render_template("home.html", actor=g.actor)


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    limiter.init_app(app)
    app.register_blueprint(bp)

    @app.after_request
    def _security_headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith("/api/v1/docs"):
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
            )
        return response
