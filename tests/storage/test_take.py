"""Orders.take, a join's writes (issue 13: one statement for a new order on PostgreSQL), on the
fakes, SQLite and PostgreSQL alike: each refusal stops it where take_in_steps would, and what
a refused take wrote is gone once its unit of work rolls back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from groupbuy.model import CloseReason, Deal, DealStatus
from groupbuy.ports import UnitOfWorkFactory
from tests.fakes import community, deal_spec, item_spec, open_deal_committed

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
CHAT = community(-100555)


async def _deal(factory: UnitOfWorkFactory, stock: int = 5, limit: int | None = 3) -> Deal:
    spec = deal_spec(T0 + timedelta(days=1), item_spec("Lychee", stock=stock, limit=limit))
    return await open_deal_committed(factory, T0, spec, CHAT)


async def _state(factory: UnitOfWorkFactory, deal: Deal, user: int) -> tuple[int, int | None]:
    """Units sold of the deal's item, and the user's units of it (None: no order)."""
    async with factory() as uow:
        fresh = await uow.deals.get(deal.id)
        order = await uow.orders.of_user(deal.id, user)
    assert fresh is not None
    return fresh.items[0].sold, None if order is None else order.quantity(deal.items[0].id)


async def test_a_first_take_makes_the_order_and_a_second_raises_it(
    any_factory: UnitOfWorkFactory,
) -> None:
    deal = await _deal(any_factory)
    item = deal.items[0].id
    async with any_factory() as uow:
        taken = await uow.orders.take(deal.id, CHAT.chat_id, 1, item, 2, 3, T0)
        await uow.commit()
    assert taken.order is not None and taken.order.lines == ()
    assert (taken.quantity, taken.left) == (2, 3)
    assert await _state(any_factory, deal, 1) == (2, 2)
    async with any_factory() as uow:
        again = await uow.orders.take(deal.id, CHAT.chat_id, 1, item, 1, 3, T0)
        await uow.commit()
    assert again.order is not None and again.order.id == taken.order.id
    assert again.order.code == taken.order.code and again.order.quantity(item) == 2
    assert (again.quantity, again.left) == (3, 2)
    assert await _state(any_factory, deal, 1) == (3, 3)


@pytest.mark.parametrize("first", [0, 1], ids=["new order", "existing order"])
async def test_refusals_stop_where_they_should_and_leave_nothing(
    any_factory: UnitOfWorkFactory, first: int
) -> None:
    deal = await _deal(any_factory, stock=4, limit=3)
    item = deal.items[0].id
    if first:
        async with any_factory() as uow:
            await uow.orders.take(deal.id, CHAT.chat_id, 1, item, first, 3, T0)
            await uow.commit()
    async with any_factory() as uow:  # someone else takes 2 of the 4
        await uow.orders.take(deal.id, CHAT.chat_id, 2, item, 2, 3, T0)
        await uow.commit()
    before = await _state(any_factory, deal, 1)
    async with any_factory() as uow:  # beyond the per-person limit
        over = await uow.orders.take(deal.id, CHAT.chat_id, 1, item, 4 - first, 3, T0)
    assert over.order is not None and (over.quantity, over.left) == (None, None)
    async with any_factory() as uow:  # within it, beyond the stock: the line was raised
        short = await uow.orders.take(deal.id, CHAT.chat_id, 1, item, 3 - first, 3, T0)
    assert short.order is not None and (short.quantity, short.left) == (3, None)
    assert await _state(any_factory, deal, 1) == before  # rolled back: nothing kept


async def test_a_deal_no_longer_open_takes_nothing(any_factory: UnitOfWorkFactory) -> None:
    deal = await _deal(any_factory)
    async with any_factory() as uow:
        assert await uow.deals.move(
            deal.id, DealStatus.OPEN, DealStatus.CLOSED, T0, CloseReason.DEADLINE
        )
        await uow.commit()
    async with any_factory() as uow:
        taken = await uow.orders.take(deal.id, CHAT.chat_id, 1, deal.items[0].id, 1, 3, T0)
        await uow.commit()
    assert taken.order is None
    assert await _state(any_factory, deal, 1) == (0, None)


async def test_a_pickup_code_that_clashes_is_drawn_again(
    any_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    deal = await _deal(any_factory)
    item = deal.items[0].id
    async with any_factory() as uow:
        first = await uow.orders.take(deal.id, CHAT.chat_id, 1, item, 1, 3, T0)
        await uow.commit()
    assert first.order is not None
    codes: Iterator[str] = iter([first.order.code, "ZZ99"])
    import storage.orders
    import tests.fakes

    for module in (storage.orders, tests.fakes):
        monkeypatch.setattr(module, "new_code", lambda: next(codes))
    async with any_factory() as uow:
        second = await uow.orders.take(deal.id, CHAT.chat_id, 2, item, 1, 3, T0)
        await uow.commit()
    assert second.order is not None and second.order.code == "ZZ99"
    assert (second.quantity, second.left) == (1, 3)
    assert await _state(any_factory, deal, 2) == (2, 1)
