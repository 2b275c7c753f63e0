"""Who may act on what: the one place a button, a deep link or a command gets at a community's data.

Every id they carry is only a pointer. It is resolved here from the database and checked twice:
(a) the object belongs to what the button names (a refund to its deal, a deal to the group the
press came from), and (b) the person may act on that community: a leader op needs an admin of
*that* deal's group, a resident op a member of it (or the resident's own order, or a deal its
leader opened to anyone with the link). A refusal is a DomainError naming the reason; nothing has
changed and nothing is sent into a group. Telegram is asked (getChatAdministrators,
getChatMember) only here, and never inside a unit of work. See docs/security.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from groupbuy.errors import DomainError, NotAllowed
from groupbuy.model import Community, Deal, Order
from groupbuy.ports import UnitOfWork
from handlers.context import Deps
from handlers.events import Chat, MessageIn, Person, Press


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks, and from where: the chat a press or command came from matters (a group's
    buttons act on that group's deals only)."""

    person: Person
    chat: Chat
    anonymous_admin: bool = False  # a group admin writing as the group itself

    @classmethod
    def of(cls, event: MessageIn | Press) -> Caller:
        anonymous = isinstance(event, MessageIn) and event.anonymous_admin
        return cls(event.sender, event.chat, anonymous)

    @classmethod
    def in_private(cls, person: Person) -> Caller:
        return cls(person, Chat(person.id, "private"))


class MustAsk(Exception):
    """Only Telegram can say whether the caller is a member of this deal's group: ask it outside
    the unit of work (`confirm_member`), then try again."""

    def __init__(self, deal: Deal) -> None:
        super().__init__(deal.id)
        self.deal = deal


class Intent(Enum):
    """What a resident's op does with the deal it names."""

    JOIN = "join"  # takes stock: Join, +1, a join link
    SEE = "see"  # their view of the deal and of their own order: My order, an order link
    CHANGE = "change"  # their own order: −1, cancel, "I have paid"


def unknown_deal(caller: Caller, deal_id: int, *, leading: bool) -> DomainError:
    """The refusal for a deal that does not exist *and* for one the caller has no standing in:
    the same words both ways, so a stranger cannot tell which ids exist, or whose they are."""
    if not caller.chat.is_private:
        return NotAllowed("deal_not_in_group", deal=deal_id)
    if leading:
        return NotAllowed("deal_not_led", deal=deal_id)
    return NotAllowed("deal_not_open_to_you", deal=deal_id)


def _other_group(caller: Caller, community_id: int) -> bool:
    """A press or command in a group acts on that group's deals only: a forged button naming
    another group's deal must not let the bot speak there or here about it."""
    return not caller.chat.is_private and caller.chat.id != community_id


# --- leaders ------------------------------------------------------------------------------------


async def may_lead(deps: Deps, caller: Caller, community_id: int) -> None:
    """The caller administers this community's group, or refused."""
    if caller.anonymous_admin:
        # Telegram shows a message as the group only when one of its admins sent it: that is
        # enough for the group's own data, and for nothing else.
        if caller.chat.id != community_id:
            raise NotAllowed("leaders_only")
        return
    if caller.chat.is_private:
        # In private nothing ties the person to the group but the bot's own record of its
        # admins (kept from every list Telegram gave and every chat_member update): someone
        # not in it is refused without asking Telegram, whatever group or deal they name.
        async with deps.uow() as uow:
            recorded = await uow.communities.records_admin(community_id, caller.person.id)
        if not recorded:
            raise NotAllowed("leaders_only")
    if not await deps.leaders.is_leader(community_id, caller.person.id):
        raise NotAllowed("leaders_only")


Acted = TypeVar("Acted")


async def as_leader(
    deps: Deps,
    caller: Caller,
    deal_id: int,
    act: Callable[[UnitOfWork, Deal], Awaitable[Acted]],
) -> Acted:
    """Run a leader's `act` on the deal in the unit of work that read and checked it: nothing
    can change between the check and the act. Whether the caller leads the deal's group comes
    from the admin cache; when only Telegram can say, the unit of work is left, Telegram asked,
    and the whole tried once more with that answer."""
    answer: bool | None = None
    while True:
        async with deps.uow() as uow:
            deal = await uow.deals.get(deal_id)
            if deal is None or _other_group(caller, deal.community_id):
                raise unknown_deal(caller, deal_id, leading=True)
            if caller.chat.is_private and not await uow.communities.records_admin(
                deal.community_id, caller.person.id
            ):
                raise unknown_deal(caller, deal_id, leading=True)
            if caller.anonymous_admin:
                leads: bool | None = True  # the group itself wrote, in its own group (above)
            elif answer is not None:
                leads = answer
            else:
                leads = deps.leaders.known(deal.community_id, caller.person.id)
            if leads is True:
                return await act(uow, deal)
            if leads is False:
                raise NotAllowed("leaders_only")
            community_id = deal.community_id
        answer = await deps.leaders.is_leader(community_id, caller.person.id)


async def _as_read(uow: UnitOfWork, deal: Deal) -> Deal:
    return deal


async def leader_deal(deps: Deps, caller: Caller, deal_id: int) -> Deal:
    """The deal, checked as `as_leader` checks it, for a leader op that only reads (a list)."""
    return await as_leader(deps, caller, deal_id, _as_read)


async def leader_group(deps: Deps, caller: Caller) -> Community:
    """The community of the group a leader command or button was used in."""
    if caller.chat.is_private:
        raise DomainError("in_group_only")
    async with deps.uow() as uow:
        community = await uow.communities.get(caller.chat.id)
    if community is None:
        raise DomainError("community_unknown")
    await may_lead(deps, caller, community.chat_id)
    return community


async def led_communities(deps: Deps, person: Person) -> list[Community]:
    """The set-up communities this person leads, for a command in private. Found in the bot's
    own record of admins, so a stranger costs no Telegram call whatever the number of groups;
    each group found is then confirmed (a cached admin list, refreshed when stale)."""
    async with deps.uow() as uow:
        recorded = await uow.communities.led_by(person.id)
    led: list[Community] = []
    unanswered: DomainError | None = None
    for community in recorded:
        try:
            if await deps.leaders.is_leader(community.chat_id, person.id):
                led.append(community)
        except DomainError as error:  # Telegram could not say for this group
            unanswered = error
    if not led and unanswered is not None:
        raise unanswered  # the real reason, not "you lead no group"
    return led


# --- residents ----------------------------------------------------------------------------------


def check_resident(
    deps: Deps, caller: Caller, deal: Deal, intent: Intent, order: Order | None
) -> None:
    """May the caller act as a resident on this deal? Answered without a network call, so it can
    run inside the press's unit of work: returns (yes), raises NotAllowed (no), or MustAsk.

    `order`: the caller's order in this deal, if any, which is theirs to see, reduce, cancel
    and pay whatever their membership now."""
    if _other_group(caller, deal.community_id):
        raise unknown_deal(caller, deal.id, leading=False)
    if caller.chat.members_only:
        return  # the press came from the deal's own group, which only members can read
    if intent is Intent.JOIN and deal.open_link:
        return  # the leader opened this deal to anyone with the link
    if intent is not Intent.JOIN and order is not None:
        return
    known = deps.members.known(deal.community_id, caller.person.id)
    if known is None and caller.chat.is_private:
        # In private, only what the bot saw ties the person to the group (a press or message
        # there, a lookup made when they pressed on the group's post): without it they are
        # refused like a stranger, and cost no call whatever deal they name.
        raise unknown_deal(caller, deal.id, leading=False)
    if known is None:
        raise MustAsk(deal)
    if not known:
        raise unknown_deal(caller, deal.id, leading=False)


async def confirm_member(deps: Deps, caller: Caller, deal: Deal) -> None:
    """Ask Telegram (remembered for a while): refused unless the person is in the group."""
    if not await deps.members.is_member(deal.community_id, caller.person.id):
        raise unknown_deal(caller, deal.id, leading=False)


async def resident_deal(deps: Deps, caller: Caller, deal_id: int, intent: Intent) -> Deal:
    """The deal a resident's button or link points at, once the caller may act on it."""
    async with deps.uow() as uow:
        deal = await uow.deals.get(deal_id)
        order = await uow.orders.of_user(deal.id, caller.person.id) if deal else None
    if deal is None:
        raise unknown_deal(caller, deal_id, leading=False)
    try:
        check_resident(deps, caller, deal, intent, order)
    except MustAsk:
        await confirm_member(deps, caller, deal)
    return deal
