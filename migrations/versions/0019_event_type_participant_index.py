"""event type, participant, date index

The indicators look up one person's events of a type (`EXISTS … WHERE participant_id = ?
AND type = ?`); with only `(type, date, participant_id)` SQLite walked that index once per
person, and 62-A6's `link_person_by_deadline` took 24 of 31 s at 1M events (issue 23).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 02:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_event_type_participant_date", "event",
                    ["type", "participant_id", "date"])


def downgrade() -> None:
    op.drop_index("ix_event_type_participant_date", table_name="event")
