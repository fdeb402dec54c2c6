"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 04:39:38.566636
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Column types are written as the SQL types they create (cohort.db.UUIDText is
# String(36), UTCDateTime is DateTime(timezone=True)): a released revision imports
# nothing from the application, so renaming application code cannot break it.

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instance_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_instance_meta")),
    )
    op.create_table(
        "programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_programme_period_ordered")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme")),
        sa.UniqueConstraint("code", name=op.f("uq_programme_code")),
    )
    op.create_table(
        "structure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("departement", sa.String(length=5), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "departement IN ('59', '62', 'joint')", name=op.f("ck_structure_departement_valid")
        ),
        sa.CheckConstraint(
            "kind IN ('mission_locale', 'plie', 'mde', 'cllaj', 'bailleur', 'creche', 'siae', 'mds', 'ddets', 'departement', 'other')",
            name=op.f("ck_structure_kind_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_structure")),
        sa.UniqueConstraint("name", "departement", name=op.f("uq_structure_name_departement")),
        sa.UniqueConstraint("uuid", name=op.f("uq_structure_uuid")),
    )
    op.create_table(
        "action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("departement", sa.String(length=5), nullable=False),
        sa.Column("axis", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("public", sa.Text(), nullable=False),
        sa.Column("territory", sa.Text(), nullable=False),
        sa.Column("eligibility", sa.JSON(), nullable=False),
        sa.Column("budget", sa.JSON(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "departement IN ('59', '62', 'joint')", name=op.f("ck_action_departement_valid")
        ),
        sa.CheckConstraint("axis IN (1, 2)", name=op.f("ck_action_axis_valid")),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_action_programme_id_programme"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action")),
        sa.UniqueConstraint("programme_id", "code", name=op.f("uq_action_programme_id_code")),
        sa.UniqueConstraint("uuid", name=op.f("uq_action_uuid")),
    )
    op.create_table(
        "participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=True),
        sa.Column("pseudonym_version", sa.Integer(), nullable=True),
        sa.Column("nir_hash", sa.String(length=64), nullable=True),
        sa.Column("nir_version", sa.Integer(), nullable=True),
        sa.Column("identity_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("identity_version", sa.Integer(), nullable=True),
        sa.Column("birth_month", sa.String(length=7), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("home_departement", sa.String(length=3), nullable=True),
        sa.Column("home_epci", sa.String(length=9), nullable=True),
        sa.Column("ase_past", sa.Boolean(), nullable=False),
        sa.Column("registered_by_structure_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("sex IN ('F', 'M', 'U')", name=op.f("ck_participant_sex_valid")),
        sa.CheckConstraint(
            "(erased_at IS NULL AND pseudonym IS NOT NULL AND identity_sealed IS NOT NULL) OR (erased_at IS NOT NULL AND pseudonym IS NULL AND identity_sealed IS NULL AND nir_hash IS NULL)",
            name=op.f("ck_participant_erasure_consistent"),
        ),
        sa.CheckConstraint(
            "length(birth_month) = 7", name=op.f("ck_participant_birth_month_format")
        ),
        sa.ForeignKeyConstraint(
            ["registered_by_structure_id"],
            ["structure.id"],
            name=op.f("fk_participant_registered_by_structure_id_structure"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant")),
        sa.UniqueConstraint("nir_hash", name=op.f("uq_participant_nir_hash")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_participant_pseudonym")),
        sa.UniqueConstraint("uuid", name=op.f("uq_participant_uuid")),
    )
    op.create_table(
        "enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("exit_reason", sa.String(length=30), nullable=True),
        sa.Column("rsa_at_entry", sa.Boolean(), nullable=False),
        sa.Column("age_at_entry", sa.Integer(), nullable=False),
        sa.Column("under_26", sa.Boolean(), nullable=False),
        sa.Column("ase_past", sa.Boolean(), nullable=False),
        sa.Column("parent_child_0_3", sa.Boolean(), nullable=False),
        sa.Column("intensity", sa.String(length=12), nullable=True),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("force_justification", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "exit_reason IN ('employment', 'training', 'housing_obtained', 'moved_away', 'end_of_support', 'support_refused', 'lost_contact', 'age_limit', 'other')",
            name=op.f("ck_enrolment_exit_reason_valid"),
        ),
        sa.CheckConstraint(
            "intensity IN ('simple', 'reinforced')", name=op.f("ck_enrolment_intensity_valid")
        ),
        sa.CheckConstraint(
            "(end_date IS NULL AND exit_reason IS NULL) OR (end_date IS NOT NULL AND exit_reason IS NOT NULL)",
            name=op.f("ck_enrolment_exit_reason_with_end"),
        ),
        sa.CheckConstraint(
            "(under_26 AND age_at_entry < 26) OR (NOT under_26 AND age_at_entry >= 26)",
            name=op.f("ck_enrolment_under_26_matches_age"),
        ),
        sa.CheckConstraint(
            "NOT forced OR force_justification IS NOT NULL",
            name=op.f("ck_enrolment_forced_is_justified"),
        ),
        sa.CheckConstraint(
            "age_at_entry BETWEEN 0 AND 130", name=op.f("ck_enrolment_age_plausible")
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date", name=op.f("ck_enrolment_dates_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["action.id"],
            name=op.f("fk_enrolment_action_id_action"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_enrolment_participant_id_participant"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["structure.id"],
            name=op.f("fk_enrolment_structure_id_structure"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment")),
        sa.UniqueConstraint("uuid", name=op.f("uq_enrolment_uuid")),
    )
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enrolment_action_dates", ["action_id", "start_date", "end_date"], unique=False
        )
        batch_op.create_index(
            "ix_enrolment_participant", ["participant_id", "action_id", "start_date"], unique=False
        )
        batch_op.create_index(
            "ix_enrolment_structure", ["structure_id", "participant_id"], unique=False
        )
        batch_op.create_index(
            "uq_enrolment_open",
            ["participant_id", "action_id"],
            unique=True,
            sqlite_where=sa.text("end_date IS NULL"),
            postgresql_where=sa.text("end_date IS NULL"),
        )

    op.create_table(
        "operation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("planned_hours", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('clause_site', 'insertion_operation', 'creche_project', 'housing_partner', 'other')",
            name=op.f("ck_operation_kind_valid"),
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date", name=op.f("ck_operation_dates_ordered")
        ),
        sa.CheckConstraint(
            "planned_hours IS NULL OR planned_hours >= 0", name=op.f("ck_operation_hours_positive")
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["action.id"],
            name=op.f("fk_operation_action_id_action"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["structure.id"],
            name=op.f("fk_operation_structure_id_structure"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operation")),
        sa.UniqueConstraint("uuid", name=op.f("uq_operation_uuid")),
    )
    with op.batch_alter_table("operation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_operation_action_dates", ["action_id", "start_date", "end_date"], unique=False
        )

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=True),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("closes_id", sa.Integer(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("qualifying", sa.Boolean(), nullable=True),
        sa.Column("via_programme", sa.Boolean(), nullable=True),
        sa.Column("planned_months", sa.Integer(), nullable=True),
        sa.Column("hours", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "type IN ('housing_entry', 'housing_exit', 'training_start', 'training_end', 'employment_start', 'employment_end', 'school_enrolment', 'school_exit', 'scheme_entry', 'scheme_exit', 'resource_start', 'resource_end', 'support_break', 'support_resumed', 'link_person_chosen', 'childcare_start', 'childcare_end', 'clause_hours', 'mobility_assessment', 'contact')",
            name=op.f("ck_event_type_valid"),
        ),
        sa.CheckConstraint("hours IS NULL OR hours >= 0", name=op.f("ck_event_hours_positive")),
        sa.ForeignKeyConstraint(
            ["closes_id"], ["event.id"], name=op.f("fk_event_closes_id_event"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolment.id"],
            name=op.f("fk_event_enrolment_id_enrolment"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operation.id"],
            name=op.f("fk_event_operation_id_operation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_event_participant_id_participant"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("uuid", name=op.f("uq_event_uuid")),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_enrolment", ["enrolment_id"], unique=False)
        batch_op.create_index("ix_event_operation", ["operation_id"], unique=False)
        batch_op.create_index("ix_event_participant_date", ["participant_id", "date"], unique=False)
        batch_op.create_index(
            "ix_event_type_date", ["type", "date", "participant_id"], unique=False
        )

    op.create_table(
        "event_interval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("family", sa.String(length=20), nullable=False),
        sa.Column("start_event_id", sa.Integer(), nullable=False),
        sa.Column("end_event_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "family IN ('housing', 'training', 'employment', 'school', 'scheme', 'resource', 'support_break', 'childcare')",
            name=op.f("ck_event_interval_family_valid"),
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date",
            name=op.f("ck_event_interval_dates_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["end_event_id"],
            ["event.id"],
            name=op.f("fk_event_interval_end_event_id_event"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_event_interval_participant_id_participant"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["start_event_id"],
            ["event.id"],
            name=op.f("fk_event_interval_start_event_id_event"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_interval")),
    )
    with op.batch_alter_table("event_interval", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_interval_current", ["family", "valid_to", "participant_id"], unique=False
        )
        batch_op.create_index(
            "ix_event_interval_participant", ["participant_id", "valid_to"], unique=False
        )

    op.create_table(
        "event_void",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_void_event_id_event"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_void")),
        sa.UniqueConstraint("event_id", name=op.f("uq_event_void_event_id")),
    )


def downgrade() -> None:
    op.drop_table("event_void")
    with op.batch_alter_table("event_interval", schema=None) as batch_op:
        batch_op.drop_index("ix_event_interval_participant")
        batch_op.drop_index("ix_event_interval_current")

    op.drop_table("event_interval")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_type_date")
        batch_op.drop_index("ix_event_participant_date")
        batch_op.drop_index("ix_event_operation")
        batch_op.drop_index("ix_event_enrolment")

    op.drop_table("event")
    with op.batch_alter_table("operation", schema=None) as batch_op:
        batch_op.drop_index("ix_operation_action_dates")

    op.drop_table("operation")
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_enrolment_open",
            sqlite_where=sa.text("end_date IS NULL"),
            postgresql_where=sa.text("end_date IS NULL"),
        )
        batch_op.drop_index("ix_enrolment_structure")
        batch_op.drop_index("ix_enrolment_participant")
        batch_op.drop_index("ix_enrolment_action_dates")

    op.drop_table("enrolment")
    op.drop_table("participant")
    op.drop_table("action")
    op.drop_table("structure")
    op.drop_table("programme")
    op.drop_table("instance_meta")
