"""Pickup slots: a leader cuts a deal's pickup window into slots with seats (/slots), buyers book
one with a button (groupbuy.slots), and the leader sees the load of each.

    /slots                                  the group's newest deal: its slots and their load
    /slots Sat 18:00-20:00 | 30 | 25        four slots of 30 minutes, 25 seats each
    /slots #12 …                            in private (or the group): deal #12
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from groupbuy.errors import DomainError
from groupbuy.model import Deal, DealStatus, Slot
from groupbuy.ports import UnitOfWork
from groupbuy.slots import book, open_slots, parse_slots
from handlers.actions import Action, Answer, Send
from handlers.authority import Caller, Intent, as_leader_named, as_resident
from handlers.callbacks import Callback
from handlers.common import alert, refusal, remembered
from handlers.context import Deps
from handlers.events import MessageIn, Press
from handlers.pickup_change import numbered
from messages import formatting


async def command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    chat_id = message.chat.id
    user = await remembered(deps, message.sender, private=message.chat.is_private)
    locale = deps.user_locale(user)
    number, text = numbered(args)
    if message.chat.is_private and not number:
        return [Send(chat_id, deps.texts.render(locale, "slots_usage"), personal=True)]
    now = deps.clock.now()

    async def act(uow: UnitOfWork, deal: Deal | None) -> tuple[Deal, str, int] | None:
        if deal is None:
            return None
        community = await uow.communities.get(deal.community_id)
        tz = community.timezone if community else "UTC"
        told = -1  # nothing set: the load is shown
        if text.strip():
            _, told = await open_slots(uow, deal, parse_slots(text, now, ZoneInfo(tz)), now)
            await uow.commit()
        return deal, tz, told

    try:
        found = await as_leader_named(
            deps, Caller.of(message), number, [DealStatus.CLOSED, DealStatus.OPEN], act
        )
    except DomainError as error:
        return [refusal(deps, chat_id, locale, error)]
    if found is None:
        return [Send(chat_id, deps.texts.render(locale, "list_none"), personal=True)]
    deal, tz, told = found
    async with deps.uow() as uow:
        slots = await uow.slots.of_deal(deal.id)
        orders = await uow.orders.for_deal(deal.id)
    unbooked = sum(1 for o in orders if o.slot is None)
    body = deps.texts.render(
        locale,
        "slots",
        deal=deal,
        slots=slots,
        tz=tz,
        set_now=told >= 0,
        told=max(told, 0),
        unbooked=unbooked,
    )
    return [Send(chat_id, body, personal=True)]


async def on_book(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    """🕒 under the order card or a pickup notice: the buyer's order is picked up in that slot
    (their card shows it once it is redrawn: groupbuy.live)."""
    user = await remembered(deps, press.sender, private=True)
    locale = deps.user_locale(user)
    now = deps.clock.now()

    async def act(uow: UnitOfWork, deal: Deal) -> tuple[Slot, str]:
        order = await uow.orders.of_user(deal.id, user.id)
        if order is None:
            raise DomainError("no_order")
        community = await uow.communities.get(deal.community_id)
        tz = community.timezone if community else "UTC"
        slot, _ = await book(uow, deal, order, cb.arg, now, tz)
        await uow.commit()
        return slot, tz

    try:
        slot, tz = await as_resident(deps, Caller.of(press), cb.deal, Intent.CHANGE, act)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    span = formatting.span(slot.starts_at, slot.ends_at, tz, locale)
    toast = deps.texts.macro(locale, "labels", "slot_booked_toast", span=span)
    return [Answer(press.query_id, toast)]
