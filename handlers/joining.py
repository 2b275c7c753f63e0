"""Residents join, change and cancel their orders with buttons, in the group or in private."""

from __future__ import annotations

from typing import NamedTuple

from groupbuy.errors import DomainError
from groupbuy.model import Community, DealStatus
from groupbuy.orders import OrderChange, cancel_order, change_quantity
from groupbuy.payments import Standing, standing
from groupbuy.ports import UnitOfWork
from handlers.actions import Action, Answer, Edit, Send
from handlers.callbacks import Callback, Op
from handlers.common import alert, refusal, remember
from handlers.context import Deps
from handlers.events import Person, Press
from handlers.my_order import order_keyboard, order_text
from handlers.paying import window


class _Changed(NamedTuple):
    """What a change that went through hands from its transaction to the answer."""

    locale: str
    change: OrderChange
    community: Community | None
    money: Standing | None


async def on_change(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    delta = 1 if cb.op is Op.JOIN else -1
    now = deps.clock.now()

    # The hottest path of all: under group commit (deps.write) it shares a transaction with the
    # presses that arrive with it, so it awaits nothing but the unit of work.
    async def work(uow: UnitOfWork) -> list[Action] | _Changed:
        user = await remember(deps, uow, press.sender, private=press.chat.is_private)
        locale = deps.user_locale(user)
        deal = await uow.deals.get(cb.deal)
        if deal is None:
            return [alert(deps, press.query_id, locale, DomainError("stale_button"))]
        resident = await uow.users.resident(deal.community_id, user.id)
        if delta > 0 and deal.status is DealStatus.OPEN and (not user.started or resident is None):
            # Never started the bot, or no profile yet: Telegram opens our private chat with this
            # deep link, and /start finishes the join there.
            await uow.commit()
            return [Answer(press.query_id, url=deps.deep_link(f"j_{deal.id}_{cb.arg}"))]
        # The community is needed for its payment window (invoiced modes) and its timezone
        # (the private order view); a press on the group's post in cash mode needs neither.
        needs_community = deal.payment_mode.invoiced or press.chat.is_private
        community = await uow.communities.get(deal.community_id) if needs_community else None
        try:
            change = await change_quantity(
                uow, deal.id, cb.arg, user.id, delta, resident, now, window(community), deal
            )
        except DomainError as error:
            return [alert(deps, press.query_id, locale, error)]
        money = await standing(uow, change.deal, change.order) if press.chat.is_private else None
        await uow.commit()
        return _Changed(locale, change, community, money)

    outcome = await deps.write(work)
    if isinstance(outcome, list):
        return outcome
    locale, change, community, money = outcome
    item = change.deal.item(cb.arg)
    assert item is not None
    toast = deps.texts.macro(
        locale,
        "labels",
        "changed_toast",
        item=item,
        quantity=change.order.quantity(item.id),
        total=change.order.amount(change.deal),
        currency=change.deal.currency,
    )
    actions: list[Action] = [Answer(press.query_id, toast)]
    if press.chat.is_private and community is not None:
        actions.append(
            Edit(
                press.chat.id,
                press.message_id,
                order_text(deps, locale, change.deal, change.order, community, money),
                order_keyboard(deps, locale, change.deal, change.order, money),
            )
        )
    return actions


async def on_cancel_order(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    async with deps.uow() as uow:
        user = await remember(deps, uow, press.sender, private=press.chat.is_private)
        locale = deps.user_locale(user)
        found = await uow.deals.get(cb.deal)
        community = await uow.communities.get(found.community_id) if found else None
        try:
            deal = await cancel_order(uow, cb.deal, user.id, deps.clock.now(), window(community))
        except DomainError as error:
            return [alert(deps, press.query_id, locale, error)]
        await uow.commit()
    assert community is not None
    actions: list[Action] = [
        Answer(press.query_id, deps.texts.macro(locale, "labels", "order_cancelled_toast"))
    ]
    if press.chat.is_private:
        actions.append(
            Edit(
                press.chat.id,
                press.message_id,
                order_text(deps, locale, deal, None, community, None),
                order_keyboard(deps, locale, deal, None, None),
            )
        )
    return actions


async def on_mine(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    async with deps.uow() as uow:
        user = await remember(deps, uow, press.sender, private=press.chat.is_private)
        await uow.commit()
    locale = deps.user_locale(user)
    if not user.started:
        return [Answer(press.query_id, url=deps.deep_link(f"o_{cb.deal}"))]
    shown = await show_order(deps, press.sender, cb.deal)
    if shown is None:
        return [alert(deps, press.query_id, locale, DomainError("stale_button"))]
    return [Answer(press.query_id, deps.texts.macro(locale, "labels", "sent_privately")), shown]


async def show_order(deps: Deps, person: Person, deal_id: int) -> Send | None:
    async with deps.uow() as uow:
        user = await uow.users.get(person.id)
        deal = await uow.deals.get(deal_id)
        if deal is None or user is None:
            return None
        community = await uow.communities.get(deal.community_id)
        order = await uow.orders.of_user(deal_id, person.id)
        money = await standing(uow, deal, order) if order else None
    assert community is not None
    locale = deps.user_locale(user)
    return Send(
        person.id,
        order_text(deps, locale, deal, order, community, money),
        order_keyboard(deps, locale, deal, order, money),
    )


async def join_from_link(deps: Deps, person: Person, deal_id: int, item_id: int) -> list[Action]:
    """The end of the deep link from a Join press: add one unit unless they already have some."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        user = await uow.users.get(person.id)
        deal = await uow.deals.get(deal_id)
        locale = deps.user_locale(user or person)
        if deal is None:
            return [refusal(deps, person.id, locale, DomainError("stale_button"))]
        resident = await uow.users.resident(deal.community_id, person.id)
        order = await uow.orders.of_user(deal_id, person.id)
        if order is None or order.quantity(item_id) == 0:
            community = await uow.communities.get(deal.community_id)
            try:
                await change_quantity(
                    uow, deal_id, item_id, person.id, 1, resident, now, window(community)
                )
            except DomainError as error:
                return [refusal(deps, person.id, locale, error)]
            await uow.commit()
    shown = await show_order(deps, person, deal_id)
    return [shown] if shown else []
