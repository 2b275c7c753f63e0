"""The record of handled Telegram updates (groupbuy.delivery): one row per update, written in
the transaction of the update's first effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Executable, bindparam, delete

from storage.db import Db
from storage.tables import HandledUpdateRow, table_of
from storage.upsert import dialect_insert

# Telegram keeps an unconfirmed update for 24 hours, so a redelivery comes within a day. Not
# much longer either: after a week without updates Telegram may start its ids anew at random.
KEEP = timedelta(days=2)

# Written with every update's first commit, so built once per dialect (see storage/deals.py): a
# statement built afresh each time cost about as much as the rest of a press's statements.
_handled = table_of(HandledUpdateRow)
_MARK: dict[str, Executable] = {}


def _mark(dialect: str) -> Executable:
    built = _MARK.get(dialect)
    if built is None:
        built = (
            dialect_insert(dialect)(_handled)
            .values(
                bot_id=bindparam("bot_id"),
                update_id=bindparam("update_id"),
                handled_at=bindparam("handled_at"),
            )
            .on_conflict_do_nothing()
        )
        _MARK[dialect] = built
    return built


async def mark(session: Db, bot_id: int, update_id: int) -> bool:
    """Record the update as handled; False if it already was (by an earlier delivery)."""
    statement = _mark(session.get_bind().dialect.name)
    values = {"bot_id": bot_id, "update_id": update_id, "handled_at": datetime.now(UTC)}
    result = await session.execute(statement, values)
    return int(getattr(result, "rowcount", 0)) == 1  # a CursorResult for an INSERT


async def prune(session: Db, now: datetime) -> None:
    await session.execute(delete(HandledUpdateRow).where(HandledUpdateRow.handled_at < now - KEEP))
