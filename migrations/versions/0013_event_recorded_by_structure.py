"""event recorded by structure

Which structure recorded each event (domain.md §1 need-to-know: a structure changes only
the events it recorded), so that ending an enrolment can offer to close the periods the
structure opened and show the others' as information only (issue 17, item 3). Nullable:
events recorded before this revision, by an import or by a system job name no structure.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_by_structure_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_event_recorded_by_structure_id_structure"), "structure",
            ["recorded_by_structure_id"], ["id"], ondelete="RESTRICT")


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_event_recorded_by_structure_id_structure"),
                                 type_="foreignkey")
        batch_op.drop_column("recorded_by_structure_id")
