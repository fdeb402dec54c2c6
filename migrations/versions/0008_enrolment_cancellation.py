"""enrolment cancellation

An enrolment entered by mistake is cancelled, not ended (domain.md §4): when, by whom and
why, the three together; a cancelled enrolment no longer holds the one open enrolment per
participant and action, and a partial index finds the few cancelled ones.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 22:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_BEFORE = "end_date IS NULL"
OPEN_AFTER = "end_date IS NULL AND cancelled_at IS NULL"
CANCELLED = "cancelled_at IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancelled_by_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            "fk_enrolment_cancelled_by_user_id_app_user", "app_user",
            ["cancelled_by_user_id"], ["id"], ondelete="RESTRICT",
        )
        batch_op.create_check_constraint(
            "ck_enrolment_cancellation_complete",
            "(cancelled_at IS NULL AND cancel_reason IS NULL AND cancelled_by_user_id IS NULL)"
            " OR (cancelled_at IS NOT NULL AND cancel_reason IS NOT NULL)",
        )
        batch_op.drop_index(
            "uq_enrolment_open",
            sqlite_where=sa.text(OPEN_BEFORE),
            postgresql_where=sa.text(OPEN_BEFORE),
        )
        batch_op.create_index(
            "uq_enrolment_open",
            ["participant_id", "action_id"],
            unique=True,
            sqlite_where=sa.text(OPEN_AFTER),
            postgresql_where=sa.text(OPEN_AFTER),
        )
        batch_op.create_index(
            "ix_enrolment_cancelled",
            ["cancelled_at"],
            unique=False,
            sqlite_where=sa.text(CANCELLED),
            postgresql_where=sa.text(CANCELLED),
        )


def downgrade() -> None:
    # Refused while a cancelled enrolment would make two open ones in one action: the
    # unique index below would fail (end them or delete them first).
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_enrolment_cancelled",
            sqlite_where=sa.text(CANCELLED),
            postgresql_where=sa.text(CANCELLED),
        )
        batch_op.drop_index(
            "uq_enrolment_open",
            sqlite_where=sa.text(OPEN_AFTER),
            postgresql_where=sa.text(OPEN_AFTER),
        )
        batch_op.create_index(
            "uq_enrolment_open",
            ["participant_id", "action_id"],
            unique=True,
            sqlite_where=sa.text(OPEN_BEFORE),
            postgresql_where=sa.text(OPEN_BEFORE),
        )
        batch_op.drop_constraint("ck_enrolment_cancellation_complete", type_="check")
        batch_op.drop_constraint("fk_enrolment_cancelled_by_user_id_app_user",
                                 type_="foreignkey")
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("cancelled_by_user_id")
        batch_op.drop_column("cancelled_at")
