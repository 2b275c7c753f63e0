"""The bot's standing in a group (groupbuy.bot_standing), heard from my_chat_member or from a
403 when it wrote there: the same change either way, recorded once."""

from __future__ import annotations

import logging

from groupbuy.bot_standing import bot_status_changed
from groupbuy.model import BotStatus
from handlers.actions import Action
from handlers.context import Deps
from handlers.events import BotStanding

log = logging.getLogger(__name__)


async def on_bot_standing(deps: Deps, event: BotStanding) -> list[Action]:
    """Kicked, left, muted, or an admin's rights taken or given (my_chat_member)."""
    async with deps.uow() as uow:
        was = await bot_status_changed(uow, event.chat.id, event.status, deps.clock.now())
        await uow.commit()
    if was is not None:
        log.info("group %s: the bot is now %s (was %s)", event.chat.id, event.status, was)
    return []  # the leaders' notices are in the outbox; nothing can go to the group now


async def on_forbidden_answer(deps: Deps, chat_id: int, status: BotStatus) -> None:
    """Telegram answered a call to the group with 403 (bot.sender): the bot is not in it; or
    400 "not enough rights": it is muted there."""
    async with deps.uow() as uow:
        was = await bot_status_changed(uow, chat_id, status, deps.clock.now())
        # Not the effect of the update being handled, if any: its own commit carries that.
        await uow.commit(mark=False)
    if was is not None:  # said once, in one line; what is owed to the group waits
        log.warning(
            "group %s: the bot may not write there (%s); held until it may", chat_id, status
        )
