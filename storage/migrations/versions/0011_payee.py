"""communities.payee, payee_photo: whom and how residents pay in pay-the-leader mode

The leader's transfer details (text) and the file id of a photo of their collection code (收款码),
shown to each buyer with the amount owed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payee", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("payee_photo", sa.String(length=256), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("payee_photo")
        batch_op.drop_column("payee")
