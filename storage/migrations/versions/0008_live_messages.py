"""live_messages: the messages the bot keeps current (order cards, pickup checklists, payments)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "live_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("shown_version", sa.Integer(), nullable=False),
        sa.Column("shown_hash", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_live_messages_deal_id_deals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_messages")),
        sa.UniqueConstraint("chat_id", "message_id", "subject_id", name="uq_live_messages_subject"),
    )
    op.create_index("ix_live_messages_of", "live_messages", ["kind", "deal_id", "subject_id"])
    op.create_index("ix_live_messages_stale", "live_messages", ["version", "shown_version"])


def downgrade() -> None:
    op.drop_index("ix_live_messages_stale", table_name="live_messages")
    op.drop_index("ix_live_messages_of", table_name="live_messages")
    op.drop_table("live_messages")
