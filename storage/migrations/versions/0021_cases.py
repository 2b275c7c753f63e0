"""whole cases: an item sold by the case, and what the close does with a last case not full

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_size", sa.Integer(), nullable=True))
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("case_rule", sa.String(length=8), server_default="down", nullable=False)
        )
        batch_op.add_column(
            sa.Column("case_wait", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("case_tolerance", sa.Integer(), server_default="100", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_column("case_tolerance")
        batch_op.drop_column("case_wait")
        batch_op.drop_column("case_rule")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("case_size")
