"""Server-rendered French pages, as thin as the API: parse a form, call a service, render.

One blueprint (``web``); one module per audience: session (sign in/out), home, registration
(find or register a person, possible duplicates, link requests), coordination (a person's
pathway, enrolments, events), followups (six-month checks), alerts (ASE referents),
evaluation (indicators, cohorts, reports), admin (structures, users, tokens, keys, audit,
link requests, the duplicates report).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

from cohort.web import labels
from cohort.web.blueprint import bp, csrf, limiter

__all__ = ["bp", "csrf", "init_app", "limiter"]


def navigation() -> list[tuple[str, str]]:
    """The menu entries the signed-in user's role may open."""
    actor = g.get("actor")
    if actor is None:
        return []
    return [(endpoint, label) for endpoint, label, roles in labels.NAVIGATION
            if actor.role in roles and endpoint in current_app.view_functions]


class PagesSessionInterface(SecureCookieSessionInterface):
    """Signed session cookies for the pages only: the API authenticates by bearer token,
    so its requests skip reading (and never set) the cookie."""

    def open_session(self, app: Flask, request: Any) -> SessionMixin | None:
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    from cohort.web import (  # noqa: F401  (each module adds its routes to the blueprint)
        admin,
        alerts,
        caseload,
        coordination,
        data_quality,
        evaluation,
        followups,
        home,
        registration,
        session,
    )

    app.session_interface = PagesSessionInterface()
    csrf.init_app(app)
    limiter.init_app(app)
    app.register_blueprint(bp)
    labels.init_app(app)
    app.jinja_env.globals.update(navigation=navigation)

    @app.after_request
    def _security_headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy",
                                    "camera=(), microphone=(), geolocation=()")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if not request.path.startswith("/api/v1/docs"):
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                "script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
                "base-uri 'none'; object-src 'none'",
            )
        if (request.blueprint == "web" and request.endpoint != "web.static") or (
                request.path.startswith("/api/") and not request.path.startswith("/api/v1/docs")):
            # Pages and API answers hold names, pathways or figures: no cache keeps them.
            response.headers.setdefault("Cache-Control", "no-store")
        if current_app.config["SESSION_COOKIE_SECURE"]:
            # Cookies that only travel over HTTPS: tell browsers never to try plain HTTP.
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=31536000; includeSubDomains")
        return response
