"""event.corrects_id: the event a correction replaces

A correction voids an event and records its replacement in one step (domain.md §5); the
replacement names the event it corrects, so the pathway can show "corrigé le … (motif)".

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 22:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("corrects_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_event_corrects_id_event"), "event", ["corrects_id"], ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_index("ix_event_corrects", ["corrects_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_corrects")
        batch_op.drop_constraint(batch_op.f("fk_event_corrects_id_event"), type_="foreignkey")
        batch_op.drop_column("corrects_id")
