"""Six-month follow-up checks, the alerts sent to ASE referents, and the in-app inbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cohort.db import Model, created_at, intpk, public_uuid
from cohort.domain.followup import (
    AlertCause,
    AlertStatus,
    CheckStatus,
    EmailState,
    NotificationKind,
    Outcome,
)
from cohort.models._checks import one_of


class FollowUpCheck(Model):
    """One check per ended enrolment (domain.md §6); `version` stops lost updates."""

    __tablename__ = "followup_check"
    __table_args__ = (
        one_of("status", CheckStatus),
        one_of("outcome", Outcome),
        sa.CheckConstraint("window_start <= due_date AND due_date <= window_end",
                           name="window_around_due"),
        # A recorded result has an outcome and a date; a waiting check has neither.
        sa.CheckConstraint(
            "(status = 'done' AND outcome IS NOT NULL AND checked_on IS NOT NULL)"
            " OR (status <> 'done' AND outcome IS NULL)",
            name="done_has_outcome",
        ),
        sa.CheckConstraint("situation IS NULL OR outcome = 'reached'",
                           name="situation_when_reached"),
        sa.CheckConstraint("attempts IS NULL OR attempts >= 0", name="attempts_positive"),
        # One live check per enrolment: a reopened enrolment cancels its check, a new end
        # schedules a new one.
        sa.Index("uq_followup_check_live", "enrolment_id", unique=True,
                 sqlite_where=sa.text("status <> 'cancelled'"),
                 postgresql_where=sa.text("status <> 'cancelled'")),
        sa.Index("ix_followup_check_worklist", "structure_id", "status", "due_date"),
        sa.Index("ix_followup_check_action_due", "action_id", "due_date"),
        sa.Index("ix_followup_check_participant", "participant_id"),
    )

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolment.id", ondelete="RESTRICT"))
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="RESTRICT"))
    # Copied from the enrolment (which never changes action or structure) so the worklist
    # and the indicators read one table.
    structure_id: Mapped[int] = mapped_column(sa.ForeignKey("structure.id", ondelete="RESTRICT"))
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("action.id", ondelete="RESTRICT"))
    due_date: Mapped[dt.date]
    window_start: Mapped[dt.date]
    window_end: Mapped[dt.date]
    status: Mapped[str] = mapped_column(sa.String(12), default=CheckStatus.SCHEDULED.value)
    outcome: Mapped[str | None] = mapped_column(sa.String(12))
    attempts: Mapped[int | None]
    checked_on: Mapped[dt.date | None]
    situation: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    # Status at the check date (domain.md §5) once the situation's events are written:
    # the indicators count these without JSON functions. Null unless reached.
    in_pathway: Mapped[bool | None]
    durable_employment: Mapped[bool | None]
    stably_housed: Mapped[bool | None]
    has_resources: Mapped[bool | None]
    # Public uuids of the events the result wrote.
    event_ids: Mapped[list[Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    result_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    recorded_at: Mapped[dt.datetime | None]
    recorded_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="RESTRICT"))
    cancelled_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(30))
    created_at: Mapped[created_at]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Alert(Model):
    """A failure in an ASE youth's pathway, for the referents of the youth's département."""

    __tablename__ = "alert"
    __table_args__ = (
        one_of("cause", AlertCause),
        one_of("status", AlertStatus),
        sa.CheckConstraint(
            "(cause = 'support_break' AND event_id IS NOT NULL AND check_id IS NULL)"
            " OR (cause = 'overdue_check' AND check_id IS NOT NULL AND event_id IS NULL)",
            name="cause_has_source",
        ),
        sa.CheckConstraint(
            "status <> 'closed' OR (closed_at IS NOT NULL AND note IS NOT NULL)",
            name="closed_with_note",
        ),
        # One alert per source: raising again (a retried request, a rerun sweep) is a no-op.
        sa.UniqueConstraint("event_id"),
        sa.UniqueConstraint("check_id"),
        sa.Index("ix_alert_departement_status", "departement", "status", "created_at"),
        sa.Index("ix_alert_participant", "participant_id"),
    )

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="RESTRICT"))
    enrolment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("enrolment.id", ondelete="RESTRICT"))
    departement: Mapped[str] = mapped_column(sa.String(5))
    cause: Mapped[str] = mapped_column(sa.String(20))
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("event.id", ondelete="RESTRICT"))
    check_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("followup_check.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(sa.String(15), default=AlertStatus.OPEN.value)
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[created_at]
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="RESTRICT"))
    closed_at: Mapped[dt.datetime | None]
    closed_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Notification(Model):
    """An in-app message (and its e-mail), never carrying an identity.

    Sending is idempotent: one digest per recipient and day, one message per recipient
    and alert, whatever the number of runs.
    """

    __tablename__ = "notification"
    __table_args__ = (
        one_of("kind", NotificationKind),
        one_of("email_state", EmailState),
        sa.CheckConstraint("(kind = 'alert') = (alert_id IS NOT NULL)", name="alert_kind"),
        sa.UniqueConstraint("recipient_user_id", "alert_id"),
        sa.Index("uq_notification_daily", "recipient_user_id", "kind", "day", unique=True,
                 sqlite_where=sa.text("alert_id IS NULL"),
                 postgresql_where=sa.text("alert_id IS NULL")),
        sa.Index("ix_notification_inbox", "recipient_user_id", "created_at"),
        sa.Index("ix_notification_email_state", "email_state"),
    )

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    recipient_user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(sa.String(20))
    day: Mapped[dt.date]
    alert_id: Mapped[int | None] = mapped_column(sa.ForeignKey("alert.id", ondelete="RESTRICT"))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[created_at]
    read_at: Mapped[dt.datetime | None]
    email_state: Mapped[str] = mapped_column(sa.String(10), default="pending")
    emailed_at: Mapped[dt.datetime | None]
