"""pickup_changes: a closed deal's pickup place or window moved by its leader

Each change keeps what the pickup was and what it became, so every buyer still to pick up is
told once, with both.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pickup_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("old_place", sa.String(length=256), nullable=False),
        sa.Column("old_window", sa.String(length=128), nullable=False),
        sa.Column("place", sa.String(length=256), nullable=False),
        sa.Column("window", sa.String(length=128), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
            name=op.f("fk_pickup_changes_deal_id_deals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickup_changes")),
    )
    with op.batch_alter_table("pickup_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pickup_changes_deal_id"), ["deal_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pickup_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pickup_changes_deal_id"))
    op.drop_table("pickup_changes")
