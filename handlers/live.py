"""The messages kept current (groupbuy.live): recorded once sent, and drawn again as they should
look now when what they show changed."""

from __future__ import annotations

from groupbuy.live import LiveKind, StaleMessage, fingerprint
from groupbuy.payments import standing
from handlers import ledger, pickup_list
from handlers.actions import Edit, Send
from handlers.context import Deps
from handlers.my_order import order_keyboard, order_text, where_of


async def record(deps: Deps, action: Send | Edit, message_id: int) -> list[int]:
    """`action` went out as `message_id` showing its `live`; the ids of the messages it
    replaces (a resident's older order cards for the deal) come back, to be deleted."""
    assert action.live is not None
    async with deps.uow() as uow:
        replaced = await uow.live.record(
            action.live,
            action.chat_id,
            message_id,
            fingerprint(action.text, action.keyboard),
            deps.clock.now(),
        )
        await uow.commit(mark=False)  # the record of a message already out: may be done twice
    return replaced


async def redrawn(deps: Deps, message: StaleMessage) -> Edit | None:
    """The message as it should look now; None when there is nothing left to show (the deal
    or the person is gone): it is then no longer kept."""
    if message.kind is LiveKind.CARD:
        return await _card(deps, message)
    if message.kind is LiveKind.CHECKLIST:
        return await pickup_list.redrawn_checklist(deps, message)
    return await ledger.redrawn_summary(deps, message)


async def _card(deps: Deps, message: StaleMessage) -> Edit | None:
    resident = message.subjects[0]
    async with deps.uow() as uow:
        deal = await uow.deals.get(message.deal_id)
        if deal is None:
            return None
        community = await uow.communities.get(deal.community_id)
        user = await uow.users.get(resident)
        if community is None or user is None:
            return None
        order = await uow.orders.of_user(deal.id, resident)
        money = await standing(uow, deal, order) if order else None
        where = await where_of(uow, deal, deps.clock.now())
    locale = deps.user_locale(user)
    return Edit(
        message.chat_id,
        message.message_id,
        order_text(deps, locale, deal, order, community, money, where),
        order_keyboard(deps, locale, deal, order, money, community, where),
    )
