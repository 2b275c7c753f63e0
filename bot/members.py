"""Who is a member of a group: what a resident's button or link needs (joining a deal, reading
it). Learnt from what Telegram shows the bot (a press or command in a private group comes from a
member; chat_member updates) and otherwise asked with getChatMember, remembered for a while."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable

from groupbuy.clock import Clock
from groupbuy.transaction_guard import refuse_inside

MemberFetcher = Callable[[int, int], Awaitable[bool]]
_MAX_KEPT = 100_000  # (group, person) pairs; the oldest go first (one getChatMember to relearn)


class CachedMembers:
    def __init__(
        self,
        fetch: MemberFetcher,
        clock: Clock,
        member_seconds: float = 600.0,
        stranger_seconds: float = 30.0,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        # A member is remembered longer than a stranger: someone who just joined the group
        # should not wait ten minutes to be let in.
        self._ttl = {True: member_seconds, False: stranger_seconds}
        self._known: OrderedDict[tuple[int, int], tuple[float, bool]] = OrderedDict()

    def known(self, chat_id: int, user_id: int) -> bool | None:
        """What we know without asking Telegram; None when we would have to ask."""
        hit = self._known.get((chat_id, user_id))
        if hit is None:
            return None
        at, member = hit
        if self._now() - at > self._ttl[member]:
            return None
        return member

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        refuse_inside("getChatMember")
        member = self.known(chat_id, user_id)
        if member is not None:
            return member
        try:
            member = await self._fetch(chat_id, user_id)
        except Exception:
            return False  # we cannot ask Telegram: refuse rather than trust (not remembered)
        self.note(chat_id, user_id, member)
        return member

    def note(self, chat_id: int, user_id: int, member: bool) -> None:
        key = (chat_id, user_id)
        self._known[key] = (self._now(), member)
        self._known.move_to_end(key)
        if len(self._known) > _MAX_KEPT:
            self._known.popitem(last=False)

    def _now(self) -> float:
        return self._clock.now().timestamp()
