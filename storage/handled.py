"""The record of handled Telegram updates (groupbuy.delivery): one row per update, written in
the transaction of the update's first effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from storage.db import Db
from storage.tables import HandledUpdateRow
from storage.upsert import insert_for

# Telegram keeps an unconfirmed update for 24 hours, so a redelivery comes within a day. Not
# much longer either: after a week without updates Telegram may start its ids anew at random.
KEEP = timedelta(days=2)


async def mark(session: Db, bot_id: int, update_id: int) -> bool:
    """Record the update as handled; False if it already was (by an earlier delivery)."""
    statement = (
        insert_for(session, HandledUpdateRow)
        .values(bot_id=bot_id, update_id=update_id, handled_at=datetime.now(UTC))
        .on_conflict_do_nothing()
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # a CursorResult for an INSERT


async def prune(session: Db, now: datetime) -> None:
    await session.execute(delete(HandledUpdateRow).where(HandledUpdateRow.handled_at < now - KEEP))
