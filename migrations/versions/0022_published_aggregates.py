"""published aggregates: the protected output of the standard cuts, computed once

``cohort publish`` stores each département's published indicator set and cohort table
for the standard cuts, versioned by as-of date and a digest of the inputs (issue 20).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "published_aggregate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("cut_key", sa.String(length=400), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("data_version", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('indicators', 'cohorts')",
                           name=op.f("ck_published_aggregate_kind_valid")),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"],
            name=op.f("fk_published_aggregate_programme_id_programme"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_aggregate")),
        sa.UniqueConstraint("cut_key", "data_version",
                            name=op.f("uq_published_aggregate_cut_key_data_version")),
    )
    op.create_index(op.f("ix_published_aggregate_programme_id"), "published_aggregate",
                    ["programme_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_published_aggregate_programme_id"),
                  table_name="published_aggregate")
    op.drop_table("published_aggregate")
