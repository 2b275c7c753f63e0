"""Fewer goods arrived than were sold (the truck brought less): the leader records what arrived
of each item, the bot shares it out (groupbuy.allotment: by join order, the default, or pro
rata) and shows the plan, and on the leader's word cuts the orders, tells each buyer cut what
they get and refunds what they paid for the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from groupbuy import parsing
from groupbuy.allotment import Allocation, Cut, cut, plan
from groupbuy.errors import DomainError
from groupbuy.model import Deal, DealStatus, Order, RefundReason
from groupbuy.notices import Notice, NoticeKind
from groupbuy.orders import DEFAULT_WINDOW
from groupbuy.payments import refund_excess
from groupbuy.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Shortfall:
    item_name: str
    units: int  # units taken away in all
    orders: int  # orders affected


def arrived_by_item(deal: Deal, typed: Sequence[tuple[str, int]]) -> dict[int, int]:
    """What the leader typed arrived, by item id: each item named by its number (1 for the
    first) or by its name, case aside."""
    arrived: dict[int, int] = {}
    for name, units in typed:
        digits = parsing.typed_digits(name)
        if digits.isdigit():
            position = int(digits)
            item = deal.items[position - 1] if 1 <= position <= len(deal.items) else None
        else:
            item = next((i for i in deal.items if i.name.casefold() == name.casefold()), None)
        if item is None:
            raise DomainError("item_not_found")
        arrived[item.id] = units
    return arrived


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
    done = await cut(uow, plan(deal, await uow.orders.for_deal(deal_id), arrived, how))
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
