"""delivery by the leader: a deal's fee and free-delivery total; the orders delivered

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_fee", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("delivery_free_from", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("delivery", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("delivery")
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_column("delivery_free_from")
        batch_op.drop_column("delivery_fee")
