"""How many statements a join costs in the database (issue 13: each is a round trip on
PostgreSQL, and a trip through SQLAlchemy on SQLite), on SQLite and PostgreSQL: a resident's
first join in a deal is the common press and the cheapest (on PostgreSQL its writes are one
statement); a second unit of the same order costs more, to find the order and its payments."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from groupbuy.model import PaymentMode
from groupbuy.orders import change_quantity
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import community, deal_spec, item_spec

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
CHAT = community(-100444)
LEADER = 7


@contextmanager
def counted(sessions: async_sessionmaker[AsyncSession]) -> Iterator[Counter[str]]:
    engine = sessions.kw["bind"].sync_engine
    seen: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen[" ".join(statement.split()[:3])] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_a_first_join_is_two_statements_on_postgresql_and_five_on_sqlite(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    postgresql = sessions.kw["bind"].dialect.name == "postgresql"
    uows = SqlUnitOfWorkFactory(sessions)
    async with uows() as uow:
        await uow.communities.save(CHAT)
        spec = deal_spec(T0 + timedelta(days=1), item_spec("Lychee", stock=99, limit=3))
        deal = await uow.deals.add(CHAT.chat_id, LEADER, "CNY", spec, T0, None, PaymentMode.CASH)
        await uow.commit()
    item = deal.items[0].id

    async def join(user_id: int) -> tuple[int, Counter[str]]:
        with counted(sessions) as seen:
            async with uows() as uow:
                change = await change_quantity(
                    uow, deal.id, item, user_id, 1, None, T0, loaded=deal
                )
                await uow.commit()
        return change.order.quantity(item), seen

    quantity, first = await join(1)
    # lock the deal, make the order, its line, take the stock (on PostgreSQL one statement),
    # and at commit mark the live messages stale; no payments to look for in an order just made
    assert quantity == 1
    assert sum(first.values()) == (2 if postgresql else 5), first
    assert not any("payments" in s for s in first), first
    quantity, second = await join(1)
    # the order was there: found, raised step by step, and its payments looked for
    assert quantity == 2
    assert sum(second.values()) == (6 if postgresql else 7), second
