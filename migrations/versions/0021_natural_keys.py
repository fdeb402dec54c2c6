"""natural keys: operation code, structures' file numbers (keyed hashes)

Partners name things in their files as they know them (issue 22): an operation by its
code, a participant by the structure's own file number, kept as a keyed hash per
structure, never in clear.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_operation_code"), ["code"])
    op.create_table(
        "participant_file_number",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"],
            name=op.f("fk_participant_file_number_participant_id_participant"),
            ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["structure_id"], ["structure.id"],
            name=op.f("fk_participant_file_number_structure_id_structure"),
            ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant_file_number")),
        sa.UniqueConstraint("structure_id", "digest",
                            name=op.f("uq_participant_file_number_structure_id_digest")),
    )
    op.create_index("ix_participant_file_number_participant", "participant_file_number",
                    ["participant_id"])


def downgrade() -> None:
    op.drop_index("ix_participant_file_number_participant",
                  table_name="participant_file_number")
    op.drop_table("participant_file_number")
    with op.batch_alter_table("operation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_operation_code"), type_="unique")
        batch_op.drop_column("code")
