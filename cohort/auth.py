"""Authentication (bearer tokens, web sessions) and the per-route role declarations.

Every view declares the roles it allows with ``@allow(...)`` (or ``@public``); a route
with no declaration is refused (deny by default) and a test walks the URL map to prove
none is missing. Finer scoping (which participants) is enforced by the services through
``cohort.services.access`` so the API, the CLI and the web UI share it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app, g, request, session
from sqlalchemy.engine import Connection

from cohort import clock
from cohort.actors import Actor, Role
from cohort.models import ApiToken, Structure, User
from cohort.services import web_sessions

F = TypeVar("F", bound=Callable[..., Any])
ROLES_ATTR = "_cohort_roles"
PUBLIC = "public"
TOKEN_PREFIX = "cht_"  # noqa: S105 - a public marker that makes leaked tokens greppable
ALL_ROLES = (Role.COORDINATOR, Role.ASE_REFERENT, Role.EVALUATOR, Role.PILOT, Role.ADMIN)
_hasher = PasswordHasher()  # argon2id with the library's current memory-hard defaults


def allow(*roles: Role) -> Callable[[F], F]:
    """Declare which roles may call a view (checked before the view runs)."""

    def mark(fn: F) -> F:
        setattr(fn, ROLES_ATTR, frozenset(roles))
        return fn

    return mark


def public(fn: F) -> F:
    """Declare a view reachable without authentication (docs, login page)."""
    setattr(fn, ROLES_ATTR, PUBLIC)
    return fn


def declared_roles(view: Any, method: str) -> Any:
    """The declaration of the function that will handle `method` on this view, if any."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(view_class, "get", None)
        return getattr(handler, ROLES_ATTR, None) if handler else None
    return getattr(view, ROLES_ATTR, None)


def endpoint_roles(app: Flask, endpoint: str, view: Any, method: str) -> Any:
    """Roles declared for an endpoint; static files and the API docs are public."""
    if endpoint in app.extensions.get("cohort.public_endpoints", ()) or endpoint in (
        "static", "web.static"
    ):
        return PUBLIC
    return declared_roles(view, method)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    if not stored:
        _hasher.hash(password)  # same cost whether or not the user exists
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def actor_for(user: User, structure: Structure) -> Actor:
    return Actor(role=Role(user.role), user_id=user.id, structure_id=user.structure_id,
                 departement=structure.departement)


# Built once: the token look-up runs on every API request, and building the select (and
# loading three ORM objects) cost more than running it.
_TOKEN_ACTOR = (
    sa.select(ApiToken.revoked_at, ApiToken.expires_at, User.active, User.role, User.id,
              User.structure_id, Structure.departement)
    .join(User, User.id == ApiToken.user_id)
    .join(Structure, Structure.id == User.structure_id)
    .where(ApiToken.token_sha256 == sa.bindparam("digest"))
)


def actor_from_token(db: Connection, token: str, *, now: dt.datetime) -> Actor | None:
    """The actor behind a bearer token, or None (unknown, expired, revoked, user disabled)."""
    row = db.execute(_TOKEN_ACTOR, {"digest": token_digest(token)}).one_or_none()
    if row is None:
        return None
    revoked_at, expires_at, active, role, user_id, structure_id, departement = row
    if revoked_at is not None or expires_at <= now or not active:
        return None
    return Actor(role=Role(role), user_id=user_id, structure_id=structure_id,
                 departement=departement)


def session_limits() -> web_sessions.Limits:
    return web_sessions.Limits(
        idle=dt.timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]),
        lifetime=dt.timedelta(hours=current_app.config["SESSION_MAX_HOURS"]))


def actor_from_session(db: Connection) -> Actor | None:
    """The actor of the web session whose token the signed cookie holds, if the server-side
    session is still live (see services/web_sessions.py); a dead one clears the cookie."""
    token = session.get("sid")
    if not isinstance(token, str):
        return None
    found = web_sessions.find(db, token, now=clock.now(), limits=session_limits())
    if found is None:
        session.clear()
        return None
    if found.stale:
        g.web_session_to_touch = found.session_id
    return found.actor


def current_actor() -> Actor:
    actor: Actor = g.actor
    return actor


class AuthError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def authenticate(db: Connection) -> Actor | None:
    """The API takes bearer tokens only (so it needs no CSRF defence); pages take sessions."""
    header = request.headers.get("Authorization", "")
    if request.path.startswith("/api/"):
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(401, "malformed Authorization header (expected: Bearer <token>)")
        actor = actor_from_token(db, token.strip(), now=clock.now())
        if actor is None:
            raise AuthError(401, "invalid or expired token")
        return actor
    return actor_from_session(db)


def init_app(app: Flask, on_refused: Callable[[int, str], Any]) -> None:
    """Check every request against its view's declaration before the view runs."""

    @app.before_request
    def _enforce() -> Any:
        if request.endpoint is None:
            return None  # 404/405: werkzeug answers
        view = current_app.view_functions[request.endpoint]
        roles = endpoint_roles(current_app, request.endpoint, view, request.method)
        if roles is None:
            return on_refused(403, "this route declares no roles (deny by default)")
        if roles == PUBLIC:
            return None
        from cohort.request_db import reader, transaction

        try:
            with reader() as db:
                actor = authenticate(db)
        except AuthError as exc:
            return on_refused(exc.status, exc.message)
        if actor is None:
            return on_refused(401, "authentication required")
        if (session_id := g.pop("web_session_to_touch", None)) is not None:
            with transaction() as s:
                web_sessions.touch(s, session_id, now=clock.now())
        g.actor = actor
        if actor.role not in roles:
            return on_refused(403, "your role may not use this function")
        return None
