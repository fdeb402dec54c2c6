"""follow-up checks, alerts, notifications

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 05:21:57.299880
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Column types are written as the SQL types they create (cohort.db.UUIDText is
# String(36), UTCDateTime is DateTime(timezone=True)): a released revision imports
# nothing from the application, so renaming application code cannot break it.

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "followup_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=True),
        sa.Column("checked_on", sa.Date(), nullable=True),
        sa.Column("situation", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("in_pathway", sa.Boolean(), nullable=True),
        sa.Column("durable_employment", sa.Boolean(), nullable=True),
        sa.Column("stably_housed", sa.Boolean(), nullable=True),
        sa.Column("has_resources", sa.Boolean(), nullable=True),
        sa.Column("event_ids", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("result_sha256", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=30), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(status = 'done' AND outcome IS NOT NULL AND checked_on IS NOT NULL) OR (status <> 'done' AND outcome IS NULL)",
            name=op.f("ck_followup_check_done_has_outcome"),
        ),
        sa.CheckConstraint(
            "outcome IN ('reached', 'not_reached', 'refused')",
            name=op.f("ck_followup_check_outcome_valid"),
        ),
        sa.CheckConstraint(
            "situation IS NULL OR outcome = 'reached'",
            name=op.f("ck_followup_check_situation_when_reached"),
        ),
        sa.CheckConstraint(
            "status IN ('scheduled', 'done', 'cancelled')",
            name=op.f("ck_followup_check_status_valid"),
        ),
        sa.CheckConstraint(
            "attempts IS NULL OR attempts >= 0", name=op.f("ck_followup_check_attempts_positive")
        ),
        sa.CheckConstraint(
            "window_start <= due_date AND due_date <= window_end",
            name=op.f("ck_followup_check_window_around_due"),
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["action.id"],
            name=op.f("fk_followup_check_action_id_action"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolment.id"],
            name=op.f("fk_followup_check_enrolment_id_enrolment"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_followup_check_participant_id_participant"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"],
            ["app_user.id"],
            name=op.f("fk_followup_check_recorded_by_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["structure.id"],
            name=op.f("fk_followup_check_structure_id_structure"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_check")),
        sa.UniqueConstraint("uuid", name=op.f("uq_followup_check_uuid")),
    )
    with op.batch_alter_table("followup_check", schema=None) as batch_op:
        batch_op.create_index(
            "ix_followup_check_action_due", ["action_id", "due_date"], unique=False
        )
        batch_op.create_index("ix_followup_check_participant", ["participant_id"], unique=False)
        batch_op.create_index(
            "ix_followup_check_worklist", ["structure_id", "status", "due_date"], unique=False
        )
        batch_op.create_index(
            "uq_followup_check_live",
            ["enrolment_id"],
            unique=True,
            sqlite_where=sa.text("status <> 'cancelled'"),
            postgresql_where=sa.text("status <> 'cancelled'"),
        )

    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=True),
        sa.Column("departement", sa.String(length=5), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("check_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=15), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_user_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(cause = 'support_break' AND event_id IS NOT NULL AND check_id IS NULL) OR (cause = 'overdue_check' AND check_id IS NOT NULL AND event_id IS NULL)",
            name=op.f("ck_alert_cause_has_source"),
        ),
        sa.CheckConstraint(
            "cause IN ('support_break', 'overdue_check')", name=op.f("ck_alert_cause_valid")
        ),
        sa.CheckConstraint(
            "status <> 'closed' OR (closed_at IS NOT NULL AND note IS NOT NULL)",
            name=op.f("ck_alert_closed_with_note"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'closed')", name=op.f("ck_alert_status_valid")
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_user_id"],
            ["app_user.id"],
            name=op.f("fk_alert_acknowledged_by_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["followup_check.id"],
            name=op.f("fk_alert_check_id_followup_check"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_user_id"],
            ["app_user.id"],
            name=op.f("fk_alert_closed_by_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolment.id"],
            name=op.f("fk_alert_enrolment_id_enrolment"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_alert_event_id_event"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_alert_participant_id_participant"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
        sa.UniqueConstraint("check_id", name=op.f("uq_alert_check_id")),
        sa.UniqueConstraint("event_id", name=op.f("uq_alert_event_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_alert_uuid")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(
            "ix_alert_departement_status", ["departement", "status", "created_at"], unique=False
        )
        batch_op.create_index("ix_alert_participant", ["participant_id"], unique=False)

    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("recipient_user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_state", sa.String(length=10), nullable=False),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'alert') = (alert_id IS NOT NULL)", name=op.f("ck_notification_alert_kind")
        ),
        sa.CheckConstraint(
            "email_state IN ('pending', 'sent', 'skipped')",
            name=op.f("ck_notification_email_state_valid"),
        ),
        sa.CheckConstraint(
            "kind IN ('followup_digest', 'alert')", name=op.f("ck_notification_kind_valid")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
            name=op.f("fk_notification_alert_id_alert"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_user_id"],
            ["app_user.id"],
            name=op.f("fk_notification_recipient_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint(
            "recipient_user_id", "alert_id", name=op.f("uq_notification_recipient_user_id_alert_id")
        ),
        sa.UniqueConstraint("uuid", name=op.f("uq_notification_uuid")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_email_state", ["email_state"], unique=False)
        batch_op.create_index(
            "ix_notification_inbox", ["recipient_user_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_notification_daily",
            ["recipient_user_id", "kind", "day"],
            unique=True,
            sqlite_where=sa.text("alert_id IS NULL"),
            postgresql_where=sa.text("alert_id IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_notification_daily",
            sqlite_where=sa.text("alert_id IS NULL"),
            postgresql_where=sa.text("alert_id IS NULL"),
        )
        batch_op.drop_index("ix_notification_inbox")
        batch_op.drop_index("ix_notification_email_state")

    op.drop_table("notification")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_participant")
        batch_op.drop_index("ix_alert_departement_status")

    op.drop_table("alert")
    with op.batch_alter_table("followup_check", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_followup_check_live",
            sqlite_where=sa.text("status <> 'cancelled'"),
            postgresql_where=sa.text("status <> 'cancelled'"),
        )
        batch_op.drop_index("ix_followup_check_worklist")
        batch_op.drop_index("ix_followup_check_participant")
        batch_op.drop_index("ix_followup_check_action_due")

    op.drop_table("followup_check")
