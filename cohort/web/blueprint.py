"""The pages' blueprint and the extensions every page module shares."""

from __future__ import annotations

from flask import Blueprint, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, storage_uri="memory://", default_limits=[])


@limiter.request_filter
def _not_a_page() -> bool:
    """Only pages carry limits (the sign-in form): API requests skip the limiter's work."""
    return request.blueprint != "web"
