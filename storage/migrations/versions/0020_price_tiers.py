"""tiered prices: an item's lower prices from a number of units the deal's buyers hold

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-09 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # "50:3500;100:3200" (groupbuy.tiers.stored): read with the item on every press, so a
    # column of the item's row rather than a table of its own.
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tiers", sa.String(length=120), server_default="", nullable=False)
        )
        # The tier's price as the close fixed it: later cuts do not make the rest dearer.
        batch_op.add_column(sa.Column("fixed_price", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("fixed_price")
        batch_op.drop_column("tiers")
