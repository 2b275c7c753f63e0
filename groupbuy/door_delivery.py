"""Delivery by the leader (团长配送): a deal may offer to bring orders to the buyers' doors for a
fee (free from an order total); each buyer chooses it, or not, on their order card.

The fee is part of the order's amount (Order.amount), so every money rule counts it: what is
due, what an invoice asks, what a refund returns when the order shrinks, is cancelled or the deal
fails. It can be chosen while the deal is open, and in the invoiced modes only before anything
is paid (an invoice paid for the items alone is not silently made to owe more)."""

from __future__ import annotations

from datetime import datetime, timedelta

from groupbuy.errors import DomainError
from groupbuy.model import Deal, DealStatus, Order
from groupbuy.payments import settle
from groupbuy.ports import UnitOfWork


async def choose_delivery(
    uow: UnitOfWork, deal: Deal, order: Order, delivered: bool, now: datetime, window: timedelta
) -> Order:
    """The order is delivered (or collected) from now on; what it costs is settled at once
    (an invoice for the difference, or a refund). The caller commits."""
    if deal.delivery_fee is None:
        raise DomainError("no_delivery")
    if deal.status is not DealStatus.OPEN:
        raise DomainError("deal_not_open")
    if not order.active:
        raise DomainError("no_order")
    if order.delivery == delivered:
        return order
    if deal.payment_mode.invoiced and await uow.payments.held(order.id) > 0:
        raise DomainError("delivery_after_paying")
    await uow.orders.set_delivery(order.id, delivered)
    if delivered and order.slot is not None:
        await uow.orders.set_slot(order.id, None)  # its seat is someone else's now
    fresh = await uow.orders.get(order.id)
    assert fresh is not None
    await settle(uow, deal, fresh, now, window)
    return await uow.orders.get(order.id) or fresh
