"""pickup_points: a community's places to pick up; the points a deal offers, an order's, a default

A deal offers one or several of its community's points (deals.points); each order is picked up at
one (orders.point_id), and the point a resident chose last is offered first (residents.point_id).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pickup_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("hours", sa.String(length=128), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.chat_id"],
            name=op.f("fk_pickup_points_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickup_points")),
    )
    with op.batch_alter_table("pickup_points", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pickup_points_community_id"), ["community_id"], unique=False
        )
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("points", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("point_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("point_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_column("point_id")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("point_id")
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_column("points")
    op.drop_table("pickup_points")
