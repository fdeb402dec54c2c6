"""index event_interval.end_event_id

"Which interval does this end event close?" (the housing-exit indicator asks it for every
exit in the period) scanned the whole event_interval table without it: 19 s for the 62
indicators at 10,000 participants / 100,000 events (bench/indicators.py,
docs/performance.md). A foreign key creates no index on SQLite or PostgreSQL.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:04:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event_interval", schema=None) as batch_op:
        batch_op.create_index("ix_event_interval_end_event", ["end_event_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event_interval", schema=None) as batch_op:
        batch_op.drop_index("ix_event_interval_end_event")
