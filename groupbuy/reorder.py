"""One-tap reorder (一键复购): the same milk, every week. "Order again" on a past order joins the
deal now open in the same community that sells the same items (by name, case and spacing aside)
with the same quantities; with none open, the buyer may ask to be told when one opens, and the
deal that opens with one of those items tells them once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from groupbuy.model import Deal, DealSpec, DealStatus, Item, Order
from groupbuy.notices import Notice, NoticeKind
from groupbuy.ports import UnitOfWork

OPEN_DEALS_LOOKED_AT = 20  # a community's open deals searched, newest first


def key(name: str) -> str:
    """An item's name as reorders match it: 'Milk 1L' is 'milk  1l'."""
    return " ".join(name.casefold().split())


def wanted(deal: Deal, order: Order) -> dict[str, int]:
    """What the order held, by item key (the units it was left with)."""
    return {key(i.name): order.quantity(i.id) for i in deal.items if order.quantity(i.id) > 0}


def where_again(
    past: Deal, order: Order, open_deals: Sequence[Deal]
) -> tuple[Deal, list[tuple[Item, int]]] | None:
    """The newest open deal (not the past one) selling any of what the order held, and its
    items with the quantities to order; None when no open deal sells any of it."""
    want = wanted(past, order)
    for deal in open_deals:
        if deal.id == past.id or deal.status is not DealStatus.OPEN:
            continue
        lines = [(i, want[key(i.name)]) for i in deal.items if key(i.name) in want]
        if lines:
            return deal, lines
    return None


async def tell_watchers(
    uow: UnitOfWork, community_id: int, deal_id: int, spec: DealSpec, now: datetime
) -> int:
    """A deal opened: whoever asked to be told when one of its items is open again is told
    (once: their wish is used up); returns how many."""
    opened = {key(i.name) for i in spec.items}
    told = 0
    for user_id, past_deal, names in await uow.orders.watchers(community_id):
        if opened.isdisjoint(names):
            continue
        notice = Notice(NoticeKind.REORDER_OPEN, user_id, deal_id, user_id, past_deal)
        await uow.outbox.add([notice], now)
        await uow.orders.unwatch(user_id, past_deal)
        told += 1
    return told
