"""Turning an outbox notice into the message it owes, in its recipient's language."""

from __future__ import annotations

from groupbuy.notices import NoticeKind, PendingNotice
from handlers.actions import Keyboard, Send
from handlers.callbacks import Callback, Op
from handlers.common import button
from handlers.context import Deps
from handlers.my_order import order_lines

_GROUP = {
    NoticeKind.DEADLINE_REMINDER,
    NoticeKind.DEAL_CLOSED,
    NoticeKind.DEAL_FAILED,
    NoticeKind.DEAL_CANCELLED,
}


async def render(deps: Deps, pending: PendingNotice) -> Send | None:
    """None when there is nothing left to say (the deal or order is gone)."""
    notice = pending.notice
    async with deps.uow() as uow:
        deal = await uow.deals.get(notice.deal_id)
        if deal is None:
            return None
        community = await uow.communities.get(deal.community_id)
        if community is None:
            return None
        if notice.kind in _GROUP:
            stats = await uow.deals.stats(deal.id)
            locale = deps.community_locale(community)
            keyboard: Keyboard = ()
            if notice.kind is NoticeKind.DEADLINE_REMINDER:
                keyboard = ((button(deps, locale, "my_order", Callback(Op.MINE, deal.id)),),)
            text = deps.texts.render(
                locale, f"notice_{notice.kind.value}", deal=deal, stats=stats, tz=community.timezone
            )
            return Send(notice.chat_id, text, keyboard)
        user = await uow.users.get(notice.user_id or notice.chat_id)
        order = await uow.orders.of_user(deal.id, notice.user_id or notice.chat_id)
    locale = deps.user_locale(user)
    if order is None:
        return None
    text = deps.texts.render(
        locale,
        f"notice_{notice.kind.value}",
        deal=deal,
        order=order,
        lines=order_lines(deal, order),
        total=order.amount(deal),
        tz=community.timezone,
    )
    return Send(notice.chat_id, text)
