"""Users and API tokens: created by administrators, audited, never storing a secret."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from cohort import audit
from cohort.actors import Actor, Role
from cohort.auth import hash_password, new_token, token_digest
from cohort.errors import Conflict, Forbidden, Rejected
from cohort.models import ApiToken, Structure, User
from cohort.services.lookup import by_uuid

MIN_PASSWORD_LENGTH = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn: 0 too guessable … 4 very unguessable; 3 ≈ 10^8 guesses
MAX_ESTIMATED = 100  # zxcvbn's cost grows with the length; the rest adds only strength
MAX_TOKEN_DAYS = 366


def _admin_only(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("administrators only")


def _check_password(password: str, *, hints: tuple[str, ...] = ()) -> None:
    """Length first, then zxcvbn's estimate of how many guesses the password takes: twelve
    "a"s passed the length rule alone (issue 18). `hints` are the user's own words (e-mail,
    name), which a password must not lean on."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Rejected("password", f"at least {MIN_PASSWORD_LENGTH} characters")
    words = [w for hint in (*hints, "cohort") for w in hint.replace("@", " ").split() if w]
    if zxcvbn(password[:MAX_ESTIMATED], user_inputs=words)["score"] < MIN_PASSWORD_SCORE:
        raise Rejected("password", "too easy to guess: use a passphrase of several "
                                   "unrelated words")


def create_user(session: Session, actor: Actor, data: dict[str, Any], *,
                now: dt.datetime) -> User:
    _admin_only(actor)
    structure = by_uuid(session, Structure, data["structure_id"], "structure_id")
    password = data.get("password")
    if password is not None:
        _check_password(password, hints=(data["email"], data["display_name"]))
    user = User(
        email=data["email"].strip().lower(), display_name=data["display_name"].strip(),
        structure_id=structure.id, role=Role(data["role"]).value,
        password_hash=hash_password(password) if password else None,
    )
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise Conflict("a user with this e-mail already exists",
                       errors={"email": ["already exists"]}) from None
    audit.append(session, actor, "user.create", now=now, target_type="user",
                 target_id=user.uuid, details={"role": user.role})
    return user


def update_user(session: Session, actor: Actor, user: User, data: dict[str, Any], *,
                now: dt.datetime) -> User:
    """Change role, activity or password; any of them ends the user's open web sessions.

    Disabling also revokes the user's tokens: re-enabling must not bring back a token that
    may have leaked while the account was off (issue 18); new ones are issued instead."""
    _admin_only(actor)
    changed = []
    revoked = 0
    if "role" in data and data["role"] != user.role:
        user.role = Role(data["role"]).value
        changed.append("role")
    if "active" in data and data["active"] != user.active:
        user.active = bool(data["active"])
        changed.append("active")
        if not user.active:
            revoked = session.execute(
                sa.update(ApiToken)
                .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=now)).rowcount
    if data.get("password"):
        _check_password(data["password"], hints=(user.email, user.display_name))
        user.password_hash = hash_password(data["password"])
        changed.append("password")
    if changed:
        user.session_version += 1
        audit.append(session, actor, "user.update", now=now, target_type="user",
                     target_id=user.uuid, fields=changed,
                     details={"role": user.role, "active": user.active,
                              **({"tokens_revoked": revoked} if revoked else {})})
    session.flush()
    return user


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once to the caller, never stored


def create_token(session: Session, actor: Actor, user: User, *, label: str, days: int,
                 now: dt.datetime) -> IssuedToken:
    _admin_only(actor)
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise Rejected("days", f"between 1 and {MAX_TOKEN_DAYS}")
    secret = new_token()
    token = ApiToken(user_id=user.id, token_sha256=token_digest(secret), label=label.strip(),
                     expires_at=now + dt.timedelta(days=days), created_at=now)
    session.add(token)
    session.flush()
    audit.append(session, actor, "token.create", now=now, target_type="api_token",
                 target_id=token.uuid, details={"user": str(user.uuid), "days": days})
    return IssuedToken(token, secret)


def revoke_token(session: Session, actor: Actor, token: ApiToken, *, now: dt.datetime) -> None:
    _admin_only(actor)
    if token.revoked_at is None:
        token.revoked_at = now
        audit.append(session, actor, "token.revoke", now=now, target_type="api_token",
                     target_id=token.uuid)
    session.flush()


def user_by_email(session: Session, email: str) -> User | None:
    return session.execute(
        sa.select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()
