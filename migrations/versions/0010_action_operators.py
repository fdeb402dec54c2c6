"""action operators

The structure kinds that run each action (domain.md §2 "Operators", issue 17): a JSON list
on the action, filled by re-loading the programme file (`cohort programmes load`); until
then an action lists none and only an administrator's forced enrolment gets in. A new
structure kind, `social_support` (the FSL social-support operators of 62-A4).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 22:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = ("mission_locale", "plie", "mde", "cllaj", "bailleur", "creche", "siae", "mds",
                "ddets", "departement", "other")
KINDS_AFTER = ("mission_locale", "plie", "mde", "cllaj", "bailleur", "creche", "siae", "mds",
               "social_support", "ddets", "departement", "other")


def _kind_check(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade() -> None:
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("operators", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.alter_column("operators", server_default=None)
    with op.batch_alter_table("structure", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_structure_kind_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_structure_kind_valid"),
                                         _kind_check(KINDS_AFTER))


def downgrade() -> None:
    # A structure of the new kind cannot be kept under the old check: it becomes "other".
    op.execute("UPDATE structure SET kind = 'other' WHERE kind = 'social_support'")
    with op.batch_alter_table("structure", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_structure_kind_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_structure_kind_valid"),
                                         _kind_check(KINDS_BEFORE))
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_column("operators")
