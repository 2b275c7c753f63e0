"""'🔁 Order again' (under a pickup notice and /myorders) and '🔔 Tell me when it opens'
(groupbuy.reorder). The past order is the presser's own, read as their order view is; the join
goes through the same checks as a +1 on the new deal's post, one item at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from groupbuy.errors import DomainError
from groupbuy.model import Deal, DealStatus, Item, Order, Resident
from groupbuy.orders import change_quantity
from groupbuy.ports import UnitOfWork
from groupbuy.reorder import OPEN_DEALS_LOOKED_AT, wanted, where_again
from handlers.actions import Action, Answer, Edit, Send
from handlers.authority import Caller, Intent, as_resident, as_resident_at_home
from handlers.callbacks import Callback, Op
from handlers.common import alert, button, error_text, remembered
from handlers.context import Deps
from handlers.events import Press
from handlers.joining import order_view
from handlers.paying import window


@dataclass(frozen=True, slots=True)
class _Past:
    deal: Deal
    order: Order
    again: tuple[Deal, list[tuple[Item, int]]] | None


async def _past(deps: Deps, press: Press, deal_id: int) -> _Past:
    """The presser's order in the deal the button names, and where it could be ordered again."""

    async def act(uow: UnitOfWork, deal: Deal) -> _Past:
        order = await uow.orders.of_user(deal.id, press.sender.id)
        if order is None or not wanted(deal, order):
            raise DomainError("reorder_nothing")
        open_deals = await uow.deals.for_community(
            deal.community_id, [DealStatus.OPEN], OPEN_DEALS_LOOKED_AT
        )
        return _Past(deal, order, where_again(deal, order, open_deals))

    return await as_resident(deps, Caller.of(press), deal_id, Intent.SEE, act)


async def on_reorder(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    user = await remembered(deps, press.sender, private=press.chat.is_private)
    locale = deps.user_locale(user)
    try:
        past = await _past(deps, press, cb.deal)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    if past.again is None:
        text = deps.texts.render(locale, "reorder_none", deal=past.deal, order=past.order)
        keyboard = ((button(deps, locale, "tell_me_when_open", Callback(Op.WATCH, cb.deal)),),)
        return [Answer(press.query_id), Send(press.sender.id, text, keyboard)]
    deal, lines = past.again
    now = deps.clock.now()
    ordered: list[tuple[Item, int]] = []
    refused: list[tuple[Item, str]] = []
    for item, quantity in lines:
        # Each item in a transaction of its own, checked as a +1 on the post is: a sold-out or
        # capped item is refused with its reason and the others are still ordered.
        add = partial(_add, press.sender.id, item, quantity, now)
        try:
            await as_resident_at_home(deps, Caller.of(press), deal.id, Intent.JOIN, add)
            ordered.append((item, quantity))
        except DomainError as error:
            refused.append((item, error_text(deps, locale, error)))
    text = deps.texts.render(locale, "reorder_done", deal=deal, ordered=ordered, refused=refused)
    actions: list[Action] = [Answer(press.query_id), Send(press.sender.id, text)]
    if ordered:
        async with deps.uow() as uow:
            actions.append(await order_view(deps, uow, press.sender, deal))
    return actions


async def _add(
    user_id: int,
    item: Item,
    quantity: int,
    now: datetime,
    uow: UnitOfWork,
    deal: Deal,
    resident: Resident | None,
) -> int:
    """The order in `deal` brought up to `quantity` of the item; the units added."""
    mine = await uow.orders.of_user(deal.id, user_id)
    delta = quantity - (mine.quantity(item.id) if mine else 0)
    if delta <= 0:
        return 0  # pressed twice: the order has them already
    community = await uow.communities.get(deal.community_id)
    await change_quantity(uow, deal.id, item.id, user_id, delta, resident, now, window(community))
    await uow.commit()
    return delta


async def on_watch(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    user = await remembered(deps, press.sender, private=press.chat.is_private)
    locale = deps.user_locale(user)
    now = deps.clock.now()

    async def act(uow: UnitOfWork, deal: Deal) -> Deal:
        order = await uow.orders.of_user(deal.id, press.sender.id)
        names = wanted(deal, order) if order else {}
        if not names:
            raise DomainError("reorder_nothing")
        await uow.orders.watch(press.sender.id, deal.community_id, deal.id, names, now)
        await uow.commit()
        return deal

    try:
        deal = await as_resident(deps, Caller.of(press), cb.deal, Intent.SEE, act)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    text = deps.texts.render(locale, "reorder_watching", deal=deal)
    return [Answer(press.query_id), Edit(press.chat.id, press.message_id, text)]
