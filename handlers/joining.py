"""Residents join, change and cancel their orders with buttons, in the group or in private."""

from __future__ import annotations

from typing import NamedTuple

from groupbuy.errors import DomainError
from groupbuy.model import Community, Deal, DealStatus, PaymentMode, Resident
from groupbuy.orders import OrderChange, cancel_order, change_quantity
from groupbuy.payments import Standing, standing
from groupbuy.pickup_points import asks as choose_first
from groupbuy.ports import UnitOfWork
from handlers.actions import Action, Answer, Edit, Send
from handlers.authority import Caller, Intent, as_resident, as_resident_at_home
from handlers.callbacks import Callback, Op
from handlers.common import alert, locale_of, refusal, remember, remembered
from handlers.context import Deps
from handlers.events import Person, Press
from handlers.my_order import Where, card_of, order_keyboard, order_text, where_of
from handlers.paying import code_photo, window


class _Changed(NamedTuple):
    """What a change that went through hands from its transaction to the answer."""

    locale: str
    change: OrderChange
    community: Community | None
    money: Standing | None
    where: Where
    asks: bool  # a new order in a deal with several pickup points: where do they collect?


async def on_change(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    """+1 (Join) and −1 on the group's post or the private order card."""
    delta = 1 if cb.op is Op.JOIN else -1
    now = deps.clock.now()
    intent = Intent.JOIN if delta > 0 else Intent.CHANGE

    # The hottest path of all: under group commit (deps.write) it shares a transaction with the
    # presses that arrive with it, so it awaits nothing but the unit of work.
    async def act(
        uow: UnitOfWork, deal: Deal, resident: Resident | None
    ) -> list[Action] | _Changed:
        user = await remember(deps, uow, press.sender, private=press.chat.is_private)
        locale = deps.user_locale(user)
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
        where = await where_of(uow, deal, now) if press.chat.is_private else Where()
        asks = delta > 0 and change.order.total_quantity == 1 and choose_first(deal, resident)
        await uow.commit()
        return _Changed(locale, change, community, money, where, asks)

    try:
        outcome = await as_resident_at_home(
            deps, Caller.of(press), cb.deal, intent, act, grouped=True
        )
    except DomainError as refused:
        return [alert(deps, press.query_id, await locale_of(deps, press.sender), refused)]
    if isinstance(outcome, list):
        return outcome
    locale, change, community, money, where, asks = outcome
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
    if (
        not press.chat.is_private
        and delta > 0
        and change.order.total_quantity == 1
        and (change.deal.payment_mode is PaymentMode.LEADER or asks)
    ):
        # An order just made from the group's post, to be paid to the leader (whom to pay, how
        # and how much), or in a deal with several pickup points none of which they chose
        # before (where they collect): in private right away (they started the bot to join).
        async with deps.uow() as uow:
            actions += await first_views(deps, uow, press.sender, change.deal)
    if press.chat.is_private and community is not None:
        actions.append(
            Edit(
                press.chat.id,
                press.message_id,
                order_text(deps, locale, change.deal, change.order, community, money, where),
                order_keyboard(deps, locale, change.deal, change.order, money, community, where),
                live=card_of(change.deal, press.sender.id),
            )
        )
    return actions


async def on_cancel_order(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    user = await remembered(deps, press.sender, private=press.chat.is_private)
    locale = deps.user_locale(user)

    async def act(uow: UnitOfWork, found: Deal) -> tuple[Deal, Community | None, Where]:
        community = await uow.communities.get(found.community_id)
        now = deps.clock.now()
        deal = await cancel_order(uow, found.id, user.id, now, window(community))
        await uow.commit()
        return deal, community, await where_of(uow, deal, now)

    try:
        deal, community, where = await as_resident(
            deps, Caller.of(press), cb.deal, Intent.CHANGE, act
        )
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
                order_text(deps, locale, deal, None, community, None, where),
                order_keyboard(deps, locale, deal, None, None, community, where),
                live=card_of(deal, press.sender.id),
            )
        )
    return actions


async def on_mine(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    user = await remembered(deps, press.sender, private=press.chat.is_private)
    locale = deps.user_locale(user)
    if not user.started:
        # Telegram opens our private chat with this link; /start checks it again there.
        async def link(uow: UnitOfWork, deal: Deal) -> list[Action]:
            return [Answer(press.query_id, url=deps.deep_link(f"o_{deal.id}"))]

        act = link
    else:

        async def shown(uow: UnitOfWork, deal: Deal) -> list[Action]:
            view = await order_view(deps, uow, press.sender, deal)
            toast = deps.texts.macro(locale, "labels", "sent_privately")
            return [Answer(press.query_id, toast), view]

        act = shown
    try:
        return await as_resident(deps, Caller.of(press), cb.deal, Intent.SEE, act)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]


async def order_view(deps: Deps, uow: UnitOfWork, person: Person, deal: Deal) -> Send:
    """The resident's private view of a deal, read in the unit of work that checked it."""
    user = await uow.users.get(person.id)
    community = await uow.communities.get(deal.community_id)
    order = await uow.orders.of_user(deal.id, person.id)
    money = await standing(uow, deal, order) if order else None
    where = await where_of(uow, deal, deps.clock.now())
    assert community is not None
    locale = deps.user_locale(user or person)
    return Send(
        person.id,
        order_text(deps, locale, deal, order, community, money, where),
        order_keyboard(deps, locale, deal, order, money, community, where),
        live=card_of(deal, person.id),
    )


async def first_views(deps: Deps, uow: UnitOfWork, person: Person, deal: Deal) -> list[Action]:
    """The private view of an order just made; in pay-the-leader mode, the leader's collection
    code comes first, captioned with the amount owed."""
    view = await order_view(deps, uow, person, deal)
    if deal.payment_mode is not PaymentMode.LEADER:
        return [view]
    community = await uow.communities.get(deal.community_id)
    order = await uow.orders.of_user(deal.id, person.id)
    if community is None or not community.payee_photo or order is None:
        return [view]
    money = await standing(uow, deal, order)
    if money.due <= money.claimed:
        return [view]
    user = await uow.users.get(person.id)
    locale = deps.user_locale(user or person)
    return [code_photo(deps, locale, person.id, deal, community, money), view]


class NoProfile(NamedTuple):
    """A join link opened by someone the community has no address for yet."""

    community_id: int


async def join_from_link(
    deps: Deps, person: Person, deal_id: int, item_id: int
) -> list[Action] | NoProfile:
    """The end of the deep link from a Join press: one unit unless they already have some,
    checked and added in one unit of work. NoProfile: the profile comes first."""
    now = deps.clock.now()

    async def act(
        uow: UnitOfWork, deal: Deal, resident: Resident | None
    ) -> list[Action] | NoProfile:
        if resident is None:
            return NoProfile(deal.community_id)
        order = await uow.orders.of_user(deal.id, person.id)
        made = order is None or not order.active
        if order is None or order.quantity(item_id) == 0:
            community = await uow.communities.get(deal.community_id)
            try:
                await change_quantity(
                    uow, deal.id, item_id, person.id, 1, resident, now, window(community)
                )
            except DomainError as error:
                user = await uow.users.get(person.id)
                return [refusal(deps, person.id, deps.user_locale(user or person), error)]
            await uow.commit()
            deal = await uow.deals.get(deal.id) or deal
        if made:
            return await first_views(deps, uow, person, deal)
        return [await order_view(deps, uow, person, deal)]

    return await as_resident_at_home(deps, Caller.in_private(person), deal_id, Intent.JOIN, act)
