"""interval end-event index only over closed intervals

`ix_event_interval_end_event` answers "which interval does this end close?" per housing
exit. While most intervals are open, its statistics counted every NULL as one value, and
SQLite chose to scan `event_interval` once per exit (issue 23's plan test). Partial, the
index holds only closed intervals, and the look-up (`end_event_id = ?`, which implies
NOT NULL) still uses it.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 07:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLOSED = sa.text("end_event_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_event_interval_end_event", table_name="event_interval")
    op.create_index("ix_event_interval_end_event", "event_interval", ["end_event_id"],
                    sqlite_where=CLOSED, postgresql_where=CLOSED)


def downgrade() -> None:
    op.drop_index("ix_event_interval_end_event", table_name="event_interval")
    op.create_index("ix_event_interval_end_event", "event_interval", ["end_event_id"])
