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

from groupbuy import parsing
from groupbuy.errors import DomainError, NotAllowed, NotAnswered
from groupbuy.model import Community, Deal, DealStatus, Order, Resident
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


Acted = TypeVar("Acted")
Found = TypeVar("Found")


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


async def _leads(
    deps: Deps,
    uow: UnitOfWork,
    caller: Caller,
    community_id: int,
    answer: bool | None,
    refused: DomainError,
) -> bool:
    """Inside the unit of work that acts: True when the caller leads the community; raises
    `refused` (where the caller has no standing at all) or leaders_only; False when only
    Telegram can say (`answer`: what it said, once asked)."""
    if _other_group(caller, community_id):
        raise refused
    if caller.anonymous_admin:
        # Telegram shows a message as the group only when one of its admins sent it: that is
        # enough for the group's own data (checked above), and for nothing else.
        return True
    if caller.chat.is_private and not await uow.communities.records_admin(
        community_id, caller.person.id
    ):
        # In private nothing ties the person to the group but the bot's own record of its
        # admins (kept from every list Telegram gave and every chat_member update): someone
        # not in it is refused without asking Telegram, whatever group or deal they name.
        raise refused
    leads = answer if answer is not None else deps.leaders.known(community_id, caller.person.id)
    if leads is False:
        raise NotAllowed("leaders_only")
    return leads is True


async def as_group_leader(
    deps: Deps,
    caller: Caller,
    community_id: int,
    act: Callable[[UnitOfWork], Awaitable[Acted]],
) -> Acted:
    """Run `act` in the unit of work that checked the caller leads this community's group.
    Whether they lead comes from the admin cache; when only Telegram can say, the unit of work
    is left, Telegram asked (never inside one), and the whole tried again with that answer."""
    answer: bool | None = None
    while True:
        async with deps.uow() as uow:
            refused = NotAllowed("leaders_only")
            if await _leads(deps, uow, caller, community_id, answer, refused):
                return await act(uow)
        answer = await deps.leaders.is_leader(community_id, caller.person.id)


async def as_leader(
    deps: Deps,
    caller: Caller,
    deal_id: int,
    act: Callable[[UnitOfWork, Deal], Awaitable[Acted]],
) -> Acted:
    """Run a leader's `act` on the deal in the unit of work that read and checked it: nothing
    can change between the check and the act. Telegram is asked as in `as_group_leader`."""
    answer: bool | None = None
    while True:
        async with deps.uow() as uow:
            deal = await uow.deals.get(deal_id)
            refused = unknown_deal(caller, deal_id, leading=True)
            if deal is None:
                raise refused
            if await _leads(deps, uow, caller, deal.community_id, answer, refused):
                return await act(uow, deal)
            community_id = deal.community_id
        answer = await deps.leaders.is_leader(community_id, caller.person.id)


async def as_leader_of_group(
    deps: Deps, caller: Caller, act: Callable[[UnitOfWork, Community], Awaitable[Acted]]
) -> Acted:
    """`act` on the community of the group a leader command or button was used in, checked
    as `as_group_leader` checks it, in the same unit of work."""
    if caller.chat.is_private:
        raise DomainError("in_group_only")

    async def with_community(uow: UnitOfWork) -> Acted:
        community = await uow.communities.get(caller.chat.id)
        if community is None:
            raise DomainError("community_unknown")
        return await act(uow, community)

    return await as_group_leader(deps, caller, caller.chat.id, with_community)


async def as_leader_named(
    deps: Deps,
    caller: Caller,
    args: str,
    statuses: list[DealStatus],
    act: Callable[[UnitOfWork, Deal | None], Awaitable[Acted]],
) -> Acted:
    """`act` on the deal a leader command names by number ('/list 12'), checked as `as_leader`
    checks it; without a number, on the newest deal in `statuses` of the group it is used in
    (None when there is none, or in private, where no group is meant)."""
    if args.strip():
        return await as_leader(deps, caller, parsing.object_id(args, key="deal"), act)
    if caller.chat.is_private:
        async with deps.uow() as uow:
            return await act(uow, None)

    async def newest(uow: UnitOfWork, community: Community) -> Acted:
        found = await uow.deals.for_community(community.chat_id, statuses, 1)
        return await act(uow, found[0] if found else None)

    return await as_leader_of_group(deps, caller, newest)


async def _nothing(uow: UnitOfWork) -> None:
    return None


async def may_lead(deps: Deps, caller: Caller, community_id: int) -> None:
    """The caller administers this community's group, or refused: for a step that only opens
    a dialog, whose effect (publish, save) is checked again where it acts."""
    await as_group_leader(deps, caller, community_id, _nothing)


async def _as_read(uow: UnitOfWork, found: Found) -> Found:
    return found


async def leader_deal(deps: Deps, caller: Caller, deal_id: int) -> Deal:
    """The deal, checked as `as_leader` checks it, for a leader op that only reads (a list)."""
    return await as_leader(deps, caller, deal_id, _as_read)


async def leader_named(
    deps: Deps, caller: Caller, args: str, statuses: list[DealStatus]
) -> Deal | None:
    """`as_leader_named`'s deal, for a leader command that only reads (a list, /payments)."""
    return await as_leader_named(deps, caller, args, statuses, _as_read)


async def leader_group(deps: Deps, caller: Caller) -> Community:
    """The community of the group a leader command or button was used in, for one that only
    reads."""
    return await as_leader_of_group(deps, caller, _as_read)


async def order_of(uow: UnitOfWork, deal: Deal, order_id: int) -> Order:
    """An order a button names, of the deal the caller was checked against: an order of
    another deal is a forged button."""
    order = await uow.orders.get(order_id)
    if order is None or order.deal_id != deal.id:
        raise DomainError("stale_button")
    return order


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
    deps: Deps,
    caller: Caller,
    deal: Deal,
    intent: Intent,
    order: Order | None,
    member: bool | None = None,
) -> None:
    """May the caller act as a resident on this deal? Answered without a network call, inside
    the unit of work that acts: returns (yes), raises NotAllowed (no), or MustAsk.

    `order`: the caller's order in this deal, if any, which is theirs to see, reduce, cancel
    and pay whatever their membership now. `member`: Telegram's answer, once asked."""
    if _other_group(caller, deal.community_id):
        raise unknown_deal(caller, deal.id, leading=False)
    if caller.chat.members_only:
        return  # the press came from the deal's own group, which only members can read
    if intent is Intent.JOIN and deal.open_link:
        return  # the leader opened this deal to anyone with the link
    if intent is not Intent.JOIN and order is not None:
        return
    known = member
    if known is None:
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


async def as_resident(
    deps: Deps,
    caller: Caller,
    deal_id: int,
    intent: Intent,
    act: Callable[[UnitOfWork, Deal], Awaitable[Acted]],
    *,
    grouped: bool = False,
) -> Acted:
    """Run a resident's `act` on the deal in the unit of work that read and checked it.
    `grouped`: through `deps.write` (a press's change: group commit on SQLite). When only
    Telegram can say whether the caller is in the deal's group, the unit of work is left,
    Telegram asked (getChatMember, remembered), and the whole tried again with its answer."""

    async def without_home(uow: UnitOfWork, deal: Deal, _home: Resident | None) -> Acted:
        return await act(uow, deal)

    return await _as_resident(deps, caller, deal_id, intent, without_home, grouped, home=False)


async def as_resident_at_home(
    deps: Deps,
    caller: Caller,
    deal_id: int,
    intent: Intent,
    act: Callable[[UnitOfWork, Deal, Resident | None], Awaitable[Acted]],
    *,
    grouped: bool = False,
) -> Acted:
    """`as_resident`, and `act` is given where the caller lives in the deal's community (None:
    no profile there yet), read with the deal in one statement (a join needs both)."""
    return await _as_resident(deps, caller, deal_id, intent, act, grouped, home=True)


async def _as_resident(
    deps: Deps,
    caller: Caller,
    deal_id: int,
    intent: Intent,
    act: Callable[[UnitOfWork, Deal, Resident | None], Awaitable[Acted]],
    grouped: bool,
    *,
    home: bool,
) -> Acted:
    member: bool | None = None

    async def checked(uow: UnitOfWork) -> Acted:
        resident: Resident | None = None
        if home:
            found = await uow.deals.get_for(deal_id, caller.person.id)
            deal, resident = found if found is not None else (None, None)
        else:
            deal = await uow.deals.get(deal_id)
        if deal is None:
            raise unknown_deal(caller, deal_id, leading=False)
        # A press in the deal's own (members-only) group settles it without a statement.
        mine = (
            await uow.orders.of_user(deal.id, caller.person.id)
            if intent is not Intent.JOIN
            and not caller.chat.members_only
            and not _other_group(caller, deal.community_id)
            else None
        )
        check_resident(deps, caller, deal, intent, mine, member)
        return await act(uow, deal, resident)

    while True:
        try:
            if grouped:
                return await deps.write(checked)
            async with deps.uow() as uow:
                return await checked(uow)
        except MustAsk as ask:
            if member is not None:  # asked, and still unsure: refuse rather than trust
                raise NotAnswered() from None
            member = await deps.members.is_member(ask.deal.community_id, caller.person.id)
            if not member:
                raise unknown_deal(caller, deal_id, leading=False) from None


async def resident_deal(deps: Deps, caller: Caller, deal_id: int, intent: Intent) -> Deal:
    """The deal a resident's link points at, once the caller may act on it: for a step that
    only opens a dialog (the profile before a join), whose join is checked again as it acts."""
    return await as_resident(deps, caller, deal_id, intent, _as_read)
