"""caseload indexes

The caseload ("file active", issue 17) reads the people a structure follows as the union of
its enrolments (indexed by ix_enrolment_structure) and the people it registered; without an
index the second half scanned every participant of the base on every page view. A foreign
key creates no index on SQLite or PostgreSQL.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 01:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.create_index("ix_participant_registered_by", ["registered_by_structure_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_index("ix_participant_registered_by")
