"""Erasure requests: one administrator asks, another decides (four-eyes, issue 18)."""

from __future__ import annotations

import datetime as dt
import uuid as uuid_mod
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cohort.db import Model, UUIDText, created_at, intpk, public_uuid
from cohort.models._checks import one_of


class ErasureRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"  # the erasure was carried out
    REJECTED = "rejected"


class ErasureRequest(Model):
    """An erasure waiting for, or given, a second administrator's decision. It names the
    participant by their public uuid (a pathway deleted with the identity leaves no row to
    point to), with the mode and the typed reason; no identity."""

    __tablename__ = "erasure_request"
    __table_args__ = (
        one_of("status", ErasureRequestStatus),
        sa.CheckConstraint("mode IN ('keep_pathway', 'delete_pathway')", name="mode_valid"),
        sa.CheckConstraint(
            "(status = 'pending' AND decided_at IS NULL AND decided_by_user_id IS NULL)"
            " OR (status <> 'pending' AND decided_at IS NOT NULL"
            " AND decided_by_user_id IS NOT NULL)", name="decision_complete"),
        sa.CheckConstraint("decided_by_user_id IS NULL OR decided_by_user_id <> "
                           "requested_by_user_id", name="four_eyes"),
        # One pending request per person: asking again answers the one already there.
        sa.Index("uq_erasure_request_pending", "participant_uuid", unique=True,
                 sqlite_where=sa.text("status = 'pending'"),
                 postgresql_where=sa.text("status = 'pending'")),
    )

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    participant_uuid: Mapped[uuid_mod.UUID] = mapped_column(UUIDText())
    mode: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str] = mapped_column(sa.Text)
    requested_by_user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="RESTRICT"))
    requested_at: Mapped[created_at]
    status: Mapped[str] = mapped_column(sa.String(10), default=ErasureRequestStatus.PENDING)
    decided_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="RESTRICT"))
    decided_at: Mapped[dt.datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
