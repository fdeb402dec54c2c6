"""Users of the service, their API tokens, exceptional admin access, and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cohort.actors import Role
from cohort.db import Model, created_at, intpk, public_uuid
from cohort.models._checks import one_of
from cohort.models.programme import Structure


class User(Model):
    __tablename__ = "app_user"
    __table_args__ = (one_of("role", Role),)

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)  # staff login, lower-case
    display_name: Mapped[str] = mapped_column(sa.String(200))
    structure_id: Mapped[int] = mapped_column(sa.ForeignKey("structure.id", ondelete="RESTRICT"))
    role: Mapped[str] = mapped_column(sa.String(20))
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on disable, role change or password reset: older web sessions stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[created_at]
    # Second factor (TOTP): the shared secret sealed under the encryption key (bound to the
    # user's row), confirmed once the user typed a first code; the last time step used, so
    # that a code seen over a shoulder cannot be replayed.
    totp_sealed: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    totp_version: Mapped[int | None]
    totp_confirmed_at: Mapped[dt.datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    structure: Mapped[Structure] = relationship()


class RecoveryCode(Model):
    """A one-time code that replaces the second factor (a lost phone); only its SHA-256."""

    __tablename__ = "recovery_code"
    __table_args__ = (sa.UniqueConstraint("user_id", "code_sha256"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"))
    code_sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[created_at]
    used_at: Mapped[dt.datetime | None]


class ApiToken(Model):
    """A bearer token: only its SHA-256 is stored (the token is shown once, at creation)."""

    __tablename__ = "api_token"

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="RESTRICT"))
    token_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


class WebSession(Model):
    """A signed-in browser. The cookie holds a random token whose SHA-256 is kept here, so
    signing out, the idle timeout and the absolute lifetime are decided server-side (a
    copied cookie dies with the row)."""

    __tablename__ = "web_session"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The user's session_version at sign-in: a disable or password reset ends the session.
    session_version: Mapped[int]
    created_at: Mapped[created_at]
    last_seen_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]


class RegistrationGrant(Model):
    """A structure found an already-known person at registration: it may enrol them.

    It reveals nothing else (domain: "already known" and nothing more) until the enrolment.
    """

    __tablename__ = "registration_grant"
    __table_args__ = (sa.UniqueConstraint("structure_id", "participant_id"),)

    id: Mapped[intpk]
    structure_id: Mapped[int] = mapped_column(sa.ForeignKey("structure.id", ondelete="RESTRICT"))
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="CASCADE")
    )
    granted_at: Mapped[created_at]


class ExceptionalAccess(Model):
    """An administrator's time-limited access to a participant outside their scope."""

    __tablename__ = "exceptional_access"

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="RESTRICT"))
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="CASCADE")
    )
    reason: Mapped[str] = mapped_column(sa.Text)
    granted_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime]


class AuditEntry(Model):
    """Append-only (database triggers refuse UPDATE and DELETE), each row chained by hash."""

    __tablename__ = "audit_entry"
    __table_args__ = (sa.Index("ix_audit_entry_at", "at"),)

    id: Mapped[intpk]
    at: Mapped[dt.datetime]
    actor_user_id: Mapped[int | None]  # no FK: the log outlives users
    actor_role: Mapped[str] = mapped_column(sa.String(20))
    actor_structure_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(sa.String(60))
    target_type: Mapped[str | None] = mapped_column(sa.String(40))
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    fields: Mapped[list[Any]]
    purpose: Mapped[str | None] = mapped_column(sa.Text)
    outcome: Mapped[str] = mapped_column(sa.String(20))
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)


class AuditHead(Model):
    """One row: the chain's last entry. Locked while appending so the chain never forks."""

    __tablename__ = "audit_head"
    __table_args__ = (sa.CheckConstraint("id = 1", name="singleton"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int]
    last_hash: Mapped[str] = mapped_column(sa.String(64))
    # Entries up to this id may be purged (retention); the purge is itself an entry.
    purged_through: Mapped[int] = mapped_column(default=0)
