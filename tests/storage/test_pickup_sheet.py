"""Orders.pickup_sheet: a deal's pickup list in one statement, the same on the fakes, SQLite and
PostgreSQL, and equal to what the separate reads it replaced would have said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from groupbuy.model import (
    PaymentMethod,
    PaymentMode,
    PaymentStatus,
    RefundReason,
    Resident,
    User,
)
from groupbuy.ports import SheetEntry, UnitOfWork, UnitOfWorkFactory
from tests.fakes import community, deal_spec, item_spec

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
CHAT = community(-100888)
OTHER = community(-100999)
LEADER = 7


async def _order(
    uow: UnitOfWork, deal_id: int, chat: int, user: int, *lines: tuple[int, int]
) -> int:
    order = await uow.orders.open_order(deal_id, chat, user, T0)
    for item_id, quantity in lines:
        assert await uow.orders.change_line(order.id, item_id, quantity, None) is not None
    return order.id


async def _pay(
    uow: UnitOfWork, order_id: int, deal_id: int, amount: int, status: PaymentStatus
) -> None:
    paid = await uow.payments.add(
        order_id=order_id,
        deal_id=deal_id,
        user_id=1,
        method=PaymentMethod.TRANSFER,
        status=status,
        amount=amount,
        currency="CNY",
        now=T0,
    )
    assert paid is not None


def _expected(entries: list[SheetEntry]) -> list[tuple[object, ...]]:
    return sorted(
        (
            e.order.id,
            e.order.code,
            e.order.lines,
            e.order.picked_up_at,
            e.order.picked_up_by,
            e.resident,
            e.buyer.display_name if e.buyer else None,
            e.handed_out_by.display_name if e.handed_out_by else None,
            e.held,
            e.claimed,
        )
        for e in entries
    )


async def test_one_read_brings_addresses_names_money_and_pickups(
    any_factory: UnitOfWorkFactory,
) -> None:
    async with any_factory() as uow:
        for chat in (CHAT, OTHER):
            await uow.communities.save(chat)
        await uow.users.seen(User(LEADER, "Lin", "Wei"))
        for uid, name in ((1, "Ann"), (2, "Bo"), (3, "Cy"), (4, "Di")):
            await uow.users.seen(User(uid, name))
        await uow.users.save_resident(Resident(CHAT.chat_id, 1, "3A", "2", "301", "138"))
        await uow.users.save_resident(Resident(CHAT.chat_id, 2, "10", "", "12"))
        # user 3 lives in the other compound only: no address in this one
        await uow.users.save_resident(Resident(OTHER.chat_id, 3, "9", "9", "999"))
        spec = deal_spec(
            T0 + timedelta(days=1),
            item_spec("Apples", price=1250, stock=50, limit=None),
            item_spec("Pears", price=800, stock=50, limit=None),
        )
        deal = await uow.deals.add(CHAT.chat_id, LEADER, "CNY", spec, T0, None, PaymentMode.LEADER)
        other = await uow.deals.add(CHAT.chat_id, LEADER, "CNY", spec, T0, None, PaymentMode.LEADER)
        apples, pears = deal.items[0].id, deal.items[1].id
        a = await _order(uow, deal.id, CHAT.chat_id, 1, (apples, 2), (pears, 1))
        b = await _order(uow, deal.id, CHAT.chat_id, 2, (pears, 3))
        c = await _order(uow, deal.id, CHAT.chat_id, 3, (apples, 1))
        emptied = await _order(uow, deal.id, CHAT.chat_id, 4, (apples, 1))
        assert await uow.orders.change_line(emptied, apples, -1, None) == 0
        elsewhere = await _order(uow, other.id, CHAT.chat_id, 1, (other.items[0].id, 5))
        await _pay(uow, a, deal.id, 3300, PaymentStatus.RECEIVED)
        await _pay(uow, a, deal.id, 500, PaymentStatus.CLAIMED)
        await _pay(uow, b, deal.id, 2400, PaymentStatus.CLAIMED)
        await _pay(uow, b, deal.id, 100, PaymentStatus.REJECTED)
        await _pay(uow, elsewhere, other.id, 6250, PaymentStatus.RECEIVED)
        await uow.payments.add_refund(
            order_id=a,
            deal_id=deal.id,
            user_id=1,
            payment_id=None,
            amount=800,
            currency="CNY",
            method=PaymentMethod.TRANSFER,
            reason=RefundReason.REDUCED,
            now=T0,
        )
        assert await uow.orders.mark_picked_up(c, T0 + timedelta(hours=1), LEADER)
        await uow.commit()

    async with any_factory() as uow:
        whole = list((await uow.orders.pickup_sheet(deal.id)).entries())
        some = list((await uow.orders.pickup_sheet(deal.id, {a, c, elsewhere})).entries())
        none = list((await uow.orders.pickup_sheet(deal.id, set())).entries())
        # What the reads it replaced say
        orders = await uow.orders.for_deal(deal.id)
        held = await uow.payments.held_by_order(deal.id)
        residents = await uow.users.residents(CHAT.chat_id, [o.user_id for o in orders])

    by_order = {e.order.id: e for e in whole}
    assert set(by_order) == {a, b, c}  # the emptied order and the other deal's are not there
    assert {o.id: o for o in orders} == {e.order.id: e.order for e in whole}
    for e in whole:
        assert e.resident == residents.get(e.order.user_id)
        assert e.held == held.get(e.order.id, 0)
    assert by_order[a].held == 3300 - 800 and by_order[a].claimed == 500
    assert by_order[b].held == 0 and by_order[b].claimed == 2400  # a rejected claim is nothing
    assert by_order[c].resident is None  # lives in the other compound
    handed_out_by = by_order[c].handed_out_by
    assert handed_out_by is not None and handed_out_by.display_name == "Lin Wei"
    assert by_order[c].order.picked_up_at == T0 + timedelta(hours=1)
    assert by_order[a].handed_out_by is None
    assert [e.buyer.display_name if e.buyer else None for e in whole] == [
        {a: "Ann", b: "Bo", c: "Cy"}[e.order.id] for e in whole
    ]
    assert _expected(some) == _expected([by_order[a], by_order[c]])
    assert none == []


async def test_the_fingerprint_moves_with_what_the_list_shows(
    any_factory: UnitOfWorkFactory,
) -> None:
    async with any_factory() as uow:
        await uow.communities.save(CHAT)
        await uow.users.seen(User(1, "Ann"))
        await uow.users.save_resident(Resident(CHAT.chat_id, 1, "1", "1", "101"))
        spec = deal_spec(T0 + timedelta(days=1), item_spec("Apples", price=100, stock=9))
        deal = await uow.deals.add(CHAT.chat_id, LEADER, "CNY", spec, T0, None, PaymentMode.LEADER)
        order = await _order(uow, deal.id, CHAT.chat_id, 1, (deal.items[0].id, 1))
        await uow.commit()

    async def fingerprint() -> object:
        async with any_factory() as uow:
            return (await uow.orders.pickup_sheet(deal.id)).fingerprint()

    first = await fingerprint()
    assert await fingerprint() == first  # nothing changed: the drawn list may be sent again
    seen = [first]
    async with any_factory() as uow:  # a line
        await uow.orders.change_line(order, deal.items[0].id, 1, None)
        await uow.commit()
    seen.append(await fingerprint())
    async with any_factory() as uow:  # money
        await _pay(uow, order, deal.id, 100, PaymentStatus.CLAIMED)
        await uow.commit()
    seen.append(await fingerprint())
    async with any_factory() as uow:  # the address
        await uow.users.save_resident(Resident(CHAT.chat_id, 1, "1", "1", "102"))
        await uow.commit()
    seen.append(await fingerprint())
    async with any_factory() as uow:  # the name
        await uow.users.seen(User(1, "Anne"))
        await uow.commit()
    seen.append(await fingerprint())
    async with any_factory() as uow:  # handed out
        await uow.orders.mark_picked_up(order, T0, LEADER)
        await uow.commit()
    seen.append(await fingerprint())
    assert len(set(map(repr, seen))) == len(seen), seen
