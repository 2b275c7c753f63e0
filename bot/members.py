"""Who is a member of a group: what a resident's button or link needs (joining a deal, reading
it). Learnt from what Telegram shows the bot (a press or command in a private group comes from a
member; chat_member updates) and otherwise asked with getChatMember, remembered for a while.

A person is asked about at most once per `stranger_seconds` per group, answered or not; a group
Telegram failed to answer about, or that the bot is no longer in (a 403), is not asked about for
anyone until its hold is over (bot.lookups)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from bot.lookups import Outages, is_an_answer
from groupbuy.clock import Clock
from groupbuy.errors import NotAnswered
from groupbuy.transaction_guard import refuse_inside
from handlers.outgoing import Blocked

log = logging.getLogger(__name__)
MemberFetcher = Callable[[int, int], Awaitable[bool]]
_MAX_KEPT = 100_000  # (group, person) pairs; the oldest go first (one getChatMember to relearn)
GONE_SECONDS = 60.0  # a group that answered 403 (the bot is not in it) is not asked for this long


class CachedMembers:
    def __init__(
        self,
        fetch: MemberFetcher,
        clock: Clock,
        member_seconds: float = 600.0,
        stranger_seconds: float = 30.0,
    ) -> None:
        self._fetch = fetch
        # A member is remembered longer than a stranger: someone who just joined the group
        # should not wait ten minutes to be let in.
        self._ttl = {True: member_seconds, False: stranger_seconds}
        self._outages = Outages(clock)
        self._gone: dict[int, float] = {}  # groups that answered 403, until when
        # (group, person): when last asked or learnt, and the answer (None: not answered)
        self._known: OrderedDict[tuple[int, int], tuple[float, bool | None]] = OrderedDict()

    def known(self, chat_id: int, user_id: int) -> bool | None:
        """What we know without asking Telegram; None when we would have to ask."""
        hit = self._known.get((chat_id, user_id))
        if hit is None:
            return None
        at, member = hit
        if member is None or self._now() - at > self._ttl[member]:
            return None
        return member

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        """Whether the person is in the group; NotAnswered when Telegram could not say."""
        refuse_inside("getChatMember")
        member = self.known(chat_id, user_id)
        if member is not None:
            return member
        now = self._now()
        if self._gone.get(chat_id, -float("inf")) > now:
            return False  # the bot is not in that group: nobody can be let in through it
        hit = self._known.get((chat_id, user_id))
        if self._outages.holds(chat_id) or (hit is not None and now - hit[0] < self._ttl[False]):
            raise NotAnswered()  # failed lately: not asked again yet
        try:
            member = await self._fetch(chat_id, user_id)
        except Exception as error:
            if not is_an_answer(error):
                log.warning("member of %s: Telegram did not answer (%s)", chat_id, error)
                self._outages.failed(chat_id, error)
                self._remember(chat_id, user_id, now, None)
                raise NotAnswered() from error
            if isinstance(error, Blocked):
                # The bot is not in the group: said of the group, not of this person.
                self._gone[chat_id] = now + GONE_SECONDS
                return False
            member = False
        self._outages.answered(chat_id)
        self._remember(chat_id, user_id, now, member)
        return member

    def note(self, chat_id: int, user_id: int, member: bool) -> None:
        self._remember(chat_id, user_id, self._now(), member)

    def back_in(self, chat_id: int) -> None:
        """The bot was added to the group again."""
        self._gone.pop(chat_id, None)

    def moved(self, old: int, new: int) -> None:
        """The group moved to a new chat id (it became a supergroup): same people."""
        for (chat_id, user_id), (at, member) in list(self._known.items()):
            if chat_id == old:
                self._remember(new, user_id, at, member)

    def _remember(self, chat_id: int, user_id: int, at: float, member: bool | None) -> None:
        key = (chat_id, user_id)
        self._known[key] = (at, member)
        self._known.move_to_end(key)
        if len(self._known) > _MAX_KEPT:
            self._known.popitem(last=False)

    def _now(self) -> float:
        return self._outages.now()
