"""What the bot says when someone is lost: /help for their role, an unknown command, a leader
command in private that needs a deal's number."""

from __future__ import annotations

from groupbuy.errors import DomainError
from groupbuy.model import DealStatus, User
from handlers.actions import Send
from handlers.authority import led_communities
from handlers.context import Deps
from handlers.events import MessageIn

RECENT_DEALS = 8  # deals listed under "which deal?"


async def _leads(deps: Deps, message: MessageIn) -> bool:
    """Whether to show the leaders' commands: in a group, to its admins (the cached list); in
    private, to someone the bot has on record as a leader of a group (no Telegram call)."""
    if not message.chat.is_private:
        try:
            return await deps.leaders.is_leader(message.chat.id, message.sender.id)
        except DomainError:  # Telegram could not say: the residents' help is still right
            return False
    async with deps.uow() as uow:
        return bool(await uow.communities.led_by(message.sender.id))


async def help_for(deps: Deps, message: MessageIn, user: User, unknown: str = "") -> Send:
    """/help, or the answer to a command the bot does not know (`unknown`, in private)."""
    leader = await _leads(deps, message)
    text = deps.texts.render(deps.user_locale(user), "help", leader=leader, unknown=unknown)
    return Send(message.chat.id, text, personal=True)


async def which_deal(deps: Deps, message: MessageIn, user: User, command: str) -> Send:
    """A leader command sent in private without a deal's number: how to name one, and the
    numbers of the deals of the groups they lead."""
    try:
        # Confirmed against each group's admins now (cached): the bot's own record may still name
        # someone who is no longer a leader there, and the titles are the group's business.
        led = await led_communities(deps, message.sender)
    except DomainError:  # Telegram could not say: how to name a deal, without the list
        led = []
    deals = []
    async with deps.uow() as uow:
        for community in led:
            deals += await uow.deals.for_community(community.chat_id, list(DealStatus), 5)
    deals.sort(key=lambda d: d.id, reverse=True)
    text = deps.texts.render(
        deps.user_locale(user), "which_deal", command=command, deals=deals[:RECENT_DEALS]
    )
    return Send(message.chat.id, text)
