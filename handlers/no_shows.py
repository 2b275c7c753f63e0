"""/noshows: the orders still waiting to be picked up, with one button to remind them all.

After the pickup window the leader has boxes left and no wish to phone each neighbour: the
list says who (code, address, name, phone; ⏳ for an order handed out in part), and "Remind
them all" sends each a reminder with their code and what to bring, at most once an hour."""

from __future__ import annotations

from datetime import timedelta

from groupbuy.arrival import remind_to_pick_up
from groupbuy.errors import DomainError
from groupbuy.model import Deal, DealStatus
from groupbuy.ports import UnitOfWork
from handlers import guide
from handlers.actions import Action, Answer, Send
from handlers.authority import Caller, as_leader, leader_named
from handlers.callbacks import Callback, Op
from handlers.common import alert, button, refusal, remembered
from handlers.context import Deps
from handlers.events import MessageIn, Press
from handlers.pickup_list import rows

REMIND_EVERY = timedelta(hours=1)
SHOWN = 15  # orders listed in the message: the pickup list has them all


async def command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    """/noshows [deal id]: in the group its newest closed deal, answered in private."""
    chat_id = message.chat.id
    user = await remembered(deps, message.sender, private=message.chat.is_private)
    locale = deps.user_locale(user)
    if message.chat.is_private and not args.strip():
        return [await guide.which_deal(deps, message, user, "noshows")]
    try:
        deal = await leader_named(deps, Caller.of(message), args, [DealStatus.CLOSED])
    except DomainError as error:
        return [refusal(deps, chat_id, locale, error)]
    if deal is None or deal.status is not DealStatus.CLOSED:
        return [Send(chat_id, deps.texts.render(locale, "list_none"), personal=True)]
    async with deps.uow() as uow:
        community = await uow.communities.get(deal.community_id)
        sheet = await uow.orders.pickup_sheet(deal.id)
    waiting = [e for e in sheet.entries() if e.order.picked_up_at is None or e.held_back]
    timezone = community.timezone if community else "UTC"
    listed = rows(deps.texts, locale, deal, waiting, timezone)
    text = deps.texts.render(
        locale, "no_shows", deal=deal, rows=listed[:SHOWN], more=max(0, len(listed) - SHOWN)
    )
    remind = Callback(Op.REMIND_PICKUP, deal.id)
    keyboard = ((button(deps, locale, "remind_pickup", remind),),) if listed else ()
    return [Send(chat_id, text, keyboard, personal=True)]


async def on_remind(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    """'Remind them all', checked as every leader button is (handlers.authority.as_leader)."""
    user = await remembered(deps, press.sender, private=press.chat.is_private)
    locale = deps.user_locale(user)
    now = deps.clock.now()

    async def act(uow: UnitOfWork, deal: Deal) -> int | None:
        reminded = await remind_to_pick_up(uow, deal, now, REMIND_EVERY)
        await uow.commit()
        return reminded

    try:
        reminded = await as_leader(deps, Caller.of(press), cb.deal, act)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    if reminded is None:
        toast = deps.texts.macro(locale, "labels", "remind_too_soon_toast")
    else:
        toast = deps.texts.macro(locale, "labels", "reminded_toast", count=reminded)
    return [Answer(press.query_id, toast)]
