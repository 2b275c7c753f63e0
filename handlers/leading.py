"""What only leaders may do: close now, cancel, pickup lists, marking orders picked up.

Authority is always checked against Telegram's admin list (cached), never read from the button.
"""

from __future__ import annotations

from groupbuy.codes import normalize_code
from groupbuy.deals import cancel_deal, close_deal
from groupbuy.errors import DomainError
from groupbuy.model import CloseReason, Deal, DealStatus
from groupbuy.orders import mark_picked_up
from groupbuy.shortfall import record_shortfall
from handlers.actions import Action, Answer, Edit, Send
from handlers.callbacks import Callback, Op
from handlers.common import alert, button, led_communities, refusal, remember
from handlers.context import Deps
from handlers.deal_post import confirm_cancel_keyboard
from handlers.events import MessageIn, Press
from handlers.pickup_list import documents
from messages import formatting


async def _leader_deal(
    deps: Deps, press: Press, cb: Callback
) -> tuple[Deal | None, str, list[Action]]:
    """The deal a leader button points at, or the refusal to send."""
    async with deps.uow() as uow:
        user = await remember(deps, uow, press.sender, private=press.chat.is_private)
        await uow.commit()
        deal = await uow.deals.get(cb.deal)
    locale = deps.user_locale(user)
    if deal is None:
        return None, locale, [alert(deps, press.query_id, locale, DomainError("stale_button"))]
    if not await deps.leaders.is_leader(deal.community_id, press.sender.id):
        return None, locale, [alert(deps, press.query_id, locale, DomainError("leaders_only"))]
    return deal, locale, []


async def on_press(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    deal, locale, refused = await _leader_deal(deps, press, cb)
    if deal is None:
        return refused
    if cb.op is Op.LIST:
        return await _send_list(deps, press, deal, locale)
    if cb.op is Op.PICKED:
        return await _picked(deps, press, deal, cb.arg, locale)
    if deal.status is not DealStatus.OPEN:
        return [alert(deps, press.query_id, locale, DomainError("deal_not_open"))]
    if cb.op is Op.CLOSE:
        async with deps.uow() as uow:
            closed = await close_deal(uow, deal.id, CloseReason.LEADER, deps.clock.now())
            await uow.commit()
        key = "closed_toast" if closed else "deal_not_open"
        return [Answer(press.query_id, deps.texts.macro(locale, "labels", key))]
    async with deps.uow() as uow:
        community = await uow.communities.get(deal.community_id)
    group_locale = deps.community_locale(community)
    if cb.op is Op.CANCEL_DEAL:
        # The question is its own message, not the post's buttons: the post refresher rebuilds
        # those whenever counters change, which would silently drop a pending confirmation.
        question = deps.texts.render(group_locale, "cancel_confirm", deal=deal)
        keyboard = confirm_cancel_keyboard(deps, group_locale, deal)
        return [Answer(press.query_id), Send(press.chat.id, question, keyboard)]
    if cb.op is Op.BACK:
        kept = deps.texts.render(group_locale, "cancel_kept", deal=deal)
        return [Answer(press.query_id), Edit(press.chat.id, press.message_id, kept)]
    try:  # CONFIRM_CANCEL
        async with deps.uow() as uow:
            await cancel_deal(uow, deal.id, deps.clock.now())
            await uow.commit()
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    done = deps.texts.render(group_locale, "cancel_done", deal=deal)
    return [
        Answer(press.query_id, deps.texts.macro(locale, "labels", "cancelled_toast")),
        Edit(press.chat.id, press.message_id, done),
    ]


async def list_for_revealed_admin(deps: Deps, press: Press) -> list[Action]:
    """An anonymous admin pressed 'continue' under /list: the newest closed deal's list."""
    async with deps.uow() as uow:
        found = await uow.deals.for_community(press.chat.id, [DealStatus.CLOSED], 1)
    locale = deps.user_locale(press.sender)
    if not found:
        return [alert(deps, press.query_id, locale, DomainError("deal_not_closed"))]
    return await _send_list(deps, press, found[0], locale)


async def _send_list(deps: Deps, press: Press, deal: Deal, locale: str) -> list[Action]:
    async with deps.uow() as uow:
        user = await uow.users.get(press.sender.id)
    if user is None or not user.started:
        return [Answer(press.query_id, url=deps.deep_link(f"l_{deal.id}"))]
    docs = await documents(deps, deal, press.sender.id, locale)
    return [Answer(press.query_id, deps.texts.macro(locale, "labels", "sent_privately")), *docs]


async def _picked(deps: Deps, press: Press, deal: Deal, order_id: int, locale: str) -> list[Action]:
    async with deps.uow() as uow:
        order = await uow.orders.get(order_id)
        if order is None or order.deal_id != deal.id:
            return [alert(deps, press.query_id, locale, DomainError("stale_button"))]
        try:
            pickup = await mark_picked_up(uow, deal.community_id, order.code, deps.clock.now())
        except DomainError as error:
            return [alert(deps, press.query_id, locale, error)]
        await uow.commit()
    collected = (
        formatting.money(pickup.collected, deal.currency, locale) if pickup.collected else ""
    )
    text = deps.texts.macro(
        locale, "labels", "picked_toast", code=pickup.order.code, collected=collected
    )
    return [Answer(press.query_id, text)]


async def list_command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    """/list [deal id]: the newest closed deal of the group, sent to the leader privately."""
    chat_id = message.chat.id
    async with deps.uow() as uow:
        user = await remember(deps, uow, message.sender, private=message.chat.is_private)
        await uow.commit()
        locale = deps.user_locale(user)
        deal = await uow.deals.get(int(args)) if args.strip().isdigit() else None
        if deal is None and not message.chat.is_private:
            found = await uow.deals.for_community(chat_id, [DealStatus.CLOSED], 1)
            deal = found[0] if found else None
    if deal is None or deal.status is not DealStatus.CLOSED:
        return [Send(chat_id, deps.texts.render(locale, "list_none"))]
    if message.anonymous_admin:  # the list goes to a person: ask who, with a button
        keyboard = ((button(deps, locale, "continue_private", Callback(Op.LEADER, 0, 1)),),)
        return [Send(chat_id, deps.texts.render(locale, "anonymous_admin"), keyboard)]
    if not await deps.leaders.is_leader(deal.community_id, user.id):
        return [Send(chat_id, deps.texts.render(locale, "leaders_only"))]
    if not user.started:
        return [Send(chat_id, deps.texts.render(locale, "start_bot_first"))]
    actions = await documents(deps, deal, user.id, locale)
    if not message.chat.is_private:
        actions.insert(0, Send(chat_id, deps.texts.render(locale, "sent_privately")))
    return actions


async def pickup_command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    """/pickup CODE in the group (or in private, for the groups one leads): mark it handed out."""
    chat_id = message.chat.id
    async with deps.uow() as uow:
        user = await remember(deps, uow, message.sender, private=message.chat.is_private)
        await uow.commit()
    locale = deps.user_locale(user)
    if message.chat.is_private:
        # In private the code itself says which community: try those this person leads.
        communities = [c.chat_id for c in await led_communities(deps, user.id)]
        if not communities:
            return [Send(chat_id, deps.texts.render(locale, "pickup_in_group"))]
    elif not message.anonymous_admin and not await deps.leaders.is_leader(chat_id, user.id):
        return [Send(chat_id, deps.texts.render(locale, "leaders_only"))]
    else:  # an anonymous admin is an admin of this group, which is all /pickup needs
        communities = [chat_id]
    code = normalize_code(args)
    error: DomainError = DomainError("code_invalid")
    if code is not None:
        for community_id in communities:
            try:
                async with deps.uow() as uow:
                    pickup = await mark_picked_up(uow, community_id, code, deps.clock.now())
                    await uow.commit()
                    users = await uow.users.many([pickup.order.user_id])
                break
            except DomainError as refused:
                error = refused
        else:
            code = None
    if code is None:
        return [refusal(deps, chat_id, locale, error)]
    owner = users.get(pickup.order.user_id)
    return [
        Send(
            chat_id,
            deps.texts.render(
                locale,
                "picked_up",
                deal=pickup.deal,
                order=pickup.order,
                name=owner.display_name if owner else "",
                collected=pickup.collected,
            ),
        )
    ]


async def shortfall_command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    """/shortfall ITEM UNITS [DEAL]: fewer goods arrived than were sold in a closed deal."""
    chat_id = message.chat.id
    async with deps.uow() as uow:
        user = await remember(deps, uow, message.sender, private=message.chat.is_private)
        await uow.commit()
    locale = deps.user_locale(user)
    parts = args.split()
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        return [Send(chat_id, deps.texts.render(locale, "shortfall_usage"))]
    position, missing = int(parts[0]), int(parts[1])
    async with deps.uow() as uow:
        if len(parts) == 3:
            deal = await uow.deals.get(int(parts[2]))
        elif message.chat.is_private:
            deal = None
        else:
            found = await uow.deals.for_community(chat_id, [DealStatus.CLOSED], 1)
            deal = found[0] if found else None
    if deal is None:
        return [Send(chat_id, deps.texts.render(locale, "list_none"))]
    if message.anonymous_admin:
        allowed = not message.chat.is_private and deal.community_id == chat_id
    else:
        allowed = await deps.leaders.is_leader(deal.community_id, user.id)
    if not allowed:
        return [Send(chat_id, deps.texts.render(locale, "leaders_only"))]
    try:
        async with deps.uow() as uow:
            result = await record_shortfall(uow, deal.id, position, missing, deps.clock.now())
            await uow.commit()
    except DomainError as error:
        return [refusal(deps, chat_id, locale, error)]
    return [
        Send(chat_id, deps.texts.render(locale, "shortfall_recorded", deal=deal, result=result))
    ]
