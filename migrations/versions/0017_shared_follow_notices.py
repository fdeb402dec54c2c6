"""shared follow notices

A structure that starts following a person already followed elsewhere is audited, and the
structures already following are told, without the person's name (domain.md §1; issue
18): a new notification kind, `shared_follow`, in the inbox and in the daily digest.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 01:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "kind IN ('followup_digest', 'alert')"
AFTER = "kind IN ('followup_digest', 'alert', 'shared_follow')"


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_kind_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notification_kind_valid"), AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM notification WHERE kind = 'shared_follow'")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_kind_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notification_kind_valid"), BEFORE)
