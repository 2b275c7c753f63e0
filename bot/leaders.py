"""Leaders are the group's Telegram admins: asked of Telegram, cached for a few minutes, and
recorded in the database (so a private command finds the groups a person leads without asking
Telegram about every group the bot is in)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from groupbuy.clock import Clock
from groupbuy.transaction_guard import refuse_inside

AdminFetcher = Callable[[int], Awaitable[frozenset[int]]]
AdminRecorder = Callable[[int, frozenset[int]], Awaitable[None]]


# Someone missing from a cached list is looked up again after this long: a freshly promoted
# admin should not wait the full TTL, and a stranger pressing buttons must not cost a call each.
RECHECK_MISS_SECONDS = 15.0


class CachedLeaders:
    def __init__(
        self,
        fetch: AdminFetcher,
        ttl_seconds: float,
        clock: Clock,
        record: AdminRecorder | None = None,
    ) -> None:
        self._fetch = fetch
        self._record = record
        self._clock = clock
        self._ttl = ttl_seconds
        self._cache: dict[int, tuple[float, frozenset[int]]] = {}

    async def is_leader(self, chat_id: int, user_id: int) -> bool:
        # Asked outside every unit of work, even when the cache answers: the rule is then
        # broken in tests, where the cache is cold, not only in production when it expires.
        refuse_inside("getChatAdministrators")
        hit = self._cache.get(chat_id)
        if hit is None:
            stale = True
        else:
            age = self._now() - hit[0]
            limit = self._ttl if user_id in hit[1] else min(self._ttl, RECHECK_MISS_SECONDS)
            stale = age > limit
        if stale or hit is None:
            try:
                admins = await self._fetch(chat_id)
            except Exception:
                if hit is None:
                    return False  # we cannot ask Telegram: refuse rather than trust
                # The last list, kept as old as it is: asked again next time, so a demotion is
                # not hidden for longer than Telegram is unreachable.
                return user_id in hit[1]
            if self._record is not None:
                await self._record(chat_id, admins)
            hit = (self._now(), admins)
            self._cache[chat_id] = hit
        return user_id in hit[1]

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def forget(self, chat_id: int) -> None:
        self._cache.pop(chat_id, None)
