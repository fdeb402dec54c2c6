"""second factor

TOTP for the web sign-in (issue 18): mandatory for administrators, optional for everyone
else. The shared secret is sealed under the encryption key like an identity (its key
version beside it, so `cohort keys rotate --purpose encryption` re-seals it); recovery
codes are kept as SHA-256 only.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 01:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("totp_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("totp_confirmed_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"],
                                name=op.f("fk_recovery_code_user_id_app_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
        sa.UniqueConstraint("user_id", "code_sha256",
                            name=op.f("uq_recovery_code_user_id_code_sha256")),
    )


def downgrade() -> None:
    op.drop_table("recovery_code")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_confirmed_at")
        batch_op.drop_column("totp_version")
        batch_op.drop_column("totp_sealed")
