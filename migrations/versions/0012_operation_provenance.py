"""operation provenance

Operations were changed by anyone, for any structure, without a trace (issue 18): the
execution report counts their planned hours. Each operation now records who last set its
planned hours and when, and when it was last changed (which also renews the report's
snapshot fingerprint).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planned_hours_set_by_user_id", sa.Integer(),
                                      nullable=True))
        batch_op.add_column(sa.Column("planned_hours_set_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            "fk_operation_planned_hours_set_by_user_id_app_user", "app_user",
            ["planned_hours_set_by_user_id"], ["id"], ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("operation", schema=None) as batch_op:
        batch_op.drop_constraint("fk_operation_planned_hours_set_by_user_id_app_user",
                                 type_="foreignkey")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("planned_hours_set_at")
        batch_op.drop_column("planned_hours_set_by_user_id")
