"""Orders nobody came for: after the pickup window the leader decides, order by order.

- Not collected: nothing was paid, so nothing is owed; the goods go to the leader's spare.
- Kept for the next pickup: the order still waits, and its buyer is told it was kept; they hear
  the new time and place with everyone else still to pick up (groupbuy.pickup_changes).
- Refunded: what the buyer paid for the goods still to come goes back (by the payments rules:
  Stars automatically, anything else owed by the leader), and the goods go to the spare.

The first two answer the two cases a leader meets (paid or not) without a forfeit rule: money
is never kept for goods that were not handed out. A decision is recorded once, in the same
transaction as its changes; "kept" may still become final when the buyer does not come again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from groupbuy.errors import DomainError
from groupbuy.model import Deal, DealStatus, NoShow, NoShowOutcome, Order, PaymentMode, RefundReason
from groupbuy.notices import Notice, NoticeKind
from groupbuy.payments import Standing, refund_excess, standing
from groupbuy.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Waiting:
    """An order with something still to hand out, and where it stands."""

    order: Order
    to_come: dict[int, int]  # units by item still to hand out
    money: Standing
    partly: bool  # handed out in part already
    decided: NoShow | None  # kept for the next pickup, if it was


async def still_to_come(uow: UnitOfWork, order: Order) -> dict[int, int]:
    """Units by item not handed out yet: all of an order not handed out, the lines held back
    of one handed out in part; empty when nothing is to come (or the order is empty)."""
    if order.picked_up_at is not None:
        held = await uow.orders.held_back(order.id)
        return held if order.waits(bool(held)) else {}
    return {ln.item_id: ln.quantity for ln in order.lines if ln.quantity > 0}


async def waiting_order(uow: UnitOfWork, deal: Deal, order: Order) -> Waiting:
    """The order as the leader decides on it; refused when nothing of it is to come."""
    if deal.status is not DealStatus.CLOSED:
        raise DomainError("deal_not_closed")
    decided = (await uow.orders.no_shows(deal.id)).get(order.id)
    if decided is not None and decided.outcome is not NoShowOutcome.MOVED:
        raise DomainError("no_show_decided", code=order.code, outcome=decided.outcome.value)
    to_come = await still_to_come(uow, order)
    if not to_come:
        raise DomainError("no_show_nothing_to_come", code=order.code)
    money = await standing(uow, deal, order)
    return Waiting(order, to_come, money, order.picked_up_at is not None, decided)


def choices(waiting: Waiting) -> list[NoShowOutcome]:
    """What the leader may decide for it, in the order the buttons show."""
    found: list[NoShowOutcome] = []
    if waiting.money.held > 0:
        found.append(NoShowOutcome.REFUNDED)
    elif not waiting.money.claimed:
        found.append(NoShowOutcome.NOT_COLLECTED)
    if waiting.decided is None:
        found.append(NoShowOutcome.MOVED)
    return found


async def decide(
    uow: UnitOfWork, deal: Deal, order: Order, outcome: NoShowOutcome, now: datetime, by: int
) -> Waiting:
    """Record `outcome` for an order of `deal` (the caller checked `by` leads its group and
    the order is the deal's) with its goods, money and notice; the caller commits."""
    waiting = await waiting_order(uow, deal, order)
    _check(deal, waiting, outcome)
    if not await uow.orders.decide_no_show(NoShow(order.id, deal.id, outcome, now, by)):
        # Decided meanwhile (two leaders, a second press): what was decided is the answer.
        earlier = (await uow.orders.no_shows(deal.id)).get(order.id)
        raise DomainError(
            "no_show_decided", code=order.code, outcome=earlier.outcome.value if earlier else ""
        )
    if outcome is NoShowOutcome.MOVED:
        kept = Notice(NoticeKind.KEPT_FOR_NEXT, order.user_id, deal.id, order.user_id, order.id)
        await uow.outbox.add([kept], now)
        return waiting
    if waiting.partly:
        await uow.orders.hand_rest(order.id)  # the lines held back are not to come any more
    for item_id, units in waiting.to_come.items():
        if await uow.orders.change_line(order.id, item_id, -units, None) is None:
            raise DomainError("stale_button")  # not what was read: the caller rolls back
        await uow.deals.release(deal.id, item_id, units)
        await uow.deals.add_spare(deal.id, item_id, units)
    if outcome is NoShowOutcome.REFUNDED:
        # The refund's own message (REFUND_OWED, reason no_show) tells the buyer.
        await refund_excess(uow, deal, order.id, RefundReason.NO_SHOW, now)
    else:
        released = Notice(NoticeKind.NOT_COLLECTED, order.user_id, deal.id, order.user_id, order.id)
        await uow.outbox.add([released], now)
    await uow.deals.touch_post(deal.id)  # the closed post counts what was sold
    return waiting


def _check(deal: Deal, waiting: Waiting, outcome: NoShowOutcome) -> None:
    code = waiting.order.code
    if waiting.decided is not None and outcome is NoShowOutcome.MOVED:
        raise DomainError("no_show_decided", code=code, outcome=waiting.decided.outcome.value)
    if outcome is NoShowOutcome.NOT_COLLECTED:
        if waiting.money.held > 0:
            raise DomainError("no_show_paid", code=code)  # money back, or keep it for them
        if waiting.money.claimed:
            raise DomainError("no_show_claimed", code=code)  # the leader's answer comes first
    if outcome is NoShowOutcome.REFUNDED:
        if waiting.money.held <= 0:
            raise DomainError("no_show_unpaid", code=code)
        if waiting.partly and deal.payment_mode is PaymentMode.STARS:
            # Stars go back a whole charge at a time: the goods already handed out would go
            # back with it. The leader settles this one with the buyer.
            raise DomainError("no_show_stars_part", code=code)
