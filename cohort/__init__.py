"""cohort: pseudonymised cohort tracking for the ERBM poverty convention."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: settings → keys → database → API → CLI → error handlers."""
    from cohort import logs, request_db
    from cohort.api import init_api
    from cohort.config import load_settings
    from cohort.identity.keyring import load_keyring

    settings = load_settings(test_config)
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(settings)
    logs.init_app(app)
    keyring = load_keyring(settings.get("KEYS_FILE") or None)
    app.extensions["cohort.keyring"] = keyring
    request_db.init_app(app)
    init_api(app)
    return app
