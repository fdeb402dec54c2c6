"""Web sessions kept server-side: opened at sign-in, ended at sign-out or by time.

The browser's signed cookie carries only a random token; the row decides. So a cookie
copied before signing out stops working, an idle session ends after the idle timeout, and
no amount of use keeps a session past its absolute lifetime (issue 18, finding 2).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from cohort.actors import Actor, Role
from cohort.models import Structure, User, WebSession

# A session's last request is written at most this often: one small write a minute per
# signed-in user, not one per page.
TOUCH_EVERY = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Limits:
    idle: dt.timedelta
    lifetime: dt.timedelta


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User, *, now: dt.datetime,
                 limits: Limits) -> str:
    """Record a new session for `user` and return the token for the cookie.

    The user's sessions that can no longer be used are deleted here, so the table holds
    about one row per signed-in browser."""
    session.execute(sa.delete(WebSession).where(
        WebSession.user_id == user.id,
        sa.or_(WebSession.ended_at.is_not(None),
               WebSession.created_at <= now - limits.lifetime,
               WebSession.last_seen_at <= now - limits.idle)))
    token = secrets.token_urlsafe(32)
    session.add(WebSession(user_id=user.id, token_sha256=_digest(token),
                           session_version=user.session_version, created_at=now,
                           last_seen_at=now))
    session.flush()
    return token


def end_session(session: Session, token: str, *, now: dt.datetime) -> None:
    """Sign out: the row is ended, so the same cookie is refused from now on."""
    session.execute(sa.update(WebSession)
                    .where(WebSession.token_sha256 == _digest(token),
                           WebSession.ended_at.is_(None))
                    .values(ended_at=now))


@dataclass(frozen=True)
class Found:
    actor: Actor
    session_id: int
    stale: bool  # its last request is older than TOUCH_EVERY: write the new one


# Built once: it runs on every page request.
_SESSION_ACTOR = (
    sa.select(WebSession.id, WebSession.created_at, WebSession.last_seen_at,
              WebSession.ended_at, WebSession.session_version, User.session_version,
              User.active, User.role, User.id, User.structure_id, Structure.departement)
    .join(User, User.id == WebSession.user_id)
    .join(Structure, Structure.id == User.structure_id)
    .where(WebSession.token_sha256 == sa.bindparam("digest"))
)


def find(db: Connection, token: str, *, now: dt.datetime, limits: Limits) -> Found | None:
    """The actor of a live session, or None: unknown, signed out, idle too long, past its
    lifetime, user disabled, or password/role changed since sign-in."""
    row = db.execute(_SESSION_ACTOR, {"digest": _digest(token)}).one_or_none()
    if row is None:
        return None
    (session_id, created, last_seen, ended, version, user_version, active, role, user_id,
     structure_id, departement) = row
    if (ended is not None or not active or version != user_version
            or now - created >= limits.lifetime or now - last_seen >= limits.idle):
        return None
    actor = Actor(role=Role(role), user_id=user_id, structure_id=structure_id,
                  departement=departement)
    return Found(actor, session_id, stale=now - last_seen >= TOUCH_EVERY)


def touch(session: Session, session_id: int, *, now: dt.datetime) -> None:
    """Record that the session was used now (restarts its idle timeout)."""
    session.execute(sa.update(WebSession).where(WebSession.id == session_id)
                    .values(last_seen_at=now))
