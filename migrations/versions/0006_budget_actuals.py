"""budget actuals

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 09:00:16.462514
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Column types are written as the SQL types they create (cohort.db.UUIDText is
# String(36), UTCDateTime is DateTime(timezone=True)): a released revision imports
# nothing from the application, so renaming application code cannot break it.

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "budget_actual",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("state_effective", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("departement", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("departement_valuation", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("other", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "departement IS NULL OR departement >= 0",
            name=op.f("ck_budget_actual_departement_positive"),
        ),
        sa.CheckConstraint(
            "departement_valuation IS NULL OR departement IS NULL OR departement_valuation <= departement",
            name=op.f("ck_budget_actual_valuation_in_share"),
        ),
        sa.CheckConstraint(
            "departement_valuation IS NULL OR departement_valuation >= 0",
            name=op.f("ck_budget_actual_departement_valuation_positive"),
        ),
        sa.CheckConstraint(
            "other IS NULL OR other >= 0", name=op.f("ck_budget_actual_other_positive")
        ),
        sa.CheckConstraint(
            "state_effective IS NULL OR state_effective >= 0",
            name=op.f("ck_budget_actual_state_effective_positive"),
        ),
        sa.CheckConstraint(
            "total IS NULL OR total >= 0", name=op.f("ck_budget_actual_total_positive")
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["action.id"],
            name=op.f("fk_budget_actual_action_id_action"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"],
            ["app_user.id"],
            name=op.f("fk_budget_actual_recorded_by_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_actual")),
        sa.UniqueConstraint("action_id", "year", name=op.f("uq_budget_actual_action_id_year")),
    )


def downgrade() -> None:
    op.drop_table("budget_actual")
