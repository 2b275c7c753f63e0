"""groupbuy.arrival: "the goods are here" said once per deal, its notices written with it, to
the buyers still to pick up; on the fakes, SQLite and PostgreSQL, and by two leaders at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from groupbuy.arrival import Announced, announce_arrival, remind_to_pick_up
from groupbuy.errors import DomainError
from groupbuy.model import Deal
from groupbuy.notices import Notice, NoticeKind
from groupbuy.ports import UnitOfWorkFactory
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import (
    closed_with_buyers,
    community,
)

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
CHAT = community(-100555)
LEADERS = (7, 8)


async def _deal(factory: UnitOfWorkFactory, close: bool = True) -> Deal:
    return await closed_with_buyers(factory, T0, CHAT, close)


async def _announce(factory: UnitOfWorkFactory, deal: Deal, at: datetime, by: int) -> Announced:
    async with factory() as uow:
        announced = await announce_arrival(uow, deal, at, by)
        await uow.commit()
    return announced


async def _arrival_notices(factory: UnitOfWorkFactory) -> list[Notice]:
    async with factory() as uow:
        pending = await uow.outbox.claim(T0 + timedelta(days=1), 1000, 60)
    kinds = (NoticeKind.ARRIVED, NoticeKind.GOODS_ARRIVED)
    return sorted((p.notice for p in pending if p.notice.kind in kinds), key=str)


async def test_said_once_to_the_buyers_still_to_pick_up(any_factory: UnitOfWorkFactory) -> None:
    deal = await _deal(any_factory)
    first = await _announce(any_factory, deal, T0 + timedelta(hours=1), 7)
    assert (first.first, first.told) == (True, 2)
    assert (first.arrival.at, first.arrival.by) == (T0 + timedelta(hours=1), 7)
    # Again, later, by another leader: nothing new, and the first is what is said.
    again = await _announce(any_factory, deal, T0 + timedelta(hours=2), 8)
    assert (again.first, again.told) == (False, 0)
    assert (again.arrival.at, again.arrival.by) == (T0 + timedelta(hours=1), 7)
    assert await _arrival_notices(any_factory) == sorted(
        [
            Notice(NoticeKind.GOODS_ARRIVED, CHAT.chat_id, deal.id),
            Notice(NoticeKind.ARRIVED, 1001, deal.id, 1001),
            Notice(NoticeKind.ARRIVED, 1002, deal.id, 1002),
        ],
        key=str,
    )


async def test_an_open_deal_s_goods_cannot_arrive(any_factory: UnitOfWorkFactory) -> None:
    deal = await _deal(any_factory, close=False)
    with pytest.raises(DomainError) as refused:
        await _announce(any_factory, deal, T0, 7)
    assert refused.value.key == "deal_not_closed"
    async with any_factory() as uow:
        assert await uow.deals.arrival(deal.id, 0) is None
    assert await _arrival_notices(any_factory) == []


async def test_two_leaders_at_once_tell_each_buyer_once(sql_factory: SqlUnitOfWorkFactory) -> None:
    deal = await _deal(sql_factory)
    results = await asyncio.gather(
        *(
            _announce(sql_factory, deal, T0 + timedelta(minutes=n), by)
            for n, by in enumerate(LEADERS)
        )
    )
    assert sorted(r.first for r in results) == [False, True]
    winner = next(r for r in results if r.first)
    assert all(r.arrival == winner.arrival for r in results)
    notices = await _arrival_notices(sql_factory)
    assert [n.kind for n in notices].count(NoticeKind.ARRIVED) == 2
    assert [n.kind for n in notices].count(NoticeKind.GOODS_ARRIVED) == 1


async def test_the_buyers_still_waiting_are_reminded_at_most_once_an_hour(
    any_factory: UnitOfWorkFactory,
) -> None:
    deal = await _deal(any_factory)
    hour = timedelta(hours=1)

    async def remind(at: datetime) -> int | None:
        async with any_factory() as uow:
            reminded = await remind_to_pick_up(uow, deal, at, hour)
            await uow.commit()
        return reminded

    assert await remind(T0) == 2  # 1001 and 1002: 1003 cancelled, 1004 has theirs
    assert await remind(T0 + timedelta(minutes=59)) is None
    assert await remind(T0 + hour) == 2
    async with any_factory() as uow:
        pending = await uow.outbox.claim(T0 + timedelta(days=1), 1000, 60)
    sent = sorted(
        (p.notice.chat_id, p.notice.ref)
        for p in pending
        if p.notice.kind is NoticeKind.PICKUP_REMINDER
    )
    first, second = int(T0.timestamp()), int((T0 + hour).timestamp())
    assert sent == [(1001, first), (1001, second), (1002, first), (1002, second)]
    still_open = await _deal(any_factory, close=False)
    async with any_factory() as uow:
        with pytest.raises(DomainError):
            await remind_to_pick_up(uow, still_open, T0, hour)
