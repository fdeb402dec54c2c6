"""Rate limits for the API and the sensitive reads of the pages (issue 18, finding 3).

Every API request counts against its token and its structure; registration look-ups
("already known"? a NIR in use?) and identity reveals also count against the user, at a
much lower rate, because each answer tells something about a person. Built on `limits`
(the engine of flask-limiter, already used for the sign-in form): one fixed-window counter
per (limit, key) in a storage named by a URI — in memory for one process, a shared one
(`redis://…`, `memcached://…`) when several workers or machines serve the API.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, jsonify, request
from limits import RateLimitItem, parse, storage, strategies

from cohort.errors import ConfigError
from cohort.shell.errors import error_body, html_error, wants_json

F = TypeVar("F", bound=Callable[..., Any])
KIND_ATTR = "_cohort_rate_kind"
# The per-user limits, by kind of request, and the setting that holds each.
KIND_SETTINGS = {"lookup": "LOOKUP_RATE_LIMIT", "identity": "IDENTITY_RATE_LIMIT"}
log = logging.getLogger(__name__)


def limited(kind: str) -> Callable[[F], F]:
    """Mark a view as a registration look-up or an identity reveal (its per-user limit)."""
    if kind not in KIND_SETTINGS:
        raise ValueError(f"unknown rate-limit kind {kind!r}")

    def mark(fn: F) -> F:
        setattr(fn, KIND_ATTR, kind)
        return fn

    return mark


def _kind_of(view: Any, method: str) -> str | None:
    view_class = getattr(view, "view_class", None)
    handler = getattr(view_class, method.lower(), None) if view_class is not None else view
    return getattr(handler, KIND_ATTR, None)


def _parse(app: Flask, setting: str) -> RateLimitItem:
    return parse(str(app.config[setting]))  # checked by cohort.config at start-up


def init_app(app: Flask) -> None:
    """Check the limits once the request's actor is known (after authentication)."""
    try:
        store = storage.storage_from_string(str(app.config["RATE_LIMIT_STORAGE_URI"]))
    except Exception as exc:  # the library raises several kinds for a bad or unreachable URI
        raise ConfigError(f"RATE_LIMIT_STORAGE_URI: unusable ({type(exc).__name__})") from None
    limiter = strategies.FixedWindowRateLimiter(store)
    per_token = _parse(app, "API_RATE_LIMIT_PER_TOKEN")
    per_structure = _parse(app, "API_RATE_LIMIT_PER_STRUCTURE")
    per_kind = {kind: _parse(app, setting) for kind, setting in KIND_SETTINGS.items()}

    @app.before_request
    def _limit() -> Any:
        actor = g.get("actor")
        if actor is None or request.endpoint is None:
            return None
        checks: list[tuple[str, RateLimitItem, str]] = []
        if wants_json():
            token = request.headers.get("Authorization", "").partition(" ")[2].strip()
            checks.append(("token", per_token, hashlib.sha256(token.encode()).hexdigest()))
            if actor.structure_id is not None:
                checks.append(("structure", per_structure, str(actor.structure_id)))
        kind = _kind_of(current_app.view_functions[request.endpoint], request.method)
        if kind is not None and request.method != "GET" and not actor.is_admin:
            checks.append((kind, per_kind[kind], str(actor.user_id)))
        for name, item, key in checks:
            if not limiter.hit(item, name, key):
                reset = limiter.get_window_stats(item, name, key).reset_time
                return _too_many(name, item, max(1, math.ceil(reset - time.time())),
                                 actor.user_id)
        return None


def _too_many(name: str, item: RateLimitItem, retry_after: int, user_id: int | None) -> Any:
    log.warning("rate limit %s (%s) reached by user %s on %s %s", name, item, user_id,
                request.method, request.endpoint)
    headers = {"Retry-After": str(retry_after)}
    if not wants_json():
        page, status, _ = html_error(429)
        return page, status, headers
    body = error_body(429, f"too many requests ({name} limit: {item}); "
                           f"retry after {retry_after} s")
    body["reason"] = "rate_limited"
    body["limit"] = name
    return jsonify(body), 429, headers
