"""Fewer goods arrived than were sold: the leader records it, the last to join lose units first,
and whatever they paid for the missing units is refunded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from groupbuy.cases import cut_latest
from groupbuy.errors import DomainError
from groupbuy.model import DealStatus, RefundReason
from groupbuy.notices import Notice, NoticeKind
from groupbuy.orders import DEFAULT_WINDOW
from groupbuy.payments import refund_excess
from groupbuy.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Shortfall:
    item_name: str
    units: int  # units taken away in all
    orders: int  # orders affected


async def record_shortfall(
    uow: UnitOfWork,
    deal_id: int,
    position: int,
    missing: int,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> Shortfall:
    """`missing` units of the deal's item number `position` (1-based) did not arrive. The units
    that did arrive stay the buyers'; what they paid beyond them is refunded (a Stars buyer is
    refunded whole charges and invoiced again for the rest, held for `window`)."""
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
    # Last come, first cut: those who joined first keep their goods.
    cut = await cut_latest(uow, await uow.orders.for_deal(deal_id), item, missing)
    for order, _ in cut:
        await refund_excess(uow, deal, order.id, RefundReason.SHORTFALL, now, rebill=window)
        ref = item.id * 1_000_000 + order.id  # one notice per item and order
        await uow.outbox.add(
            [Notice(NoticeKind.SHORTFALL, order.user_id, deal_id, order.user_id, ref)], now
        )
    await uow.deals.touch_post(deal_id)
    return Shortfall(item.name, sum(units for _, units in cut), len(cut))
