"""What the administrator's pages list and count: users, tokens, erasures, audit entries.

Read-only queries; the writes live beside their rules (accounts, structures, lifecycle,
keys). Nothing here decrypts or returns an identity: erasures are listed by pseudonymous id,
audit entries as stored (field names and purposes, never values).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from cohort.actors import Actor
from cohort.clock import PARIS
from cohort.errors import Forbidden
from cohort.models import ApiToken, AuditEntry, Erasure, Structure, User


def _admin_only(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("administrators only")


@dataclass(frozen=True)
class Overview:
    structures: int
    users: int
    active_users: int
    active_tokens: int
    erasures: int
    audit_entries: int


def overview(session: Session, actor: Actor, *, now: dt.datetime) -> Overview:
    """The few counts of the administration home page."""
    _admin_only(actor)

    def count(query: sa.Select[Any]) -> int:
        return int(session.execute(query).scalar_one())

    return Overview(
        structures=count(sa.select(sa.func.count()).select_from(Structure)),
        users=count(sa.select(sa.func.count()).select_from(User)),
        active_users=count(sa.select(sa.func.count()).select_from(User)
                           .where(User.active.is_(True))),
        active_tokens=count(sa.select(sa.func.count()).select_from(ApiToken).join(User)
                            .where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now,
                                   User.active.is_(True))),
        erasures=count(sa.select(sa.func.count()).select_from(Erasure)),
        audit_entries=count(sa.select(sa.func.count()).select_from(AuditEntry)),
    )


def user_list_query(filters: dict[str, Any]) -> sa.Select[tuple[User]]:
    """Users by e-mail, optionally of one role, one structure (uuid), active or not."""
    query = (sa.select(User).join(Structure, Structure.id == User.structure_id)
             .options(selectinload(User.structure)).order_by(User.email))
    if filters.get("role"):
        query = query.where(User.role == filters["role"])
    if filters.get("structure_id"):
        query = query.where(Structure.uuid == filters["structure_id"])
    if filters.get("active") is not None:
        query = query.where(User.active.is_(bool(filters["active"])))
    return query


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """A user's API tokens, newest first (only their digest is stored)."""
    return list(session.execute(
        sa.select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).scalars())


def erasure_list_query() -> sa.Select[tuple[Erasure, str | None]]:
    """Past erasures, newest first, with the name of the administrator who asked (None for
    the CLI, retention and replays). No identity: the ledger never holds one."""
    return (sa.select(Erasure, User.display_name)
            .outerjoin(User, User.id == Erasure.requested_by_user_id)
            .order_by(Erasure.erased_at.desc(), Erasure.id.desc()))


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def page_of(session: Session, query: sa.Select[Any], *, page: int, per_page: int,
            rows: bool = False) -> Page:
    """One page of a select and the total; `rows` keeps every column (else the first)."""
    total = session.execute(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    result = session.execute(query.limit(per_page).offset((page - 1) * per_page))
    items = list(result.all() if rows else result.scalars().all())
    return Page(items, page, per_page, int(total))


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight in Paris, as the audit log stores instants in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=PARIS).astimezone(dt.UTC)


def audit_query(session: Session, filters: dict[str, Any]) -> sa.Select[tuple[AuditEntry]]:
    """Audit entries, newest first, narrowed by action, actor (a user's uuid), target type
    and id, outcome and a date range (Paris days, both ends included)."""
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    if filters.get("action"):
        query = query.where(AuditEntry.action == filters["action"])
    if filters.get("actor_id"):
        user_id = session.execute(
            sa.select(User.id).where(User.uuid == uuid.UUID(str(filters["actor_id"])))
        ).scalar_one_or_none()
        query = query.where(AuditEntry.actor_user_id == user_id)  # unknown user: no entry
    if filters.get("target_type"):
        query = query.where(AuditEntry.target_type == filters["target_type"])
    if filters.get("target_id"):
        query = query.where(AuditEntry.target_id == str(filters["target_id"]).strip())
    if filters.get("outcome"):
        query = query.where(AuditEntry.outcome == filters["outcome"])
    if filters.get("date_from"):
        query = query.where(AuditEntry.at >= _day_start(filters["date_from"]))
    if filters.get("date_to"):
        query = query.where(AuditEntry.at < _day_start(filters["date_to"]
                                                       + dt.timedelta(days=1)))
    return query


def audit_choices(session: Session) -> dict[str, list[str]]:
    """The actions, target types and outcomes present in the log (for the filter lists)."""
    def distinct(column: Any) -> list[str]:
        return sorted(v for v in session.execute(sa.select(column).distinct()).scalars() if v)

    return {"action": distinct(AuditEntry.action),
            "target_type": distinct(AuditEntry.target_type),
            "outcome": distinct(AuditEntry.outcome)}


def user_names(session: Session, ids: set[int]) -> dict[int, User]:
    """The users behind audit entries' actor ids (the log keeps ids, not foreign keys)."""
    if not ids:
        return {}
    return {u.id: u for u in session.execute(sa.select(User).where(User.id.in_(ids))).scalars()}
