"""A group Telegram moved to a new chat id (groupbuy.group_moves), heard from its service
messages or from a 400 naming the new id: the same move, done once whichever comes first."""

from __future__ import annotations

import logging

from groupbuy.group_moves import move_group
from handlers.actions import Action
from handlers.context import Deps
from handlers.events import GroupMoved

log = logging.getLogger(__name__)


async def on_group_moved(deps: Deps, event: GroupMoved) -> list[Action]:
    """The service message, in either chat, as often as Telegram sends it."""
    async with deps.uow() as uow:
        moved = await move_group(uow, event.old_chat_id, event.new_chat_id, deps.clock.now())
        await uow.commit()
    if moved:
        _moved_in_memory(deps, event.old_chat_id, event.new_chat_id)
    return []  # the leaders' notices and the posts again are in the outbox


async def on_moved_answer(deps: Deps, old: int, new: int) -> None:
    """Telegram answered a call naming the old id with 400 and the new id (bot.sender)."""
    async with deps.uow() as uow:
        moved = await move_group(uow, old, new, deps.clock.now())
        # Not the effect of the update being handled, if any: its own commit carries that.
        await uow.commit(mark=False)
    if moved:
        _moved_in_memory(deps, old, new)


def _moved_in_memory(deps: Deps, old: int, new: int) -> None:
    log.info("group %s became %s: moved", old, new)
    deps.leaders.forget(old)
    deps.members.moved(old, new)
