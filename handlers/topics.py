"""A forum topic the bot posted deals in was closed or deleted: they go to General from now on
(bot.sender sent the message that found it there), and their leaders are told once."""

from __future__ import annotations

import logging
from dataclasses import replace

from groupbuy.notices import Notice, NoticeKind
from handlers.context import Deps

log = logging.getLogger(__name__)


async def on_topic_gone(deps: Deps, chat_id: int, thread_id: int) -> None:
    now = deps.clock.now()
    async with deps.uow() as uow:
        moved = await uow.deals.leave_topic(chat_id, thread_id)
        community = await uow.communities.get(chat_id)
        if community is not None and community.topic_id == thread_id:
            await uow.communities.save(replace(community, topic_id=None))
        leaders: dict[int, int] = {}
        for deal_id in moved:
            deal = await uow.deals.get(deal_id)
            if deal is not None:
                leaders.setdefault(deal.leader_id, deal.id)
        # Once per leader and topic (ref), however many messages found it closed.
        notices = [
            Notice(NoticeKind.TOPIC_GONE, leader, deal_id, leader, thread_id)
            for leader, deal_id in leaders.items()
        ]
        await uow.outbox.add(notices, now)
        # Not the effect of the update being handled, if any: its own commit carries that.
        await uow.commit(mark=False)
    if moved or (community is not None and community.topic_id == thread_id):
        log.info(
            "group %s: topic %s is closed or gone; its deals go to General", chat_id, thread_id
        )
