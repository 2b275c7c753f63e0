"""Residents' orders through the use cases, on the in-memory storage."""

from __future__ import annotations

from datetime import timedelta

import pytest

from groupbuy.errors import DomainError, NotAllowed
from groupbuy.model import CloseReason, DealStatus, Resident
from groupbuy.notices import Notice, NoticeKind
from groupbuy.orders import mark_picked_up
from tests.fakes import (
    FakeClock,
    FakeStore,
    FakeUnitOfWorkFactory,
    cancel_committed,
    change_committed,
    community,
    deal_spec,
    item_spec,
    open_deal_committed,
    read_deal,
)

CHAT = community()
ALICE, BOB, CAROL = 101, 102, 103


async def two_item_deal(uow_factory: FakeUnitOfWorkFactory, clock: FakeClock) -> int:
    spec = deal_spec(
        clock.now() + timedelta(days=1),
        item_spec("Apples", stock=3, limit=2),
        item_spec("Pears", stock=100, limit=None),
    )
    deal = await open_deal_committed(uow_factory, clock.now(), spec, CHAT)
    return deal.id


async def test_join_creates_an_order_and_reserves(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock
) -> None:
    deal_id = await two_item_deal(uow_factory, clock)
    deal, _ = await read_deal(uow_factory, deal_id)
    apples = deal.items[0]
    change = await change_committed(uow_factory, clock.now(), deal_id, apples.id, ALICE, 1)
    assert not change.closed
    assert change.order.user_id == ALICE
    assert change.order.quantity(apples.id) == 1
    assert len(change.order.code) == 5
    assert change.deal.items[0].sold == 1
    deal, orders = await read_deal(uow_factory, deal_id)
    assert deal.items[0].sold == 1
    assert [o.user_id for o in orders] == [ALICE]
    # the same order is reused: same code
    again = await change_committed(uow_factory, clock.now(), deal_id, apples.id, ALICE, 1)
    assert again.order.id == change.order.id
    assert again.order.code == change.order.code
    assert again.order.quantity(apples.id) == 2


async def test_plus_one_beyond_the_limit_is_refused(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock
) -> None:
    deal_id = await two_item_deal(uow_factory, clock)
    deal, _ = await read_deal(uow_factory, deal_id)
    apples = deal.items[0]
    await change_committed(uow_factory, clock.now(), deal_id, apples.id, ALICE, 2)
    with pytest.raises(DomainError) as err:
        await change_committed(uow_factory, clock.now(), deal_id, apples.id, ALICE, 1)
    assert err.value.key == "limit_reached"
    assert err.value.params == {"limit": 2, "item": "Apples"}
    with pytest.raises(DomainError, match="limit_reached"):
        await change_committed(uow_factory, clock.now(), deal_id, apples.id, BOB, 3)
    deal, orders = await read_deal(uow_factory, deal_id)
    assert deal.items[0].sold == 2
    assert [(o.user_id, o.quantity(apples.id)) for o in orders] == [(ALICE, 2)]


async def test_sold_out_is_refused_and_rolled_back(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock, store: FakeStore
) -> None:
    deal_id = await two_item_deal(uow_factory, clock)
    deal, _ = await read_deal(uow_factory, deal_id)
    apples = deal.items[0]
    await change_committed(uow_factory, clock.now(), deal_id, apples.id, ALICE, 2)
    await change_committed(uow_factory, clock.now(), deal_id, apples.id, BOB, 1)
    with pytest.raises(DomainError) as err:
        await change_committed(uow_factory, clock.now(), deal_id, apples.id, CAROL, 1)
    assert err.value.key == "sold_out"
    deal, orders = await read_deal(uow_factory, deal_id)
    assert deal.status is DealStatus.OPEN  # pears remain
    assert deal.items[0].sold == 3
    assert {o.user_id for o in orders} == {ALICE, BOB}
    # Carol's order was created inside the failed unit of work and rolled back with it
    async with uow_factory() as uow:
        assert await uow.orders.of_user(deal_id, CAROL) is None
    assert store.notices() == []


async def test_minus_one_below_zero_is_refused(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock
) -> None:
    deal_id = await two_item_deal(uow_factory, clock)
    deal, _ = await read_deal(uow_factory, deal_id)
    apples, pears = deal.items
    with pytest.raises(DomainError, match="nothing_to_remove"):
        await change_committed(uow_factory, clock.now(), deal_id, apples.id, ALICE, -1)
    await change_committed(uow_factory, clock.now(), deal_id, apples.id, ALICE, 1)
    with pytest.raises(DomainError, match="nothing_to_remove"):
        await change_committed(uow_factory, clock.now(), deal_id, pears.id, ALICE, -1)
    with pytest.raises(DomainError, match="nothing_to_remove"):
        await change_committed(uow_factory, clock.now(), deal_id, apples.id, ALICE, -2)
    change = await change_committed(uow_factory, clock.now(), deal_id, apples.id, ALICE, -1)
    assert change.order.quantity(apples.id) == 0
    assert not change.order.active
    deal, orders = await read_deal(uow_factory, deal_id)
    assert deal.items[0].sold == 0
    assert orders == []  # an emptied order is not listed


async def test_invalid_changes(uow_factory: FakeUnitOfWorkFactory, clock: FakeClock) -> None:
    deal_id = await two_item_deal(uow_factory, clock)
    deal, _ = await read_deal(uow_factory, deal_id)
    apples = deal.items[0]
    with pytest.raises(DomainError, match="nothing_changed"):
        await change_committed(uow_factory, clock.now(), deal_id, apples.id, ALICE, 0)
    with pytest.raises(DomainError, match="item_not_found"):
        await change_committed(uow_factory, clock.now(), deal_id, 9999, ALICE, 1)
    with pytest.raises(DomainError, match="deal_not_found"):
        await change_committed(uow_factory, clock.now(), 9999, apples.id, ALICE, 1)
    # after the deadline but before close_due ran: already refused
    late = deal.deadline
    with pytest.raises(DomainError, match="deal_not_open"):
        await change_committed(uow_factory, late, deal_id, apples.id, ALICE, 1)


async def test_an_item_of_another_deal_is_not_found(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock
) -> None:
    first = await two_item_deal(uow_factory, clock)
    second = await two_item_deal(uow_factory, clock)
    other, _ = await read_deal(uow_factory, second)
    with pytest.raises(DomainError, match="item_not_found"):
        await change_committed(uow_factory, clock.now(), first, other.items[0].id, ALICE, 1)


async def test_cancel_returns_stock(uow_factory: FakeUnitOfWorkFactory, clock: FakeClock) -> None:
    deal_id = await two_item_deal(uow_factory, clock)
    deal, _ = await read_deal(uow_factory, deal_id)
    apples, pears = deal.items
    await change_committed(uow_factory, clock.now(), deal_id, apples.id, ALICE, 2)
    await change_committed(uow_factory, clock.now(), deal_id, pears.id, ALICE, 5)
    await change_committed(uow_factory, clock.now(), deal_id, apples.id, BOB, 1)
    after = await cancel_committed(uow_factory, clock.now(), deal_id, ALICE)
    assert [i.sold for i in after.items] == [1, 0]
    deal, orders = await read_deal(uow_factory, deal_id)
    assert [i.sold for i in deal.items] == [1, 0]
    assert [o.user_id for o in orders] == [BOB]
    with pytest.raises(DomainError, match="no_order"):
        await cancel_committed(uow_factory, clock.now(), deal_id, ALICE)
    with pytest.raises(DomainError, match="no_order"):
        await cancel_committed(uow_factory, clock.now(), deal_id, CAROL)
    # Alice can join again, with the same pickup code
    async with uow_factory() as uow:
        old = await uow.orders.of_user(deal_id, ALICE)
    again = await change_committed(uow_factory, clock.now(), deal_id, apples.id, ALICE, 2)
    assert old is not None and again.order.code == old.code


async def test_selling_out_closes_the_deal_with_notices(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock, store: FakeStore
) -> None:
    spec = deal_spec(clock.now() + timedelta(days=1), item_spec(stock=2, limit=1))
    deal = await open_deal_committed(uow_factory, clock.now(), spec, CHAT)
    item_id = deal.items[0].id
    first = await change_committed(uow_factory, clock.now(), deal.id, item_id, ALICE, 1)
    assert not first.closed
    assert store.notices() == []
    last = await change_committed(uow_factory, clock.now(), deal.id, item_id, BOB, 1)
    assert last.closed
    assert last.deal.status is DealStatus.CLOSED
    assert last.deal.close_reason is CloseReason.SOLD_OUT
    assert last.deal.closed_at == clock.now()
    assert store.notices(deal.id) == [
        Notice(NoticeKind.DEAL_CLOSED, CHAT.chat_id, deal.id),
        Notice(NoticeKind.PICKUP, ALICE, deal.id, ALICE),
        Notice(NoticeKind.PICKUP, BOB, deal.id, BOB),
    ]
    # a closed deal changes no more
    for user, delta in ((CAROL, 1), (ALICE, -1)):
        with pytest.raises(DomainError, match="deal_not_open"):
            await change_committed(uow_factory, clock.now(), deal.id, item_id, user, delta)
    with pytest.raises(DomainError, match="deal_not_open"):
        await cancel_committed(uow_factory, clock.now(), deal.id, ALICE)
    after, orders = await read_deal(uow_factory, deal.id)
    assert after.items[0].sold == 2
    assert len(orders) == 2
    assert len(store.notices()) == 3


async def test_building_restriction(uow_factory: FakeUnitOfWorkFactory, clock: FakeClock) -> None:
    spec = deal_spec(clock.now() + timedelta(days=1), buildings=("1", "2"))
    deal = await open_deal_committed(uow_factory, clock.now(), spec, CHAT)
    item_id = deal.items[0].id
    outsider = Resident(CHAT.chat_id, ALICE, "3", "1", "101")
    with pytest.raises(NotAllowed) as err:
        await change_committed(uow_factory, clock.now(), deal.id, item_id, ALICE, 1, outsider)
    assert err.value.key == "deal_not_for_building"
    assert err.value.params == {"buildings": "1, 2"}
    insider = Resident(CHAT.chat_id, BOB, "2", "1", "101")
    change = await change_committed(uow_factory, clock.now(), deal.id, item_id, BOB, 1, insider)
    assert change.order.total_quantity == 1
    after, _ = await read_deal(uow_factory, deal.id)
    assert after.items[0].sold == 1


async def test_mark_picked_up(uow_factory: FakeUnitOfWorkFactory, clock: FakeClock) -> None:
    spec = deal_spec(clock.now() + timedelta(days=1), item_spec(stock=2, limit=None))
    deal = await open_deal_committed(uow_factory, clock.now(), spec, CHAT)
    item_id = deal.items[0].id
    change = await change_committed(uow_factory, clock.now(), deal.id, item_id, ALICE, 1)
    code = change.order.code

    async with uow_factory() as uow:
        with pytest.raises(DomainError, match="deal_not_closed"):
            await mark_picked_up(uow, CHAT.chat_id, code, clock.now(), by=1)

    await change_committed(uow_factory, clock.now(), deal.id, item_id, BOB, 1)  # sells out
    clock.advance(timedelta(days=2))
    async with uow_factory() as uow:
        with pytest.raises(DomainError, match="code_unknown"):
            await mark_picked_up(uow, CHAT.chat_id, "ZZZZZ", clock.now(), by=1)
        with pytest.raises(DomainError, match="code_unknown"):
            await mark_picked_up(uow, -999, code, clock.now(), by=1)  # another community
        pickup = await mark_picked_up(uow, CHAT.chat_id, code, clock.now(), by=1)
        assert pickup.order.picked_up_by == 1  # the leader who handed it out
        await uow.commit()
    assert pickup.order.picked_up_at == clock.now()
    assert pickup.deal.id == deal.id

    async with uow_factory() as uow:
        with pytest.raises(DomainError, match="already_picked_up"):
            await mark_picked_up(uow, CHAT.chat_id, code, clock.now(), by=1)
        assert await uow.orders.mark_picked_up(pickup.order.id, clock.now(), by=1) is False


async def test_mark_picked_up_refuses_failed_deals(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock
) -> None:
    from groupbuy.deals import close_due
    from groupbuy.model import MinimumKind

    spec = deal_spec(
        clock.now() + timedelta(hours=5), minimum_kind=MinimumKind.PARTICIPANTS, minimum=2
    )
    deal = await open_deal_committed(uow_factory, clock.now(), spec, CHAT)
    change = await change_committed(uow_factory, clock.now(), deal.id, deal.items[0].id, ALICE, 1)
    clock.advance(timedelta(hours=6))
    assert await close_due(uow_factory, clock) == [deal.id]
    async with uow_factory() as uow:
        with pytest.raises(DomainError, match="deal_not_closed"):
            await mark_picked_up(uow, CHAT.chat_id, change.order.code, clock.now(), by=1)


async def test_active_for_user(uow_factory: FakeUnitOfWorkFactory, clock: FakeClock) -> None:
    first = await two_item_deal(uow_factory, clock)
    second = await two_item_deal(uow_factory, clock)
    d1, _ = await read_deal(uow_factory, first)
    d2, _ = await read_deal(uow_factory, second)
    await change_committed(uow_factory, clock.now(), first, d1.items[0].id, ALICE, 1)
    await change_committed(uow_factory, clock.now(), second, d2.items[1].id, ALICE, 1)
    await change_committed(uow_factory, clock.now(), second, d2.items[1].id, ALICE, -1)
    async with uow_factory() as uow:
        active = await uow.orders.active_for_user(ALICE, 10)
        assert [(d.id, o.total_quantity) for d, o in active] == [(first, 1)]
        assert await uow.orders.active_for_user(BOB, 10) == []
