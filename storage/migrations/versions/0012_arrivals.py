"""arrivals: the leader said a deal's goods arrived (到货), once per deal and pickup point

Its notices to the buyers are written with it, so a second press (or a second leader) tells no
one twice and is answered with when it was said.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 09:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "arrivals",
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("point", sa.Integer(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("arrived_by", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_arrivals_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("deal_id", "point", name=op.f("pk_arrivals")),
    )


def downgrade() -> None:
    op.drop_table("arrivals")
