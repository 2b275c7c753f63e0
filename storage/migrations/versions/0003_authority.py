"""authority: the bot's own record of each group's admins, and deals open to anyone with the link

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 04:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_admins",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "user_id", name=op.f("pk_group_admins")),
    )
    with op.batch_alter_table("group_admins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_admins_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("open_link", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_column("open_link")
    with op.batch_alter_table("group_admins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_admins_user_id"))
    op.drop_table("group_admins")
