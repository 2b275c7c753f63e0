"""/noshows: the orders still waiting to be picked up, with one button to remind them all.

After the pickup window the leader has boxes left and no wish to phone each neighbour: the
list says who (code, address, name, phone; ⏳ for an order handed out in part), and "Remind
them all" sends each a reminder with their code and what to bring, at most once an hour.

Each listed order has a button of its own: what it still holds and where it stands with money,
and what the leader may decide for it (groupbuy.no_shows): not collected, kept for the next
pickup, or refunded. The goods given up are listed as the leader's spare."""

from __future__ import annotations

from datetime import timedelta

from groupbuy.arrival import remind_to_pick_up
from groupbuy.errors import DomainError
from groupbuy.model import Deal, DealStatus, NoShowOutcome, RefundReason
from groupbuy.no_shows import Waiting, choices, decide, waiting_order
from groupbuy.ports import UnitOfWork
from handlers import guide
from handlers.actions import Action, Answer, Edit, Keyboard, Send
from handlers.authority import Caller, as_leader, leader_named, order_of
from handlers.callbacks import Callback, Op
from handlers.common import alert, button, refusal, remembered
from handlers.context import Deps
from handlers.events import MessageIn, Press
from handlers.pickup_list import rows
from messages import formatting

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
        decided = await uow.orders.no_shows(deal.id)
        spare = await uow.deals.spare(deal.id)
    waiting = [e for e in sheet.entries() if e.order.waits(bool(e.held_back))]
    timezone = community.timezone if community else "UTC"
    listed = rows(deps.texts, locale, deal, waiting, timezone)[:SHOWN]
    kept = {e.order.code for e in waiting if e.order.id in decided}
    delivered = {e.order.code for e in waiting if e.order.delivery}  # not reminded: not coming
    text = deps.texts.render(
        locale,
        "no_shows",
        deal=deal,
        rows=listed,
        kept=kept,
        delivered=delivered,
        more=max(0, len(waiting) - SHOWN),
        spare=item_lines(deal, spare),
    )
    keyboard: Keyboard = ()
    if listed:
        remind = Callback(Op.REMIND_PICKUP, deal.id)
        ids = {e.order.code: e.order.id for e in waiting}
        keyboard = (
            (button(deps, locale, "remind_pickup", remind),),
            *(
                (
                    button(
                        deps,
                        locale,
                        "no_show_order",
                        Callback(Op.NO_SHOW, deal.id, ids[row.code]),
                        code=row.code,
                        name=row.name,
                    ),
                )
                for row in listed
            ),
        )
    return [Send(chat_id, text, keyboard, personal=True)]


def item_lines(deal: Deal, units: dict[int, int]) -> list[dict[str, object]]:
    """Units by item as the templates list them (the deal's order; items with none left out):
    what is still to come of an order, or the leader's spare."""
    return [{"item": i, "quantity": units[i.id]} for i in deal.items if units.get(i.id)]


# Op.DECIDE_NO_SHOW's second number: which decision (0 is never written: see Callback.also).
OUTCOMES = {
    1: NoShowOutcome.NOT_COLLECTED,
    2: NoShowOutcome.MOVED,
    3: NoShowOutcome.REFUNDED,
}
_NUMBER = {outcome: n for n, outcome in OUTCOMES.items()}
_LABEL = {
    NoShowOutcome.NOT_COLLECTED: "not_collected",
    NoShowOutcome.MOVED: "keep_for_next",
    NoShowOutcome.REFUNDED: "refund_no_show",
}


async def on_order(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    """An order's button under /noshows: what is still to come for it, and the decisions."""
    user = await remembered(deps, press.sender, private=press.chat.is_private)
    locale = deps.user_locale(user)

    async def act(uow: UnitOfWork, deal: Deal) -> tuple[str, Keyboard]:
        waiting = await waiting_order(uow, deal, await order_of(uow, deal, cb.arg))
        return await _menu(deps, uow, deal, waiting, locale)

    try:
        text, keyboard = await as_leader(deps, Caller.of(press), cb.deal, act)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    return [Answer(press.query_id), Send(press.chat.id, text, keyboard)]


async def on_decide(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    """Not collected, kept for the next pickup, or refunded: recorded once, with its goods,
    money and the buyer's message, in the unit of work that checked the leader."""
    user = await remembered(deps, press.sender, private=press.chat.is_private)
    locale = deps.user_locale(user)
    now = deps.clock.now()
    outcome = OUTCOMES.get(cb.also)

    async def act(uow: UnitOfWork, deal: Deal) -> str:
        order = await order_of(uow, deal, cb.arg)
        if outcome is None:
            raise DomainError("stale_button")
        waiting = await decide(uow, deal, order, outcome, now, press.sender.id)
        await uow.commit()
        refunds = [
            r
            for r in await uow.payments.refunds_for_order(order.id)
            if r.reason is RefundReason.NO_SHOW
        ]
        return deps.texts.render(
            locale,
            "no_show_done",
            deal=deal,
            order=order,
            outcome=outcome.value,
            lines=item_lines(deal, waiting.to_come),
            refunds=refunds,
            spare=item_lines(deal, await uow.deals.spare(deal.id)),
        )

    try:
        text = await as_leader(deps, Caller.of(press), cb.deal, act)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    toast = deps.texts.macro(locale, "labels", "no_show_decided_toast")
    return [Answer(press.query_id, toast), Edit(press.chat.id, press.message_id, text)]


async def _menu(
    deps: Deps, uow: UnitOfWork, deal: Deal, waiting: Waiting, locale: str
) -> tuple[str, Keyboard]:
    order = waiting.order
    community = await uow.communities.get(deal.community_id)
    buyer = await uow.users.get(order.user_id)
    resident = await uow.users.resident(deal.community_id, order.user_id)
    timezone = community.timezone if community else "UTC"
    text = deps.texts.render(
        locale,
        "no_show_order",
        deal=deal,
        order=order,
        name=buyer.display_name if buyer else str(order.user_id),
        resident=resident,
        lines=item_lines(deal, waiting.to_come),
        money=waiting.money,
        partly=waiting.partly,
        decided=waiting.decided,
        tz=timezone,
    )
    amount = formatting.money(waiting.money.held, deal.currency, locale)
    keyboard = tuple(
        (
            button(
                deps,
                locale,
                _LABEL[outcome],
                Callback(Op.DECIDE_NO_SHOW, deal.id, order.id, _NUMBER[outcome]),
                **({"amount": amount} if outcome is NoShowOutcome.REFUNDED else {}),
            ),
        )
        for outcome in choices(waiting)
    )
    return text, keyboard


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
