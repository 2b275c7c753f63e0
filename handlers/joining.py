"""Residents join, change and cancel their orders with buttons, in the group or in private."""

from __future__ import annotations

from typing import NamedTuple

from groupbuy.errors import DomainError, NotAnswered
from groupbuy.model import Community, Deal, DealStatus
from groupbuy.orders import OrderChange, cancel_order, change_quantity
from groupbuy.payments import Standing, standing
from groupbuy.ports import UnitOfWork
from handlers.actions import Action, Answer, Edit, Send
from handlers.authority import (
    Caller,
    Intent,
    MustAsk,
    check_resident,
    confirm_member,
    resident_deal,
    unknown_deal,
)
from handlers.callbacks import Callback, Op
from handlers.common import alert, refusal, remember, remembered
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
    outcome = await _change(deps, press, cb)
    if isinstance(outcome, MustAsk):
        # Only Telegram knows whether this person is in the deal's group: asked now, outside
        # the unit of work, and the press tried once more (the answer is remembered).
        try:
            await confirm_member(deps, Caller.of(press), outcome.deal)
        except DomainError as error:
            return [alert(deps, press.query_id, deps.user_locale(press.sender), error)]
        outcome = await _change(deps, press, cb)
        if isinstance(outcome, MustAsk):  # Telegram could not be asked: refuse, do not trust
            refused = NotAnswered()
            return [alert(deps, press.query_id, deps.user_locale(press.sender), refused)]
    return outcome


async def _change(deps: Deps, press: Press, cb: Callback) -> list[Action] | MustAsk:
    delta = 1 if cb.op is Op.JOIN else -1
    now = deps.clock.now()
    caller = Caller.of(press)

    # The hottest path of all: under group commit (deps.write) it shares a transaction with the
    # presses that arrive with it, so it awaits nothing but the unit of work.
    async def work(uow: UnitOfWork) -> list[Action] | _Changed | MustAsk:
        user = await remember(deps, uow, press.sender, private=press.chat.is_private)
        locale = deps.user_locale(user)
        deal = await uow.deals.get(cb.deal)
        if deal is None:
            refused = unknown_deal(caller, cb.deal, leading=False)
            return [alert(deps, press.query_id, locale, refused)]
        intent = Intent.JOIN if delta > 0 else Intent.CHANGE
        try:
            # A press in the deal's own (members-only) group settles it without a statement;
            # elsewhere (the private order card) a −1 is allowed on the presser's own order.
            mine = (
                await uow.orders.of_user(deal.id, user.id)
                if intent is Intent.CHANGE and not caller.chat.members_only
                else None
            )
            check_resident(deps, caller, deal, intent, mine)
        except MustAsk as ask:
            return ask
        except DomainError as error:
            return [alert(deps, press.query_id, locale, error)]
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
    if isinstance(outcome, list | MustAsk):
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
    user = await remembered(deps, press.sender, private=press.chat.is_private)
    locale = deps.user_locale(user)
    try:
        found = await resident_deal(deps, Caller.of(press), cb.deal, Intent.CHANGE)
        async with deps.uow() as uow:
            community = await uow.communities.get(found.community_id)
            deal = await cancel_order(uow, found.id, user.id, deps.clock.now(), window(community))
            await uow.commit()
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
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
    user = await remembered(deps, press.sender, private=press.chat.is_private)
    locale = deps.user_locale(user)
    try:
        deal = await resident_deal(deps, Caller.of(press), cb.deal, Intent.SEE)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    if not user.started:
        return [Answer(press.query_id, url=deps.deep_link(f"o_{deal.id}"))]
    shown = await show_order(deps, press.sender, deal)
    return [Answer(press.query_id, deps.texts.macro(locale, "labels", "sent_privately")), shown]


async def show_order(deps: Deps, person: Person, deal: Deal) -> Send:
    """The resident's private view of a deal (from handlers.authority: one they may see)."""
    async with deps.uow() as uow:
        user = await uow.users.get(person.id)
        fresh = await uow.deals.get(deal.id)
        deal = fresh or deal
        community = await uow.communities.get(deal.community_id)
        order = await uow.orders.of_user(deal.id, person.id)
        money = await standing(uow, deal, order) if order else None
    assert community is not None
    locale = deps.user_locale(user or person)
    return Send(
        person.id,
        order_text(deps, locale, deal, order, community, money),
        order_keyboard(deps, locale, deal, order, money),
    )


async def join_from_link(deps: Deps, person: Person, deal: Deal, item_id: int) -> list[Action]:
    """The end of the deep link from a Join press: add one unit unless they already have some.
    `deal` comes from handlers.authority (a deal this person may join)."""
    now = deps.clock.now()
    deal_id = deal.id
    async with deps.uow() as uow:
        user = await uow.users.get(person.id)
        locale = deps.user_locale(user or person)
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
    return [await show_order(deps, person, deal)]
