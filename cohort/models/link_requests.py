"""Link requests (a coordinator asks an administrator to link two records) and the
duplicate pairs an administrator dismissed as different people (issue 17, part 2)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cohort.db import Model, created_at, intpk, public_uuid
from cohort.models._checks import one_of


class LinkRequestStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class LinkRequestCause(StrEnum):
    SIMILAR = "similar"  # a close record followed by another structure
    NIR = "nir"  # the NIR typed at registration is held by another record


class LinkRequest(Model):
    """A coordinator's request to link the person they registered with a record they may
    not see. Both ids stay server-side: the requester only ever sees their own record.

    Requests go with their participants (an erasure that deletes a pathway deletes them);
    the audit log keeps what was decided.
    """

    __tablename__ = "link_request"
    __table_args__ = (
        sa.CheckConstraint("participant_id <> candidate_id", name="two_people"),
        one_of("status", LinkRequestStatus),
        one_of("cause", LinkRequestCause),
        sa.CheckConstraint(
            "(status = 'pending' AND decided_at IS NULL)"
            " OR (status <> 'pending' AND decided_at IS NOT NULL)",
            name="decision_dated",
        ),
        sa.CheckConstraint("status <> 'rejected' OR decision_reason IS NOT NULL",
                           name="rejection_reasoned"),
        # One pending request per pair: filing again answers the one already there.
        sa.Index("uq_link_request_pending", "participant_id", "candidate_id", unique=True,
                 sqlite_where=sa.text("status = 'pending'"),
                 postgresql_where=sa.text("status = 'pending'")),
        sa.Index("ix_link_request_status", "status", "created_at"),
    )

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    # The record the requester registered (and follows), and the one it may duplicate.
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="CASCADE"))
    cause: Mapped[str] = mapped_column(sa.String(10))
    reason: Mapped[str] = mapped_column(sa.Text)
    structure_id: Mapped[int] = mapped_column(
        sa.ForeignKey("structure.id", ondelete="RESTRICT"))
    requested_by_user_id: Mapped[int | None]
    created_at: Mapped[created_at]
    status: Mapped[str] = mapped_column(sa.String(10), default=LinkRequestStatus.PENDING)
    decided_at: Mapped[dt.datetime | None]
    decided_by_user_id: Mapped[int | None]
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)


class DuplicateDismissal(Model):
    """An administrator's decision that two participants sharing a similarity key are two
    people: the pair leaves the duplicates report. Stored low id first."""

    __tablename__ = "duplicate_dismissal"
    __table_args__ = (
        sa.CheckConstraint("low_id < high_id", name="ordered_pair"),
        sa.UniqueConstraint("low_id", "high_id", name="uq_duplicate_dismissal_pair"),
    )

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    low_id: Mapped[int] = mapped_column(sa.ForeignKey("participant.id", ondelete="CASCADE"))
    high_id: Mapped[int] = mapped_column(sa.ForeignKey("participant.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(sa.Text)
    dismissed_at: Mapped[dt.datetime]
    dismissed_by_user_id: Mapped[int | None]
