"""Pickup slots on the fakes, SQLite and PostgreSQL: seats counted from the orders that hold
them, the last seat taken once when neighbours press at the same moment, reminders once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from groupbuy.deals import close_deal
from groupbuy.errors import DomainError
from groupbuy.model import CloseReason, Deal, Slot
from groupbuy.notices import NoticeKind
from groupbuy.orders import mark_picked_up
from groupbuy.ports import UnitOfWorkFactory
from groupbuy.slots import SlotPlan, book, remind_slots, set_slots
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import cancel_committed, closed_with_buyers, community

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
CHAT = community(-100601)
TZ = "Asia/Shanghai"
START = T0 + timedelta(days=1)
HALF = timedelta(minutes=30)


async def _closed(factory: UnitOfWorkFactory, seats: int = 1) -> tuple[Deal, list[Slot]]:
    """closed_with_buyers (1001, 1002 waiting; 1003 cancelled; 1004 handed out), with three
    half-hour slots of `seats` seats."""
    deal = await closed_with_buyers(factory, T0, CHAT)
    plan = SlotPlan(tuple((START + n * HALF, START + (n + 1) * HALF) for n in range(3)), seats)
    async with factory() as uow:
        slots = await set_slots(uow, deal, plan)
        await uow.commit()
    return deal, slots


async def _book(factory: UnitOfWorkFactory, deal: Deal, user: int, slot: Slot) -> Slot:
    async with factory() as uow:
        order = await uow.orders.of_user(deal.id, user)
        assert order is not None
        booked, _ = await book(uow, deal, order, slot.id, T0, TZ)
        await uow.commit()
    return booked


async def _load(factory: UnitOfWorkFactory, deal: Deal) -> list[int]:
    async with factory() as uow:
        return [s.booked for s in await uow.slots.of_deal(deal.id)]


async def test_a_full_slot_refuses_with_the_next_that_has_room(
    any_factory: UnitOfWorkFactory,
) -> None:
    deal, (first, second, third) = await _closed(any_factory)
    assert (await _book(any_factory, deal, 1001, first)).booked == 1
    with pytest.raises(DomainError) as full:
        await _book(any_factory, deal, 1002, first)
    assert full.value.key == "slot_full"
    assert full.value.params == {"at": first.starts_at, "next": second.starts_at, "tz": TZ}
    assert await _load(any_factory, deal) == [1, 0, 0]
    # Moving frees the seat left: 1001 to the third, then 1002 takes the first.
    await _book(any_factory, deal, 1001, third)
    await _book(any_factory, deal, 1002, first)
    assert await _load(any_factory, deal) == [1, 0, 1]
    # Booked again, the same slot: nothing changes.
    async with any_factory() as uow:
        order = await uow.orders.of_user(deal.id, 1002)
        assert order is not None and order.slot == first.id
        _, new = await book(uow, deal, order, first.id, T0, TZ)
    assert not new
    # Leaders cannot change slots people hold.
    async with any_factory() as uow:
        with pytest.raises(DomainError) as held:
            await set_slots(uow, deal, SlotPlan(((START, START + HALF),), 5))
    assert held.value.key == "slots_booked" and held.value.params == {"count": 2}


async def test_a_seat_is_freed_by_an_order_that_goes_and_kept_by_one_handed_out(
    any_factory: UnitOfWorkFactory,
) -> None:
    deal = await closed_with_buyers(any_factory, T0, CHAT, close=False)
    plan = SlotPlan(((START, START + HALF), (START + HALF, START + 2 * HALF)), 1)
    async with any_factory() as uow:
        first, second = await set_slots(uow, deal, plan)
        await uow.commit()
    await _book(any_factory, deal, 1001, first)
    await cancel_committed(any_factory, T0, deal.id, 1001)  # while the deal is open
    assert await _load(any_factory, deal) == [0, 0]
    await _book(any_factory, deal, 1002, first)
    await _book(any_factory, deal, 1004, second)
    async with any_factory() as uow:
        assert await close_deal(uow, deal.id, CloseReason.LEADER, T0) is not None
        order = await uow.orders.of_user(deal.id, 1004)
        assert order is not None
        await mark_picked_up(uow, CHAT.chat_id, order.code, T0, by=7)
        await uow.commit()
    assert await _load(any_factory, deal) == [1, 1]  # came: still counted
    closed = await _deal(any_factory, deal.id)
    with pytest.raises(DomainError) as handed:
        await _book(any_factory, closed, 1004, first)
    assert handed.value.key == "slot_after_pickup"


async def _deal(factory: UnitOfWorkFactory, deal_id: int) -> Deal:
    async with factory() as uow:
        found = await uow.deals.get(deal_id)
    assert found is not None
    return found


async def test_other_deals_slots_and_slots_over_are_refused(
    any_factory: UnitOfWorkFactory,
) -> None:
    deal, (first, _, _) = await _closed(any_factory)
    other, (theirs, _, _) = await _closed(any_factory)
    with pytest.raises(DomainError) as elsewhere:
        await _book(any_factory, deal, 1001, theirs)
    assert elsewhere.value.key == "slot_unknown"
    async with any_factory() as uow:
        order = await uow.orders.of_user(deal.id, 1001)
        assert order is not None
        with pytest.raises(DomainError) as over:
            await book(uow, deal, order, first.id, first.ends_at, TZ)
    assert over.value.key == "slot_over"
    assert other.id != deal.id


async def test_the_last_seat_is_taken_once_when_three_press_at_once(
    sql_factory: SqlUnitOfWorkFactory,
) -> None:
    deal = await closed_with_buyers(sql_factory, T0, CHAT, close=False)
    plan = SlotPlan(((START, START + HALF), (START + HALF, START + 2 * HALF)), 2)
    async with sql_factory() as uow:
        first, second = await set_slots(uow, deal, plan)
        await uow.commit()
    await _book(sql_factory, deal, 1004, first)  # one seat of two left
    results = await asyncio.gather(
        *(_book(sql_factory, deal, user, first) for user in (1001, 1002)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1, results
    assert refused[0].key == "slot_full" and refused[0].params["next"] == second.starts_at
    assert await _load(sql_factory, deal) == [2, 0]


async def test_buyers_in_a_slot_are_reminded_once_before_it(
    any_factory: UnitOfWorkFactory,
) -> None:
    deal, (first, second, _) = await _closed(any_factory)
    await _book(any_factory, deal, 1001, first)
    await _book(any_factory, deal, 1002, second)
    before = timedelta(minutes=30)
    for now in (START - timedelta(hours=1), START - before, START - before + timedelta(minutes=1)):
        async with any_factory() as uow:
            await remind_slots(uow, now, before, 10)
            await uow.commit()
    async with any_factory() as uow:
        claimed = await uow.outbox.claim(START, 100, 30)
    sent = [p.notice for p in claimed if p.notice.kind is NoticeKind.SLOT_REMINDER]
    assert [(n.user_id, n.ref) for n in sent] == [(1001, first.id)]
