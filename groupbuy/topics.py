"""Forum topics: where a community's deals are posted, and what happens when a topic goes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from groupbuy.notices import NoticeKind, to_leaders
from groupbuy.ports import UnitOfWork


async def leave_topic(uow: UnitOfWork, chat_id: int, thread_id: int, now: datetime) -> bool:
    """The topic was closed or deleted: its deals, and the community's default if it was this
    topic, go to General; their leaders are told once per topic (ref), however many messages
    found it gone. Whether anything moved."""
    moved = await uow.deals.leave_topic(chat_id, thread_id)
    community = await uow.communities.get(chat_id)
    default = community is not None and community.topic_id == thread_id
    if community is not None and default:
        await uow.communities.save(replace(community, topic_id=None))
    deals = [deal for deal_id in moved if (deal := await uow.deals.get(deal_id)) is not None]
    await uow.outbox.add(to_leaders(NoticeKind.TOPIC_GONE, deals, thread_id), now)
    return bool(moved) or default
