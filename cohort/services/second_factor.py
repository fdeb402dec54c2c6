"""The second factor of the web sign-in: TOTP (RFC 6238, pyotp) and recovery codes.

Mandatory for administrators (they can open any identity under an exceptional access and
erase people), optional for everyone else. The shared secret is sealed under the
encryption key, bound to the user's row, so a copy of the database alone cannot produce
codes; each time step is accepted once (no replay); recovery codes are one-time and kept
as SHA-256 (ten random 40-bit codes: no dictionary to try them against).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import pyotp
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort import audit
from cohort.actors import Actor, Role
from cohort.errors import Conflict, Rejected
from cohort.identity import vault
from cohort.identity.keyring import Keyring, Purpose
from cohort.models import RecoveryCode, User

ISSUER = "cohort"
RECOVERY_CODES = 10
# A code is accepted in its 30-second step and the one before or after (clock drift).
DRIFT_STEPS = 1


def required(user: User) -> bool:
    return user.role == Role.ADMIN.value


def enabled(user: User) -> bool:
    return user.totp_confirmed_at is not None


@dataclass(frozen=True)
class Enrolment:
    secret: str  # shown to the user once, to type into their authenticator app
    uri: str  # the otpauth:// URI an app can read


def _digest(code: str) -> str:
    return hashlib.sha256(_plain(code).encode()).hexdigest()


def _plain(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _totp(keyring: Keyring, user: User) -> pyotp.TOTP:
    assert user.totp_sealed is not None
    assert user.totp_version is not None
    record = vault.open_sealed(keyring[Purpose.ENCRYPTION], "app_user", "totp", user.uuid,
                               user.totp_sealed, user.totp_version)
    return pyotp.TOTP(record["secret"])


def begin(session: Session, keyring: Keyring, user: User) -> Enrolment:
    """A new secret for `user`, not yet in force (until `confirm`). Starting again replaces
    an unconfirmed one; a confirmed one must be reset by an administrator first."""
    if enabled(user):
        raise Conflict("the second factor is already active",
                       errors={"code": ["already active"]})
    secret = pyotp.random_base32()
    user.totp_sealed, user.totp_version = vault.seal(
        keyring[Purpose.ENCRYPTION], "app_user", "totp", user.uuid, {"secret": secret})
    user.totp_last_step = None
    session.flush()
    return Enrolment(secret, pyotp.TOTP(secret).provisioning_uri(name=user.email,
                                                                 issuer_name=ISSUER))


def pending_secret(keyring: Keyring, user: User) -> Enrolment | None:
    """The secret being set up (to show the page again after a wrong first code)."""
    if user.totp_sealed is None or enabled(user):
        return None
    totp = _totp(keyring, user)
    return Enrolment(totp.secret, totp.provisioning_uri(name=user.email, issuer_name=ISSUER))


def _accept_totp(keyring: Keyring, user: User, code: str, now: dt.datetime) -> bool:
    totp = _totp(keyring, user)
    step = totp.timecode(now)
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            if user.totp_last_step is not None and candidate <= user.totp_last_step:
                return False  # replayed
            user.totp_last_step = candidate
            return True
    return False


def confirm(session: Session, user: User, keyring: Keyring, code: str, *,
            now: dt.datetime) -> list[str]:
    """The first code proves the app holds the secret: the factor is in force, and the
    recovery codes are returned (to show once)."""
    if user.totp_sealed is None or enabled(user):
        raise Conflict("no second factor is being set up", errors={"code": ["not started"]})
    if not _accept_totp(keyring, user, _plain(code), now):
        raise Rejected("code", "is not the current code of the application")
    user.totp_confirmed_at = now
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.add_all(RecoveryCode(user_id=user.id, code_sha256=_digest(c), created_at=now)
                    for c in codes)
    session.flush()
    audit.append(session, Actor(role=Role(user.role), user_id=user.id,
                                structure_id=user.structure_id),
                 "second_factor.enable", now=now, target_type="user", target_id=user.uuid)
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def verify(session: Session, keyring: Keyring, user: User, code: str, *,
           now: dt.datetime) -> bool:
    """A six-digit code of the app, or one unused recovery code (then spent, audited)."""
    typed = _plain(code)
    if typed.isdigit() and len(typed) == 6:
        return _accept_totp(keyring, user, typed, now)
    spent = session.execute(
        sa.update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_sha256 == _digest(typed),
               RecoveryCode.used_at.is_(None))
        .values(used_at=now)).rowcount
    if spent:
        audit.append(session, Actor(role=Role(user.role), user_id=user.id,
                                    structure_id=user.structure_id),
                     "second_factor.recovery_code", now=now, target_type="user",
                     target_id=user.uuid)
    return bool(spent)


def reset(session: Session, actor: Actor, user: User, *, now: dt.datetime) -> None:
    """An administrator clears a user's second factor (a lost phone): the user sets it up
    again at the next sign-in (administrators must). Ends the user's web sessions."""
    if not actor.is_admin:
        raise Rejected("user", "only an administrator resets a second factor")
    user.totp_sealed = user.totp_version = user.totp_confirmed_at = None
    user.totp_last_step = None
    user.session_version += 1
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.append(session, actor, "second_factor.reset", now=now, target_type="user",
                 target_id=user.uuid)
    session.flush()
