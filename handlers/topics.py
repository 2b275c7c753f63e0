"""A forum topic the bot posted deals in was closed or deleted (bot.sender found it when a
message met TOPIC_CLOSED or the like, and sends it to General): groupbuy.topics."""

from __future__ import annotations

import logging

from groupbuy.topics import leave_topic
from handlers.context import Deps

log = logging.getLogger(__name__)


async def on_topic_gone(deps: Deps, chat_id: int, thread_id: int) -> None:
    async with deps.uow() as uow:
        moved = await leave_topic(uow, chat_id, thread_id, deps.clock.now())
        # Not the effect of the update being handled, if any: its own commit carries that.
        await uow.commit(mark=False)
    if moved:
        log.info(
            "group %s: topic %s is closed or gone; its deals go to General", chat_id, thread_id
        )
