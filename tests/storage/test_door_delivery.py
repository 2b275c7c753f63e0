"""Delivery by the leader on the fakes, SQLite and PostgreSQL: the fee is part of what an order
costs, so it is due, invoiced and refunded like the items; free from the deal's total."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from groupbuy.door_delivery import choose_delivery
from groupbuy.errors import DomainError
from groupbuy.model import Deal, Order, PaymentMode, RefundReason
from groupbuy.orders import DEFAULT_WINDOW
from groupbuy.payments import standing
from groupbuy.ports import UnitOfWorkFactory
from tests.fakes import (
    cancel_committed,
    change_committed,
    community,
    deal_spec,
    invoice_committed,
    item_spec,
    ledger,
    open_deal_committed,
    pay_committed,
)

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
ANN = 3001


async def _deal(factory: UnitOfWorkFactory, mode: PaymentMode = PaymentMode.CASH) -> Deal:
    """Apples at 12.50; delivery 5.00, free from 50.00 of items."""
    spec = replace(
        deal_spec(T0 + timedelta(days=1), item_spec(price=1250, limit=None, stock=50)),
        delivery_fee=500,
        delivery_free_from=5000,
    )
    chat = community(-100701 if mode is PaymentMode.CASH else -100702, payment_mode=mode)
    return await open_deal_committed(factory, T0, spec, chat)


async def _deliver(factory: UnitOfWorkFactory, deal: Deal, on: bool = True) -> Order:
    async with factory() as uow:
        order = await uow.orders.of_user(deal.id, ANN)
        assert order is not None
        changed = await choose_delivery(uow, deal, order, on, T0, DEFAULT_WINDOW)
        await uow.commit()
    return changed


async def _due(factory: UnitOfWorkFactory, deal: Deal) -> int:
    async with factory() as uow:
        order = await uow.orders.of_user(deal.id, ANN)
        assert order is not None
        return (await standing(uow, deal, order)).due


async def test_the_fee_is_due_until_the_free_delivery_total(any_factory: UnitOfWorkFactory) -> None:
    deal = await _deal(any_factory)
    item = deal.items[0].id
    await change_committed(any_factory, T0, deal.id, item, ANN, 1)
    assert await _due(any_factory, deal) == 1250
    order = await _deliver(any_factory, deal)
    assert order.delivery and order.fee(deal) == 500 and order.amount(deal) == 1750
    assert await _due(any_factory, deal) == 1750
    for _ in range(3):  # four apples: 50.00 of items, delivered free
        await change_committed(any_factory, T0, deal.id, item, ANN, 1)
    assert await _due(any_factory, deal) == 5000
    await change_committed(any_factory, T0, deal.id, item, ANN, -1)
    assert await _due(any_factory, deal) == 3750 + 500
    await _deliver(any_factory, deal, on=False)
    assert await _due(any_factory, deal) == 3750


async def test_an_online_order_is_invoiced_the_fee_and_refunded_it(
    any_factory: UnitOfWorkFactory,
) -> None:
    deal = await _deal(any_factory, PaymentMode.ONLINE)
    await change_committed(any_factory, T0, deal.id, deal.items[0].id, ANN, 1)
    order = await _deliver(any_factory, deal)
    issued = await invoice_committed(any_factory, T0, order.id)
    assert issued is not None
    token, amount = issued
    assert amount == 1750
    paid = await pay_committed(any_factory, T0, token, ANN, 1750, "CNY", "charge-1")
    assert paid.applied
    assert await _due(any_factory, deal) == 0
    # Paid: the choice stays (an invoice paid for pickup is not made to owe more, silently).
    with pytest.raises(DomainError) as refused:
        await _deliver(any_factory, deal, on=False)
    assert refused.value.key == "delivery_after_paying"
    await cancel_committed(any_factory, T0, deal.id, ANN)
    _, refunds = await ledger(any_factory, deal.id)
    assert [(r.amount, r.reason) for r in refunds] == [(1750, RefundReason.REDUCED)]


async def test_a_deal_without_delivery_refuses_it(any_factory: UnitOfWorkFactory) -> None:
    spec = deal_spec(T0 + timedelta(days=1), item_spec(limit=None))
    deal = await open_deal_committed(any_factory, T0, spec, community(-100703))
    await change_committed(any_factory, T0, deal.id, deal.items[0].id, ANN, 1)
    with pytest.raises(DomainError) as refused:
        await _deliver(any_factory, deal)
    assert refused.value.key == "no_delivery"
