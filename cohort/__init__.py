"""cohort: pseudonymised cohort tracking for the ERBM poverty convention."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: settings → keys → database → API → pages → error handlers.

    The two shells (api, web) never import each other: what joins them (the pages' CSRF
    guard skipping the API, the shared error handlers) is wired here."""
    import datetime as dt
    import secrets

    from cohort import auth, logs, request_db, web
    from cohort.api import init_api
    from cohort.config import load_settings
    from cohort.errors import ConfigError
    from cohort.identity.keyring import load_keyring
    from cohort.shell import errors as http_errors
    from cohort.shell import limits as rate_limits

    settings = load_settings(test_config)
    app = Flask(__name__, instance_relative_config=False, static_folder=None)
    app.config.update(settings)
    logs.init_app(app)
    keyring = load_keyring(settings.get("KEYS_FILE") or None)
    app.extensions["cohort.keyring"] = keyring
    secret = settings.get("SECRET_KEY") or keyring.session_secret
    if not secret:
        if not settings.get("TESTING"):
            raise ConfigError("SECRET_KEY: missing (set it, or add [session] secret to the "
                              "key file)")
        secret = secrets.token_bytes(32)
    app.config.update(
        SECRET_KEY=secret,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.get("SESSION_COOKIE_SECURE", True)),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings["SESSION_MAX_HOURS"]),
    )
    request_db.init_app(app)
    from cohort.services.keys import check_against_database

    engine = app.extensions["cohort.engine"]
    try:
        with engine.connect() as conn:
            check_against_database(keyring, conn.execution_options(cohort_read_only=True))
    except ConfigError:
        engine.dispose()
        raise
    api = init_api(app, no_csrf=web.csrf.exempt)
    web.init_app(app)
    http_errors.init_app(app, http_errors=api.handle_http_exception)
    auth.init_app(app, http_errors.refused)
    rate_limits.init_app(app)  # after authentication: the limits key on the actor
    return app
