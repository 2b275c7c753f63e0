"""The goods are here (到货通知): the leader says so once, and every buyer still to pick up is told.

Said once per deal (and pickup point): the arrival is recorded with its notices in one
transaction, so a second press, a second leader or a redelivered update tells nobody twice and
learns when it was said. A buyer who already has their goods is not told they arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from groupbuy.errors import DomainError
from groupbuy.model import Arrival, Deal, DealStatus
from groupbuy.notices import Notice, NoticeKind
from groupbuy.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Announced:
    arrival: Arrival  # as first recorded
    told: int  # buyers told now (0 when it had been said before)
    first: bool  # this call said it


async def waiting(
    uow: UnitOfWork, deal: Deal, point: int = 0, *, collected: bool = False
) -> list[int]:
    """The buyers who have goods to pick up: an order with units, not handed out yet, or
    handed out in part (a line held back for later); `point`: at that pickup point only;
    `collected`: not the orders the leader delivers."""
    orders = await uow.orders.for_deal(deal.id)
    partly = await uow.orders.held_back_orders(deal.id)
    return [
        o.user_id
        for o in orders
        if o.waits(o.id in partly)
        and (not point or o.point == point)
        and not (collected and o.delivery)
    ]


async def remind_to_pick_up(
    uow: UnitOfWork, deal: Deal, now: datetime, every: timedelta
) -> int | None:
    """No-shows: the leader's one button to remind everyone whose order still waits, at most
    once per `every` per deal (None: too soon); how many are reminded."""
    if deal.status is not DealStatus.CLOSED:
        raise DomainError("deal_not_closed")
    if not await uow.deals.claim_pickup_reminder(deal.id, now, every):
        return None
    ref = int(now.timestamp())
    buyers = await waiting(uow, deal, collected=True)  # delivered: the leader brings it
    await uow.outbox.add(
        [Notice(NoticeKind.PICKUP_REMINDER, u, deal.id, u, ref) for u in buyers], now
    )
    return len(buyers)


async def announce_arrival(
    uow: UnitOfWork, deal: Deal, now: datetime, by: int, point: int = 0
) -> Announced:
    """The caller checked `by` leads the deal's group, and commits. `point`: the pickup point
    the goods reached, for a deal that offers points (each is said once, to its buyers); 0
    for a deal with its one pickup place."""
    if deal.status is not DealStatus.CLOSED:
        raise DomainError("deal_not_closed")
    if (point not in deal.points) if deal.points else point != 0:
        raise DomainError("point_not_offered")
    arrival = Arrival(deal.id, point, now, by)
    if not await uow.deals.arrive(arrival):
        earlier = await uow.deals.arrival(deal.id, point)
        assert earlier is not None  # arrivals are never deleted but with their deal
        return Announced(earlier, 0, False)
    buyers = await waiting(uow, deal, point, collected=True)  # delivered: the leader brings it
    # `ref`: the point, so that a buyer who moved to a point whose goods came later is told
    # again, and the group's notice names where.
    notices = [Notice(NoticeKind.GOODS_ARRIVED, deal.community_id, deal.id, None, point)]
    notices += [Notice(NoticeKind.ARRIVED, user, deal.id, user, point) for user in buyers]
    await uow.outbox.add(notices, now)
    return Announced(arrival, len(buyers), True)
