"""link requests and dismissed duplicate pairs

A coordinator who registers a person close to a record followed elsewhere (or whose NIR
another record holds) files a link request that an administrator accepts or rejects; an
administrator dismisses pairs of the duplicates report that are two people
(docs/duplicates.md). Both go with their participants (ON DELETE CASCADE). An index on the
similarity buckets by (kind, digest, birth month) lets the report find a day/month swap in
the later months of a birth year.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "status = 'pending'"


def upgrade() -> None:
    op.create_table(
        "link_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_user_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("participant_id <> candidate_id",
                           name=op.f("ck_link_request_two_people")),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'rejected')",
                           name=op.f("ck_link_request_status_valid")),
        sa.CheckConstraint("cause IN ('similar', 'nir')",
                           name=op.f("ck_link_request_cause_valid")),
        sa.CheckConstraint(
            "(status = 'pending' AND decided_at IS NULL)"
            " OR (status <> 'pending' AND decided_at IS NOT NULL)",
            name=op.f("ck_link_request_decision_dated")),
        sa.CheckConstraint("status <> 'rejected' OR decision_reason IS NOT NULL",
                           name=op.f("ck_link_request_rejection_reasoned")),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"],
                                name=op.f("fk_link_request_participant_id_participant"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["candidate_id"], ["participant.id"],
                                name=op.f("fk_link_request_candidate_id_participant"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["structure_id"], ["structure.id"],
                                name=op.f("fk_link_request_structure_id_structure"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_request")),
        sa.UniqueConstraint("uuid", name=op.f("uq_link_request_uuid")),
    )
    with op.batch_alter_table("link_request", schema=None) as batch_op:
        batch_op.create_index("uq_link_request_pending", ["participant_id", "candidate_id"],
                              unique=True, sqlite_where=sa.text(PENDING),
                              postgresql_where=sa.text(PENDING))
        batch_op.create_index("ix_link_request_status", ["status", "created_at"],
                              unique=False)

    op.create_table(
        "duplicate_dismissal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("low_id", sa.Integer(), nullable=False),
        sa.Column("high_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dismissed_by_user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("low_id < high_id", name=op.f("ck_duplicate_dismissal_ordered_pair")),
        sa.ForeignKeyConstraint(["low_id"], ["participant.id"],
                                name=op.f("fk_duplicate_dismissal_low_id_participant"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["high_id"], ["participant.id"],
                                name=op.f("fk_duplicate_dismissal_high_id_participant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_dismissal")),
        sa.UniqueConstraint("low_id", "high_id", name=op.f("uq_duplicate_dismissal_pair")),
        sa.UniqueConstraint("uuid", name=op.f("uq_duplicate_dismissal_uuid")),
    )
    with op.batch_alter_table("participant_similarity_key", schema=None) as batch_op:
        batch_op.create_index("ix_participant_similarity_key_bucket",
                              ["kind", "digest", "birth_month"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("participant_similarity_key", schema=None) as batch_op:
        batch_op.drop_index("ix_participant_similarity_key_bucket")
    op.drop_table("duplicate_dismissal")
    with op.batch_alter_table("link_request", schema=None) as batch_op:
        batch_op.drop_index("ix_link_request_status")
        batch_op.drop_index("uq_link_request_pending", sqlite_where=sa.text(PENDING),
                            postgresql_where=sa.text(PENDING))
    op.drop_table("link_request")
