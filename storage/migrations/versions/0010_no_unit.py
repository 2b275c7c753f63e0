"""residents.unit: a skipped unit is empty, not "-" (it printed as "2---1203" and as "'-" in CSV)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text("UPDATE residents SET unit = '' WHERE unit = '-'"))


def downgrade() -> None:
    op.execute(sa.text("UPDATE residents SET unit = '-' WHERE unit = ''"))
