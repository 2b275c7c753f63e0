"""Fewer goods arrived than were sold (the truck brought less): the leader records what arrived
of each item, the bot shares it out and shows the plan, and on the leader's word cuts the orders,
tells each buyer cut what they get and refunds what they paid for the rest.

Shared out by join order (the default: those who joined first keep their goods, the last to
join lose units first) or pro rata (everyone keeps the same share of what they ordered, rounded
down, the units left over going to the largest remainders, the earlier order first on a tie).
Orders already handed out keep what they took, whichever way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from groupbuy.errors import DomainError
from groupbuy.model import Deal, DealStatus, Item, Order, RefundReason
from groupbuy.notices import Notice, NoticeKind
from groupbuy.orders import DEFAULT_WINDOW
from groupbuy.payments import refund_excess
from groupbuy.ports import UnitOfWork


class Allocation(StrEnum):
    JOIN_ORDER = "join_order"
    PRO_RATA = "pro_rata"


@dataclass(frozen=True, slots=True)
class Cut:
    """One order's units of one item, before and after the shortfall."""

    order: Order
    item: Item
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class Shortfall:
    item_name: str
    units: int  # units taken away in all
    orders: int  # orders affected


def check_arrived(deal: Deal, arrived: Mapping[int, int]) -> None:
    """What the leader says arrived, by item id: a known item, not more than was sold."""
    if deal.status is not DealStatus.CLOSED:
        raise DomainError("deal_not_closed")
    if not arrived:
        raise DomainError("shortfall_nothing")
    for item_id, units in arrived.items():
        item = deal.item(item_id)
        if item is None:
            raise DomainError("item_not_found")
        if units < 0:
            raise DomainError("shortfall_too_large", item=item.name, sold=item.sold)
        if units >= item.sold:
            raise DomainError("arrived_not_fewer", item=item.name, sold=item.sold)


def plan(
    deal: Deal, orders: Sequence[Order], arrived: Mapping[int, int], how: Allocation
) -> list[Cut]:
    """Every order the shortfall cuts, item by item in the deal's order, orders by join order."""
    cuts: list[Cut] = []
    joined = sorted(orders, key=lambda o: o.id)
    for item in deal.items:
        if item.id not in arrived:
            continue
        taken = {o.id: o.quantity(item.id) for o in joined if o.picked_up_at is not None}
        left = max(0, arrived[item.id] - sum(taken.values()))
        waiting = [o for o in joined if o.picked_up_at is None and o.quantity(item.id)]
        shares = (_by_join_order if how is Allocation.JOIN_ORDER else _pro_rata)(
            [o.quantity(item.id) for o in waiting], left
        )
        cuts += [
            Cut(order, item, order.quantity(item.id), share)
            for order, share in zip(waiting, shares, strict=True)
            if share < order.quantity(item.id)
        ]
    return cuts


def _by_join_order(wanted: list[int], units: int) -> list[int]:
    shares = []
    for quantity in wanted:
        share = min(quantity, units)
        shares.append(share)
        units -= share
    return shares


def _pro_rata(wanted: list[int], units: int) -> list[int]:
    total = sum(wanted)
    if total <= units:
        return list(wanted)
    shares = [q * units // total for q in wanted]
    # The units the rounding down left over: to the largest remainders, the earlier first.
    by_remainder = sorted(range(len(wanted)), key=lambda n: (-(wanted[n] * units % total), n))
    for n in by_remainder[: units - sum(shares)]:
        shares[n] += 1
    return shares


async def apply_plan(
    uow: UnitOfWork,
    deal_id: int,
    arrived: Mapping[int, int],
    how: Allocation,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> list[Cut]:
    """Cut the orders as `plan` shares out what arrived (read afresh under the deal's lock), and
    refund each what they paid beyond what they now get: one refund and one message per order
    (a Stars buyer is refunded whole charges and invoiced again for the rest, held for
    `window`). The caller commits."""
    # Its row updated first (the post shows the cuts), so locked: the counts read below stay
    # true until the commit, against a pickup or a second shortfall at the same time.
    await uow.deals.touch_post(deal_id)
    deal = await uow.deals.get(deal_id)
    if deal is None:
        raise DomainError("deal_not_found")
    check_arrived(deal, arrived)
    cuts = plan(deal, await uow.orders.for_deal(deal_id), arrived, how)
    done: list[Cut] = []
    for cut in cuts:
        units = cut.before - cut.after
        if await uow.orders.change_line(cut.order.id, cut.item.id, -units, None) is None:
            continue
        await uow.deals.release(deal_id, cut.item.id, units)
        done.append(cut)
    told: dict[int, Order] = {c.order.id: c.order for c in done}
    ref = int(now.timestamp())  # one message per order and shortfall recorded
    for order in told.values():
        await refund_excess(uow, deal, order.id, RefundReason.SHORTFALL, now, rebill=window)
        await uow.outbox.add(
            [Notice(NoticeKind.SHORTFALL, order.user_id, deal_id, order.user_id, ref)], now
        )
    return done


async def record_shortfall(
    uow: UnitOfWork,
    deal_id: int,
    position: int,
    missing: int,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> Shortfall:
    """`missing` units of the deal's item number `position` (1-based) did not arrive: the last
    to join lose units first (apply_plan by join order, for one item)."""
    deal = await uow.deals.get(deal_id)
    if deal is None:
        raise DomainError("deal_not_found")
    if deal.status is not DealStatus.CLOSED:
        raise DomainError("deal_not_closed")
    if not 1 <= position <= len(deal.items):
        raise DomainError("item_not_found")
    item = deal.items[position - 1]
    if missing < 1 or missing > item.sold:
        raise DomainError("shortfall_too_large", item=item.name, sold=item.sold)
    arrived = {item.id: item.sold - missing}
    cuts = await apply_plan(uow, deal_id, arrived, Allocation.JOIN_ORDER, now, window)
    return Shortfall(item.name, sum(c.before - c.after for c in cuts), len(cuts))
