"""What each order keeps when fewer units are to be had than were ordered: a supplier's shortfall
(groupbuy.shortfall), or the units beyond the last full case at the close (groupbuy.cases).

Shared out by join order (those who joined first keep their goods, the last to join lose units
first) or pro rata (everyone keeps the same share of what they ordered, rounded down, the units
left over going to the largest remainders, the earlier order first on a tie). Orders already
handed out keep what they took, whichever way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from groupbuy.model import Deal, Item, Order
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


def plan(
    deal: Deal, orders: Sequence[Order], arrived: Mapping[int, int], how: Allocation
) -> list[Cut]:
    """Every order cut when only `arrived` units (by item id) are to be had, item by item in the
    deal's order, orders by join order."""
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


async def cut(uow: UnitOfWork, cuts: Sequence[Cut]) -> list[Cut]:
    """Take the planned units out of the orders and give them back to the stock; the cuts made
    (a line changed meanwhile is left alone). The caller refunds, tells and commits."""
    done: list[Cut] = []
    for planned in cuts:
        units = planned.before - planned.after
        if await uow.orders.change_line(planned.order.id, planned.item.id, -units, None) is None:
            continue
        await uow.deals.release(planned.item.deal_id, planned.item.id, units)
        done.append(planned)
    return done
