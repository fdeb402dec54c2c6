"""erasure requests

An administrator could erase anyone, at once, with no reason and no second person (issue
18). An erasure is now requested with a typed reason and carried out only when another
administrator approves it; both steps are audited.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasure_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("participant_uuid", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by_user_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by_user_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')",
                           name=op.f("ck_erasure_request_status_valid")),
        sa.CheckConstraint("mode IN ('keep_pathway', 'delete_pathway')",
                           name=op.f("ck_erasure_request_mode_valid")),
        sa.CheckConstraint(
            "(status = 'pending' AND decided_at IS NULL AND decided_by_user_id IS NULL)"
            " OR (status <> 'pending' AND decided_at IS NOT NULL"
            " AND decided_by_user_id IS NOT NULL)",
            name=op.f("ck_erasure_request_decision_complete")),
        sa.CheckConstraint("decided_by_user_id IS NULL OR decided_by_user_id <> "
                           "requested_by_user_id", name=op.f("ck_erasure_request_four_eyes")),
        sa.ForeignKeyConstraint(["requested_by_user_id"], ["app_user.id"],
                                name=op.f("fk_erasure_request_requested_by_user_id_app_user"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["decided_by_user_id"], ["app_user.id"],
                                name=op.f("fk_erasure_request_decided_by_user_id_app_user"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_request")),
        sa.UniqueConstraint("uuid", name=op.f("uq_erasure_request_uuid")),
    )
    op.create_index("uq_erasure_request_pending", "erasure_request", ["participant_uuid"],
                    unique=True, sqlite_where=sa.text("status = 'pending'"),
                    postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_index("uq_erasure_request_pending", table_name="erasure_request",
                  sqlite_where=sa.text("status = 'pending'"),
                  postgresql_where=sa.text("status = 'pending'"))
    op.drop_table("erasure_request")
