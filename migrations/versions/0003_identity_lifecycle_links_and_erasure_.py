"""identity lifecycle: links and erasure ledger

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 05:02:20.589246
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Column types are written as the SQL types they create (cohort.db.UUIDText is
# String(36), UTCDateTime is DateTime(timezone=True)): a released revision imports
# nothing from the application, so renaming application code cannot break it.

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("participant_uuid", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by_user_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure")),
        sa.UniqueConstraint("uuid", name=op.f("uq_erasure_uuid")),
    )
    op.create_table(
        "participant_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("absorbed_id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_by_user_id", sa.Integer(), nullable=True),
        sa.Column("unlinked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unlinked_by_user_id", sa.Integer(), nullable=True),
        sa.Column("unlink_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "absorbed_id <> survivor_id", name=op.f("ck_participant_link_two_people")
        ),
        sa.ForeignKeyConstraint(
            ["absorbed_id"],
            ["participant.id"],
            name=op.f("fk_participant_link_absorbed_id_participant"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["survivor_id"],
            ["participant.id"],
            name=op.f("fk_participant_link_survivor_id_participant"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant_link")),
        sa.UniqueConstraint("uuid", name=op.f("uq_participant_link_uuid")),
    )
    with op.batch_alter_table("participant_link", schema=None) as batch_op:
        batch_op.create_index(
            "uq_participant_link_active",
            ["absorbed_id"],
            unique=True,
            sqlite_where=sa.text("unlinked_at IS NULL"),
            postgresql_where=sa.text("unlinked_at IS NULL"),
        )

    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_participant_merged_into_id"), ["merged_into_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_participant_merged_into_id_participant"),
            "participant",
            ["merged_into_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_participant_merged_into_id_participant"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_participant_merged_into_id"))
        batch_op.drop_column("merged_into_id")

    with op.batch_alter_table("participant_link", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_participant_link_active",
            sqlite_where=sa.text("unlinked_at IS NULL"),
            postgresql_where=sa.text("unlinked_at IS NULL"),
        )

    op.drop_table("participant_link")
    op.drop_table("erasure")
