"""Use cases of a resident's order: join, +1/−1, cancel, and the leader's pickup check."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from groupbuy.deals import close_deal
from groupbuy.errors import DomainError, NotAllowed
from groupbuy.model import (
    CloseReason,
    Deal,
    DealStatus,
    Order,
    OrderLine,
    PaymentMethod,
    Resident,
)
from groupbuy.payments import collect_cash, repriced, settle, sold_out
from groupbuy.pickup_points import point_for
from groupbuy.ports import Deals, Orders, Taken, UnitOfWork

DEFAULT_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class OrderChange:
    deal: Deal  # after the change
    order: Order
    closed: bool  # the change sold the deal out and closed it


def _check_open(deal: Deal | None, now: datetime) -> Deal:
    if deal is None:
        raise DomainError("deal_not_found")
    if deal.status is not DealStatus.OPEN or deal.deadline <= now:
        raise DomainError("deal_not_open")
    return deal


async def change_quantity(
    uow: UnitOfWork,
    deal_id: int,
    item_id: int,
    user_id: int,
    delta: int,
    resident: Resident | None,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
    loaded: Deal | None = None,
) -> OrderChange:
    """Add or remove units of one item. Stock and the per-person limit hold under any concurrency:
    each is a single conditional UPDATE, and the deal row is locked first so a close waits for us.
    The caller commits; on any DomainError it must not.

    `loaded`: the deal as the caller already read it. Items, prices and limits never change, and
    the status is checked again under the lock, so it need not be read twice; the returned deal
    is then that one with this change applied to its counts (a neighbour's change made at the
    same moment may not show: the post refresher shows the truth), unless the change sold the
    deal out, when it is read afresh. Without `loaded` the deal is read before and after.
    """
    if delta == 0:
        raise DomainError("nothing_changed")
    deal = _check_open(
        loaded if loaded and loaded.id == deal_id else await uow.deals.get(deal_id), now
    )
    item = deal.item(item_id)
    if item is None:
        raise DomainError("item_not_found")
    # A deal for some buildings needs to know where a joiner lives; removing is always allowed.
    if delta > 0 and deal.buildings and (resident is None or not deal.open_to(resident.building)):
        raise NotAllowed("deal_not_for_building", buildings=", ".join(deal.buildings))
    left: int | None = None
    if delta > 0:
        taken = await uow.orders.take(
            deal_id, deal.community_id, user_id, item_id, delta, item.limit, now
        )
        if taken.order is None:
            raise DomainError("deal_not_open")
        order = taken.order
        if taken.quantity is None:
            raise DomainError("limit_reached", limit=item.limit or 0, item=item.name)
        quantity = taken.quantity
        if taken.left is None:
            raise DomainError("sold_out", item=item.name)
        left = taken.left
        if deal.points and order.point is None:  # a new order: where it is collected
            point = point_for(deal, resident)
            await uow.orders.set_point(order.id, point)
            order = replace(order, point=point)
    else:
        if not await uow.deals.begin_change(deal_id):
            raise DomainError("deal_not_open")
        order = await uow.orders.open_order(deal_id, deal.community_id, user_id, now)
        lowered = await uow.orders.change_line(order.id, item_id, delta, None)
        if lowered is None:
            raise DomainError("nothing_to_remove", item=item.name)
        quantity = lowered
        await uow.deals.release(deal_id, item_id, -delta)
    settled = await settle(uow, deal, order, now, window)
    if item.tiers:
        tiered = await _read(uow, deal_id)
        moved = tiered.item(item_id)
        if moved is not None and moved.crossed(delta):
            await repriced(uow, tiered)
    closed = False
    after = _with_sold(deal, item_id, delta) if loaded else await _read(uow, deal_id)
    # Only a join that took an item's last units can have taken the deal's last ones.
    if left == 0 and await uow.deals.all_taken(deal_id):
        fresh_deal = await uow.deals.get(deal_id)
        assert fresh_deal is not None
        after = fresh_deal
        if await sold_out(uow, after):
            closed = await close_deal(uow, deal_id, CloseReason.SOLD_OUT, now) is not None
            fresh_deal = await uow.deals.get(deal_id)
            assert fresh_deal is not None
            after = fresh_deal
    # The order was read under the deal's lock and the line's new quantity came back from its
    # own statement, so the order is known exactly, unless settling touched its payments.
    fresh = await uow.orders.get(order.id) if settled else _with_line(order, item_id, quantity)
    assert fresh is not None
    return OrderChange(after, fresh, closed)


async def take_in_steps(
    deals: Deals,
    orders: Orders,
    deal_id: int,
    community_id: int,
    user_id: int,
    item_id: int,
    quantity: int,
    limit: int | None,
    now: datetime,
) -> Taken:
    """`Orders.take` one statement at a time (SQLite has no writes inside WITH)."""
    if not await deals.begin_change(deal_id):
        return Taken(None)
    order = await orders.open_order(deal_id, community_id, user_id, now)
    return await raise_and_reserve(deals, orders, order, item_id, quantity, limit)


async def raise_and_reserve(
    deals: Deals, orders: Orders, order: Order, item_id: int, quantity: int, limit: int | None
) -> Taken:
    """The rest of `Orders.take` once the deal is locked and the order is there."""
    line = await orders.change_line(order.id, item_id, quantity, limit)
    if line is None:
        return Taken(order)
    return Taken(order, line, await deals.reserve(order.deal_id, item_id, quantity))


def _with_line(order: Order, item_id: int, quantity: int) -> Order:
    kept = tuple(line for line in order.lines if line.item_id != item_id)
    paid = next((line.paid_quantity for line in order.lines if line.item_id == item_id), 0)
    lines = sorted((*kept, OrderLine(item_id, quantity, paid)), key=lambda line: line.item_id)
    return replace(order, lines=tuple(lines))


def _with_sold(deal: Deal, item_id: int, delta: int) -> Deal:
    items = tuple(replace(i, sold=i.sold + delta) if i.id == item_id else i for i in deal.items)
    return replace(deal, items=items)


async def _read(uow: UnitOfWork, deal_id: int) -> Deal:
    deal = await uow.deals.get(deal_id)
    assert deal is not None
    return deal


async def cancel_order(
    uow: UnitOfWork, deal_id: int, user_id: int, now: datetime, window: timedelta = DEFAULT_WINDOW
) -> Deal:
    """Give back every unit of a resident's order in an open deal."""
    _check_open(await uow.deals.get(deal_id), now)
    # Lock the deal first, then read the order: a +1 committed meanwhile is cancelled too.
    if not await uow.deals.begin_change(deal_id):
        raise DomainError("deal_not_open")
    order = await uow.orders.of_user(deal_id, user_id)
    if order is None or not order.active:
        raise DomainError("no_order")
    for line in order.lines:
        if line.quantity > 0:
            if await uow.orders.change_line(order.id, line.item_id, -line.quantity, None) is None:
                raise DomainError("no_order")  # changed meanwhile; caller rolls back
            await uow.deals.release(deal_id, line.item_id, line.quantity)
    after = await uow.deals.get(deal_id)
    assert after is not None
    await settle(uow, after, order, now, window)
    given_back = {ln.item_id: -ln.quantity for ln in order.lines}
    if any(i.tiers and i.crossed(given_back.get(i.id, 0)) for i in after.items):
        await repriced(uow, after)
    return after


@dataclass(frozen=True, slots=True)
class Pickup:
    deal: Deal
    order: Order
    collected: int = 0  # what the leader took at the table (cash, or an unconfirmed transfer)
    # Units by item: handed out now after being held back at the first pickup (the rest of a
    # partial pickup); empty for a first pickup.
    rest: dict[int, int] = field(default_factory=dict)
    held_back: dict[int, int] = field(default_factory=dict)  # still to hand out, by item


async def _picked_before(uow: UnitOfWork, deal: Deal, order: Order) -> DomainError:
    """Handed out already: when, and by whom, in the community's clock (a second scan of the
    same code at the table, or two leaders with the same resident)."""
    assert order.picked_up_at is not None
    community = await uow.communities.get(deal.community_id)
    leader = await uow.users.get(order.picked_up_by) if order.picked_up_by else None
    return DomainError(
        "already_picked_up",
        code=order.code,
        at=order.picked_up_at,
        tz=community.timezone if community else "UTC",
        by=leader.display_name if leader else "",
    )


async def mark_picked_up(
    uow: UnitOfWork, community_id: int, code: str, now: datetime, by: int
) -> Pickup:
    """`by`: the leader handing it out (shown on the checklist)."""
    order = await uow.orders.by_code(community_id, code)
    if order is None or not order.active:
        raise DomainError("code_unknown", code=code)
    deal = await uow.deals.get(order.deal_id)
    assert deal is not None
    if deal.status is not DealStatus.CLOSED:
        raise DomainError("deal_not_closed")
    if order.picked_up_at is not None:
        rest = await uow.orders.hand_rest(order.id)  # the rest of a partial pickup, once
        if not rest:
            raise await _picked_before(uow, deal, order)
        return Pickup(deal, order, 0, rest)
    if deal.payment_mode.invoiced and order.pay_by is not None:
        # Re-invoiced after a Stars shortfall and not paid yet: paid in chat, not at the table.
        raise DomainError("pickup_unpaid", code=code)
    if not await uow.orders.mark_picked_up(order.id, now, by):  # handed out meanwhile
        fresh = await uow.orders.get(order.id)
        assert fresh is not None
        raise await _picked_before(uow, deal, fresh)
    # Goods never leave unpaid: what is still owed is taken at the table and recorded.
    collected = 0 if deal.payment_mode.invoiced else await collect_cash(uow, deal, order, now)
    fresh = await uow.orders.get(order.id)
    assert fresh is not None
    return Pickup(deal, fresh, collected)


HOLD_BACK_WITHIN = timedelta(hours=1)  # decided at the table, not from an old message


async def hold_back(
    uow: UnitOfWork, deal: Deal, order: Order, item_id: int, now: datetime
) -> Pickup:
    """Partial pickup: a line of an order just handed out stays for later (the resident takes
    the rest now). Money is not touched: what was collected paid for the whole order. Only
    within HOLD_BACK_WITHIN of the handout: a button pressed on an old message must not make
    an order collected long ago look half-collected. The caller checked the order is the
    deal's, and commits."""
    if order.picked_up_at is None:
        raise DomainError("not_picked_up", code=order.code)
    if now - order.picked_up_at > HOLD_BACK_WITHIN:
        raise DomainError("hold_back_late", code=order.code)
    quantity = order.quantity(item_id)
    if quantity <= 0:
        raise DomainError("stale_button")
    held = await uow.orders.held_back(order.id)
    if item_id not in held:
        others = [ln for ln in order.lines if ln.quantity > 0 and ln.item_id != item_id]
        if all(ln.item_id in held for ln in others):
            raise DomainError("hold_back_all", code=order.code)  # that is no pickup at all
        await uow.orders.hold_back(order.id, item_id, quantity)
        held[item_id] = quantity
    # What was taken at the table when it was handed out: the cash recorded at that moment.
    collected = sum(
        p.amount
        for p in await uow.payments.for_order(order.id)
        if p.method is PaymentMethod.CASH and p.created_at == order.picked_up_at
    )
    return Pickup(deal, order, collected, held_back=held)
