"""Pickup points: a leader lists, adds and removes their group's (/points); a buyer chooses where
they collect on their order card, and sees the place on the map."""

from __future__ import annotations

from groupbuy.errors import DomainError
from groupbuy.model import Community, Deal, PickupPoint
from groupbuy.pickup_points import add_point, choose_point, parse_point, remove_point
from groupbuy.ports import UnitOfWork
from handlers.actions import Action, Answer, Edit, Keyboard, Send, Venue
from handlers.authority import Caller, Intent, as_group_leader, as_resident, led_communities
from handlers.callbacks import Callback, Op
from handlers.common import alert, button, locale_of, refusal, remembered
from handlers.context import Deps
from handlers.events import MessageIn, Press
from handlers.my_order import card_redrawn


async def command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    """/points: the group's pickup points, each with its remove button; `/points Name |
    Address | Hours | latitude, longitude` adds one first. In private, for the one group the
    person leads (several: in the group it is for)."""
    user = await remembered(deps, message.sender, private=message.chat.is_private)
    locale = deps.user_locale(user)
    if message.chat.is_private:
        try:
            led = await led_communities(deps, message.sender)
        except DomainError as error:
            return [refusal(deps, message.chat.id, locale, error)]
        if len(led) != 1:
            return [Send(message.chat.id, deps.texts.render(locale, "points_in_group"))]
        community_id = led[0].chat_id
    else:
        community_id = message.chat.id
        locale = await _group_locale(deps, community_id, locale)
    now = deps.clock.now()

    async def act(uow: UnitOfWork) -> tuple[Community, list[PickupPoint], PickupPoint | None]:
        community = await uow.communities.get(community_id)
        if community is None or not community.configured:
            raise DomainError("community_unknown")
        added = None
        if args.strip():
            added = await add_point(uow, community_id, parse_point(args), now)
            await uow.commit()
        return community, await uow.points.of_community(community_id), added

    try:
        community, points, added = await as_group_leader(
            deps, Caller.of(message), community_id, act
        )
    except DomainError as error:
        return [refusal(deps, message.chat.id, locale, error)]
    text = deps.texts.render(locale, "points", community=community, points=points, added=added)
    return [
        Send(message.chat.id, text, _keyboard(deps, locale, points), thread_id=message.thread_id)
    ]


async def _group_locale(deps: Deps, chat_id: int, fallback: str) -> str:
    async with deps.uow() as uow:
        community = await uow.communities.get(chat_id)
    return deps.community_locale(community) if community is not None else fallback


def _keyboard(deps: Deps, locale: str, points: list[PickupPoint]) -> Keyboard:
    return tuple(
        (button(deps, locale, "remove_point", Callback(Op.REMOVE_POINT, 0, p.id), name=p.name),)
        for p in points
    )


async def on_remove(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    """🗑 under /points: new deals no longer offer the point. In the group, a point of that
    group only; in private, the point's own group, which the presser must lead."""
    locale = await locale_of(deps, press.sender)
    async with deps.uow() as uow:
        found = (await uow.points.many([cb.arg])).get(cb.arg)
    in_group = not press.chat.is_private
    if found is None or (in_group and found.community_id != press.chat.id):
        return [alert(deps, press.query_id, locale, DomainError("point_unknown"))]
    if in_group:
        locale = await _group_locale(deps, press.chat.id, locale)
    now = deps.clock.now()

    async def act(uow: UnitOfWork) -> tuple[Community | None, PickupPoint, list[PickupPoint]]:
        removed = await remove_point(uow, found.community_id, found.id, now)
        await uow.commit()
        community = await uow.communities.get(found.community_id)
        return community, removed, await uow.points.of_community(found.community_id)

    try:
        community, removed, points = await as_group_leader(
            deps, Caller.of(press), found.community_id, act
        )
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    toast = deps.texts.macro(locale, "labels", "point_removed_toast", name=removed.name)
    text = deps.texts.render(locale, "points", community=community, points=points, added=None)
    return [
        Answer(press.query_id, toast),
        Edit(press.chat.id, press.message_id, text, _keyboard(deps, locale, points)),
    ]


async def on_choose(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    """📍 on the order card: the buyer collects at this point, and it is their default."""
    user = await remembered(deps, press.sender, private=True)
    locale = deps.user_locale(user)

    async def act(uow: UnitOfWork, deal: Deal) -> list[Action]:
        order = await uow.orders.of_user(deal.id, user.id)
        if order is None:
            raise DomainError("no_order")
        await choose_point(uow, deal, order, cb.arg, deal.community_id)
        await uow.commit()
        order = await uow.orders.get(order.id) or order
        chosen = (await uow.points.many([cb.arg]))[cb.arg]
        toast = deps.texts.macro(locale, "labels", "point_chosen_toast", name=chosen.name)
        return [
            Answer(press.query_id, toast),
            await card_redrawn(deps, uow, locale, press, deal, order),
        ]

    try:
        return await as_resident(deps, Caller.of(press), cb.deal, Intent.CHANGE, act)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]


async def on_map(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    """🗺 under an order card or a pickup notice: the point's place, as a map pin."""
    locale = await locale_of(deps, press.sender)

    async def act(uow: UnitOfWork, deal: Deal) -> PickupPoint:
        point = (await uow.points.many([cb.arg])).get(cb.arg)
        if point is None or point.id not in deal.points or not point.located:
            raise DomainError("point_not_offered")
        return point

    try:
        point = await as_resident(deps, Caller.of(press), cb.deal, Intent.SEE, act)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    assert point.latitude is not None and point.longitude is not None
    venue = Venue(point.latitude, point.longitude, point.name, point.address or point.name)
    return [Answer(press.query_id), Send(press.chat.id, "", venue=venue)]
