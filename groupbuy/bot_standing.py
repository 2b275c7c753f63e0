"""The bot's standing in a community's group, and what changes with it.

Telegram says it with my_chat_member (kicked, left, restricted, an admin's rights taken or
given), and a 403 from the group says the same as a kick. While the bot may not post there,
nothing is sent to the group (the outbox holds what is owed to it, deal posts are not edited):
its deals stay open, and residents see and change their orders in private. The deals' leaders
are told once what happened and what to do; when the bot may post again, the posts are brought
up to date and what was held goes out.
"""

from __future__ import annotations

from datetime import datetime

from groupbuy.model import BotStatus, DealStatus
from groupbuy.notices import NoticeKind, to_leaders
from groupbuy.ports import UnitOfWork

OPEN_DEALS = 200  # a community's open deals, at most, whose leaders are told


async def bot_status_changed(
    uow: UnitOfWork, chat_id: int, status: BotStatus, now: datetime
) -> BotStatus | None:
    """Record the bot's standing; what it was before, or None when nothing changed (heard
    again, from the update and a 403 alike, or a group that is no community)."""
    was = await uow.communities.set_bot_status(chat_id, status)
    if was is None:
        return None
    deals = await uow.deals.for_community(chat_id, [DealStatus.OPEN], OPEN_DEALS)
    kind: NoticeKind | None = None
    if was.can_post and not status.can_post:
        kind = NoticeKind.BOT_REMOVED
    elif was is BotStatus.ADMINISTRATOR and status is BotStatus.MEMBER:
        kind = NoticeKind.BOT_DEMOTED
    elif not was.can_post and status.can_post:
        for deal in deals:  # edited again, to show what changed meanwhile
            await uow.deals.touch_post(deal.id)
        await uow.outbox.release_chat(chat_id, now)  # what was held for the group goes now
    if kind is not None:
        # Once per leader and per change (ref: when it happened), however it was heard.
        await uow.outbox.add(to_leaders(kind, deals, int(now.timestamp())), now)
    return was
