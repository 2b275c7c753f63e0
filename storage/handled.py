"""The record of handled Telegram updates (groupbuy.delivery): one row per update, written in
the transaction of the update's first effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Executable, bindparam, delete, func, select, update

from groupbuy.live import Touched
from storage.db import Db
from storage.live import showing
from storage.tables import HandledUpdateRow, LiveMessageRow, table_of
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


_MARK_AND_BUMP: dict[tuple[bool, bool], Executable] = {}


def _mark_and_bump(touched: Touched) -> tuple[Executable, dict[str, list[int]]]:
    """PostgreSQL: the record and the live messages' bump (storage.live) in one statement, a
    round trip fewer at every commit of a change: with the deal locked until the COMMIT, every
    other press on it waits for these."""
    condition, params = showing(touched)
    key = (bool(touched.orders), bool(touched.deals))
    built = _MARK_AND_BUMP.get(key)
    if built is None:
        # Parameters named after no column: an UPDATE would SET a column named like one.
        marked = (
            dialect_insert("postgresql")(_handled)
            .values(
                bot_id=bindparam("mark_bot"),
                update_id=bindparam("mark_update"),
                handled_at=bindparam("mark_at"),
            )
            .on_conflict_do_nothing()
            .returning(_handled.c.update_id)
            .cte("marked")
        )
        live = table_of(LiveMessageRow)
        # Run though nothing reads it; if the update was handled already, the caller rolls the
        # whole transaction back, this bump with it.
        bumped = update(live).where(condition).values(version=live.c.version + 1).cte("bumped")
        built = select(select(func.count()).select_from(marked).scalar_subquery()).add_cte(bumped)
        _MARK_AND_BUMP[key] = built
    return built, params


async def mark_and_bump(session: Db, bot_id: int, update_id: int, touched: Touched) -> bool:
    """PostgreSQL only: `mark`, and in the same statement `SqlLiveMessages.bump(touched)`
    (something was touched). False if the update was already handled: the caller rolls back."""
    statement, params = _mark_and_bump(touched)
    values = {"mark_bot": bot_id, "mark_update": update_id, "mark_at": datetime.now(UTC)}
    return bool((await session.execute(statement, {**values, **params})).scalar_one())


async def prune(session: Db, now: datetime) -> None:
    await session.execute(delete(HandledUpdateRow).where(HandledUpdateRow.handled_at < now - KEEP))
