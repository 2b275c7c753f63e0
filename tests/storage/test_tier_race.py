"""Tiered prices and whole cases under real concurrency (SQLite and PostgreSQL): 300 presses
race across two tiers to the last unit; the deal closes at the lowest tier, fixes it, and the
neighbours who had paid the leader at the first price are owed exactly the difference, the
ledger adding up. Then across a tier and the case boundaries, rounded down to whole cases."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from groupbuy.deals import close_deal
from groupbuy.model import (
    CloseReason,
    DealStatus,
    PaymentMode,
    PaymentStatus,
    RefundReason,
    Tier,
)
from groupbuy.orders import OrderChange
from groupbuy.payments import claim_paid, decide_claim
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import (
    change_committed,
    community,
    deal_spec,
    item_spec,
    open_deal_committed,
    read_deal,
)
from tests.storage.test_concurrency import _check_failures, _plan

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=30)
PAYERS = (1001, 1002, 1003)  # joined with one unit and paid 10.00 before the rush


async def test_a_rush_across_the_tiers_ends_at_the_right_price(
    sql_factory: SqlUnitOfWorkFactory,
) -> None:
    tiers = (Tier(40, 800), Tier(80, 600))
    spec = deal_spec(
        T0 + timedelta(days=1), item_spec("Eggs", price=1000, stock=100, limit=2, tiers=tiers)
    )
    deal = await open_deal_committed(
        sql_factory, T0, spec, community(payment_mode=PaymentMode.LEADER)
    )
    eggs = deal.items[0].id
    for user in PAYERS:
        await change_committed(sql_factory, T0, deal.id, eggs, user, 1)
        async with sql_factory() as uow:
            opened, _ = await read_deal(sql_factory, deal.id)
            claim = await claim_paid(uow, opened, user, T0)
            await uow.commit()
        assert claim.amount == 1000  # the first tier's price: nobody has reached another yet
        async with sql_factory() as uow:
            await decide_claim(uow, claim.id, True, T0, WINDOW)
            await uow.commit()

    async def one(user: int) -> OrderChange:
        return await change_committed(sql_factory, T0, deal.id, eggs, 1000 + user, 1)

    results = await asyncio.gather(*(one(u) for u in _plan()), return_exceptions=True)
    _check_failures(results, {"sold_out", "limit_reached", "deal_not_open"})

    closed, orders = await read_deal(sql_factory, deal.id)
    item = closed.items[0]
    assert closed.status is DealStatus.CLOSED  # sold out
    assert item.sold == 100 == sum(o.quantity(eggs) for o in orders)
    assert item.fixed_price == item.unit_price == 600
    async with sql_factory() as uow:
        payments = await uow.payments.for_deal(deal.id)
        refunds = await uow.payments.refunds_for_deal(deal.id)
        held = await uow.payments.held_by_order(deal.id)
    received = {p.order_id: p.amount for p in payments if p.status is PaymentStatus.RECEIVED}
    for order in orders:
        back = sum(r.amount for r in refunds if r.order_id == order.id)
        assert held.get(order.id, 0) == received.get(order.id, 0) - back
        assert 0 <= held.get(order.id, 0) <= order.amount(closed)
        if order.user_id in PAYERS:
            # One egg at 6.00 now: 4.00 back; two (they pressed again in the rush): 12.00 owed,
            # 10.00 held, nothing back.
            expected = 400 if order.quantity(eggs) == 1 else 0
            assert back == expected, (order, refunds)
    assert {r.reason for r in refunds} <= {RefundReason.TIER}
    assert sum(received.values()) - sum(r.amount for r in refunds) == sum(held.values())


async def test_a_rush_across_a_tier_and_a_case_boundary(
    sql_factory: SqlUnitOfWorkFactory,
) -> None:
    """300 presses (and a few neighbours changing their minds) race across the tier of 200
    and the case boundaries of an item sold by the case of 12; the close rounds down to whole
    cases, the latest orders first, fixes the tier the whole cases reach, and the ledger holds."""
    tiers = (Tier(100, 800), Tier(200, 600))
    spec = deal_spec(
        T0 + timedelta(days=1),
        item_spec("Milk", price=1000, stock=480, limit=4, tiers=tiers, case_size=12),
    )
    deal = await open_deal_committed(
        sql_factory, T0, spec, community(payment_mode=PaymentMode.LEADER)
    )
    milk = deal.items[0].id
    for user in PAYERS:  # each pays 10.00 for one bottle at the first tier
        await change_committed(sql_factory, T0, deal.id, milk, user, 1)
        async with sql_factory() as uow:
            opened, _ = await read_deal(sql_factory, deal.id)
            claim = await claim_paid(uow, opened, user, T0)
            await uow.commit()
        async with sql_factory() as uow:
            await decide_claim(uow, claim.id, True, T0, WINDOW)
            await uow.commit()

    async def one(user: int, delta: int) -> OrderChange:
        return await change_committed(sql_factory, T0, deal.id, milk, 1000 + user, delta)

    # Seven of those who press once also take it back, racing their own press.
    presses = [(u, 1) for u in _plan()] + [(u, -1) for u in range(51, 58)]
    random.Random(11).shuffle(presses)
    results = await asyncio.gather(*(one(u, d) for u, d in presses), return_exceptions=True)
    _check_failures(results, {"limit_reached", "nothing_to_remove"})

    if (await read_deal(sql_factory, deal.id))[0].items[0].sold % 12 == 0:
        await one(999, 1)  # a case exactly full: one more, so that the close has a unit to cut
    before, joined = await read_deal(sql_factory, deal.id)
    sold = before.items[0].sold
    assert sold % 12
    assert sold == sum(o.quantity(milk) for o in joined) and sold > 200
    async with sql_factory() as uow:
        await close_deal(uow, deal.id, CloseReason.LEADER, T0 + timedelta(hours=1))
        await uow.commit()

    closed, orders = await read_deal(sql_factory, deal.id)
    item = closed.items[0]
    assert closed.status is DealStatus.CLOSED
    assert item.sold == sold - sold % 12 == sum(o.quantity(milk) for o in orders)
    assert item.fixed_price == item.unit_price == item.price_for(item.sold)
    # Latest first: the orders that lost units are the last ones to have joined.
    kept = {o.id: o.quantity(milk) for o in orders}
    lost = [o.id for o in joined if kept.get(o.id, 0) < o.quantity(milk)]
    assert sum(o.quantity(milk) - kept.get(o.id, 0) for o in joined) == sold % 12
    assert lost and all(o.id < min(lost) for o in joined if o.id not in lost)
    async with sql_factory() as uow:
        payments = await uow.payments.for_deal(deal.id)
        refunds = await uow.payments.refunds_for_deal(deal.id)
        held = await uow.payments.held_by_order(deal.id)
    received = {p.order_id: p.amount for p in payments if p.status is PaymentStatus.RECEIVED}
    for order in joined:
        back = sum(r.amount for r in refunds if r.order_id == order.id)
        assert held.get(order.id, 0) == received.get(order.id, 0) - back
        now = next((o for o in orders if o.id == order.id), None)
        assert 0 <= held.get(order.id, 0) <= (now.amount(closed) if now else 0)
    assert {r.reason for r in refunds} <= {RefundReason.TIER, RefundReason.CASE}
    assert sum(received.values()) - sum(r.amount for r in refunds) == sum(held.values())
