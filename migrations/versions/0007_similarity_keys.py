"""participant similarity keys

Keyed, truncated similarity keys of each participant's identity (possible duplicates,
issue 17; cohort/identity/similarity.py). Existing participants get theirs from
`cohort keys rotate --purpose similarity`, which needs the decrypted identity, so this
migration only creates the empty table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "participant_similarity_key",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.Integer(), nullable=False),
        sa.Column("birth_month", sa.String(length=7), nullable=False),
        sa.CheckConstraint(
            "length(birth_month) = 7",
            name=op.f("ck_participant_similarity_key_birth_month_format"),
        ),
        sa.CheckConstraint(
            "digest >= 0", name=op.f("ck_participant_similarity_key_digest_positive")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_participant_similarity_key_participant_id_participant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "participant_id",
            "kind",
            "key_version",
            "digest",
            name=op.f("pk_participant_similarity_key"),
        ),
    )
    with op.batch_alter_table("participant_similarity_key", schema=None) as batch_op:
        batch_op.create_index(
            "ix_participant_similarity_key_lookup",
            ["birth_month", "kind", "digest"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("participant_similarity_key", schema=None) as batch_op:
        batch_op.drop_index("ix_participant_similarity_key_lookup")
    op.drop_table("participant_similarity_key")
