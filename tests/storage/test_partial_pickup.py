"""Partial pickup: a line of a handed-out order held back and handed out later, once; on the
fakes, SQLite and PostgreSQL. The money is taken once, at the first pickup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from groupbuy.deals import close_deal
from groupbuy.errors import DomainError
from groupbuy.model import CloseReason, Deal, Order
from groupbuy.orders import hold_back, mark_picked_up
from groupbuy.ports import UnitOfWorkFactory
from handlers.pickup_list import rows
from messages.render import Renderer
from tests.fakes import change_committed, community, deal_spec, item_spec, open_deal_committed

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
CHAT = community(-100666)
ANN = 1001


async def _closed(factory: UnitOfWorkFactory) -> tuple[Deal, Order]:
    """Ann ordered 2 lychees and a mango, cash at pickup."""
    spec = deal_spec(
        T0 + timedelta(days=1),
        item_spec("Lychee", stock=50, limit=None),
        item_spec("Mango", stock=50, limit=None),
    )
    deal = await open_deal_committed(factory, T0, spec, CHAT)
    lychee, mango = deal.items
    await change_committed(factory, T0, deal.id, lychee.id, ANN, 2)
    await change_committed(factory, T0, deal.id, mango.id, ANN, 1)
    async with factory() as uow:
        closed = await close_deal(uow, deal.id, CloseReason.LEADER, T0)
        order = await uow.orders.of_user(deal.id, ANN)
        await uow.commit()
    assert closed is not None and order is not None
    return closed, order


async def _order(factory: UnitOfWorkFactory, order_id: int) -> Order:
    async with factory() as uow:
        order = await uow.orders.get(order_id)
    assert order is not None
    return order


async def test_a_line_held_back_is_handed_out_later_once(any_factory: UnitOfWorkFactory) -> None:
    deal, order = await _closed(any_factory)
    lychee, mango = deal.items
    # Not handed out yet: nothing can be held back.
    async with any_factory() as uow:
        with pytest.raises(DomainError) as early:
            await hold_back(uow, deal, order, mango.id, T0)
    assert early.value.key == "not_picked_up"

    async with any_factory() as uow:
        first = await mark_picked_up(uow, CHAT.chat_id, order.code, T0, by=7)
        await uow.commit()
    assert first.collected > 0 and first.rest == {}
    handed = await _order(any_factory, order.id)
    async with any_factory() as uow:
        partly = await hold_back(uow, deal, handed, mango.id, T0)
        await uow.commit()
    assert partly.held_back == {mango.id: 1}
    assert partly.collected == first.collected  # the cash taken at the table, said again
    async with any_factory() as uow:
        again = await hold_back(uow, deal, handed, mango.id, T0)  # pressed twice: no change
        with pytest.raises(DomainError) as everything:
            await hold_back(uow, deal, handed, lychee.id, T0)
        sheet = await uow.orders.pickup_sheet(deal.id)
    assert again.held_back == {mango.id: 1}
    assert everything.value.key == "hold_back_all"
    async with any_factory() as uow:  # an hour and more after the handout: too late
        with pytest.raises(DomainError) as late:
            await hold_back(uow, deal, handed, lychee.id, T0 + timedelta(hours=1, seconds=1))
    assert late.value.key == "hold_back_late"
    [entry] = list(sheet.entries())
    assert entry.held_back == ((mango.id, 1),)
    [row] = rows(Renderer(), "en", deal, [entry], CHAT.timezone)
    assert not row.picked_up and [(ln.item, ln.quantity) for ln in row.held_back] == [("Mango", 1)]

    async with any_factory() as uow:
        rest = await mark_picked_up(uow, CHAT.chat_id, order.code, T0 + timedelta(hours=1), 8)
        await uow.commit()
    assert rest.rest == {mango.id: 1} and rest.collected == 0
    async with any_factory() as uow:
        with pytest.raises(DomainError) as done:
            await mark_picked_up(uow, CHAT.chat_id, order.code, T0 + timedelta(hours=2), 8)
        sheet = await uow.orders.pickup_sheet(deal.id)
        received = [p.amount for p in await uow.payments.for_order(order.id)]
    assert done.value.key == "already_picked_up"
    assert done.value.params["by"] == ""  # leader 7 was never seen: no name to give
    [entry] = list(sheet.entries())
    assert entry.held_back == ()
    [row] = rows(Renderer(), "en", deal, [entry], CHAT.timezone)
    assert row.picked_up
    assert received == [first.collected]  # taken once
    final = await _order(any_factory, order.id)
    assert final.picked_up_at == T0 and final.picked_up_by == 7  # the first handout stays
