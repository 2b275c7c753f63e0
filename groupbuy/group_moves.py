"""A group Telegram moved to a new chat id: a basic group that became a supergroup.

Telegram does this by itself when a group passes 200 members, and when an admin turns on topics,
makes history visible or gives the group a public link; most compound groups go through it. The
old id is dead from then on (every call naming it is answered 400 with the new id), so the
community and everything addressed to it move at once, in one transaction; the deals' posts went
with the old chat and are posted again in the new one, and their leaders are told.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from groupbuy.notices import Notice, NoticeKind, deal_posted, to_leaders
from groupbuy.ports import UnitOfWork


async def move_group(uow: UnitOfWork, old: int, new: int, now: datetime) -> bool:
    """Move the community at `old` to `new`; False when there is none there (it moved already:
    Telegram announces a move in both chats, and the bot may learn it from a 400 first)."""
    repost = await uow.communities.move(old, new)
    if repost is None:
        return False
    # ref: the old id, so a group that moves twice (never, today) would be posted again twice.
    again = -old
    notices: list[Notice] = []
    deals = [deal for deal_id in repost if (deal := await uow.deals.get(deal_id)) is not None]
    for deal in deals:
        posted = deal_posted(deal.id, new, deal.photo_file_id is not None)
        notices += [replace(notice, ref=again) for notice in posted]
    notices += to_leaders(NoticeKind.GROUP_MOVED, deals, again)
    await uow.outbox.add(notices, now)
    return True
