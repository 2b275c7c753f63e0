"""one-tap reorder: who is told when what they bought is open again

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reorder_watches",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("deal_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("names", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["deals.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "deal_id"),
    )
    with op.batch_alter_table("reorder_watches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reorder_watches_community_id"), ["community_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reorder_watches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reorder_watches_community_id"))
    op.drop_table("reorder_watches")
