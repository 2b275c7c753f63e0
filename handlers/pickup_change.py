"""/pickuptime and /pickupplace: a leader moves a closed deal's pickup after the close.

    /pickuptime Sat 18:00-19:00          in the group: its newest closed deal
    /pickupplace #12 Building 3 lobby    in private (or the group): deal #12

The deal is named with '#' because a time or a place may start with a number ("9 Dec 18:00",
"3号楼大堂"). Checked as every leader command is (handlers.authority.as_leader_named); the
change and its notices are one transaction (groupbuy.pickup_changes)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from groupbuy import limits, parsing
from groupbuy.errors import DomainError
from groupbuy.model import Deal, DealStatus, PickupChange
from groupbuy.pickup_changes import change_pickup
from groupbuy.ports import UnitOfWork
from handlers.actions import Action, Send
from handlers.authority import Caller, as_leader_named
from handlers.common import refusal, remembered
from handlers.context import Deps
from handlers.events import MessageIn

_NUMBERED = re.compile(r"^#\s*(?P<deal>[0-9]+)\s*(?P<rest>.*)$", re.S)

Moved = tuple[Deal, PickupChange, int]


def numbered(args: str) -> tuple[str, str]:
    """'#12 rest' → ('12', 'rest'); without '#', no number and the whole text."""
    found = _NUMBERED.match(args.strip())
    return (found["deal"], found["rest"]) if found else ("", args)


async def time_command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    return await _move(deps, message, args, time=True)


async def place_command(deps: Deps, message: MessageIn, args: str) -> list[Action]:
    return await _move(deps, message, args, time=False)


async def _move(deps: Deps, message: MessageIn, args: str, *, time: bool) -> list[Action]:
    chat_id = message.chat.id
    user = await remembered(deps, message.sender, private=message.chat.is_private)
    locale = deps.user_locale(user)
    number, text = numbered(args)
    if not text.strip() or (message.chat.is_private and not number):
        return [Send(chat_id, deps.texts.render(locale, "pickup_change_usage"), personal=True)]
    now = deps.clock.now()

    async def act(uow: UnitOfWork, deal: Deal | None) -> Moved | None:
        if deal is None:
            return None
        community = await uow.communities.get(deal.community_id)
        tz = ZoneInfo(community.timezone if community else "UTC")
        if time:
            window = parsing.bounded_text(text, limits.WINDOW_MAX, key="window")
            change, told = await change_pickup(uow, deal, now, user.id, tz, window=window)
        else:
            place = parsing.bounded_text(text, limits.PLACE_MAX, key="pickup")
            change, told = await change_pickup(uow, deal, now, user.id, tz, place=place)
        await uow.commit()
        return deal, change, told

    try:
        moved = await as_leader_named(deps, Caller.of(message), number, [DealStatus.CLOSED], act)
    except DomainError as error:
        return [refusal(deps, chat_id, locale, error)]
    if moved is None:
        return [Send(chat_id, deps.texts.render(locale, "list_none"), personal=True)]
    deal, change, told = moved
    done = deps.texts.render(locale, "pickup_change_done", deal=deal, change=change, count=told)
    return [Send(chat_id, done, personal=True)]
