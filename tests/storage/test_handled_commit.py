"""The commit that carries an update (groupbuy.delivery): its record and the live messages'
bump go together (on PostgreSQL in one statement), and a second delivery of the same update
changes nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from groupbuy import delivery
from groupbuy.live import Live, LiveKind
from groupbuy.model import Deal, DealStatus, PaymentMode
from groupbuy.orders import change_quantity
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import community, deal_spec, item_spec
from tests.storage.test_join_statements import counted

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
CHAT = community(-100666)
LEADER = 7
BOT = 42


async def _world(uows: SqlUnitOfWorkFactory) -> Deal:
    async with uows() as uow:
        await uow.communities.save(CHAT)
        spec = deal_spec(T0 + timedelta(days=1), item_spec("Lychee", stock=99, limit=None))
        deal = await uow.deals.add(CHAT.chat_id, LEADER, "CNY", spec, T0, None, PaymentMode.CASH)
        await uow.live.record(Live(LiveKind.CARD, deal.id, (1,)), 1, 500, "h", T0)
        await uow.live.record(Live(LiveKind.CARD, deal.id, (2,)), 2, 501, "h", T0)
        await uow.commit()
    async with uows() as uow:  # both cards shown as they are
        for message in await uow.live.stale(10):
            await uow.live.shown(message.rows, "h")
        await uow.commit()
    return deal


async def _join(uows: SqlUnitOfWorkFactory, deal: Deal, user: int, update_id: int) -> None:
    token = delivery.begin(delivery.Delivery(BOT, update_id))
    try:
        async with uows() as uow:
            await change_quantity(uow, deal.id, deal.items[0].id, user, 1, None, T0, loaded=deal)
            await uow.commit()
    finally:
        delivery.end(token)


async def _stale(uows: SqlUnitOfWorkFactory) -> set[int]:
    async with uows() as uow:
        return {m.message_id for m in await uow.live.stale(10)}


async def _sold(uows: SqlUnitOfWorkFactory, deal: Deal) -> int:
    async with uows() as uow:
        fresh = await uow.deals.get(deal.id)
    assert fresh is not None
    return fresh.items[0].sold


async def test_the_record_and_the_bump_commit_together_and_a_redelivery_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    uows = SqlUnitOfWorkFactory(sessions)
    deal = await _world(uows)
    postgresql = sessions.kw["bind"].dialect.name == "postgresql"
    with counted(sessions) as seen:
        await _join(uows, deal, 1, 1001)
    # the take (one statement on PostgreSQL), then the record with the bump
    assert sum(seen.values()) == (2 if postgresql else 6), seen
    assert await _stale(uows) == {500}  # resident 1's card only
    assert await _sold(uows, deal) == 1

    with pytest.raises(delivery.AlreadyHandled):
        await _join(uows, deal, 2, 1001)  # the same update again, by whatever path
    assert await _stale(uows) == {500}  # resident 2's card untouched
    assert await _sold(uows, deal) == 1  # nothing of the second delivery kept

    await _join(uows, deal, 2, 1002)  # a new update goes through
    assert await _stale(uows) == {500, 501}
    assert await _sold(uows, deal) == 2


async def test_a_sold_out_join_and_a_close_bump_every_message_of_the_deal(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The record goes with a bump of what a change touched: orders and the deal together (a
    join that sells the deal out closes it), or the deal alone (a close)."""
    uows = SqlUnitOfWorkFactory(sessions)
    async with uows() as uow:
        await uow.communities.save(CHAT)
        spec = deal_spec(T0 + timedelta(days=1), item_spec("Lychee", stock=1, limit=None))
        last = await uow.deals.add(CHAT.chat_id, LEADER, "CNY", spec, T0, None, PaymentMode.CASH)
        other = await uow.deals.add(CHAT.chat_id, LEADER, "CNY", spec, T0, None, PaymentMode.CASH)
        await uow.live.record(Live(LiveKind.CARD, last.id, (2,)), 2, 600, "h", T0)
        await uow.live.record(Live(LiveKind.PAYMENTS, last.id), LEADER, 601, "h", T0)
        await uow.live.record(Live(LiveKind.PAYMENTS, other.id), LEADER, 602, "h", T0)
        await uow.commit()
    async with uows() as uow:
        for message in await uow.live.stale(10):
            await uow.live.shown(message.rows, "h")
        await uow.commit()

    await _join(uows, last, 1, 2001)  # takes the only unit: the deal closes, sold out
    assert await _stale(uows) == {600, 601}  # every message of that deal, not the other's
    with pytest.raises(delivery.AlreadyHandled):
        await _join(uows, other, 1, 2001)
    assert await _sold(uows, other) == 0

    token = delivery.begin(delivery.Delivery(BOT, 2002))
    try:
        async with uows() as uow:  # the leader cancels the other deal: the deal alone
            assert await uow.deals.move(other.id, DealStatus.OPEN, DealStatus.CANCELLED, T0, None)
            await uow.commit()
    finally:
        delivery.end(token)
    assert await _stale(uows) == {600, 601, 602}
