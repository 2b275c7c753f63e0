"""Leaders are the group's Telegram admins: asked of Telegram, cached for a few minutes."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

AdminFetcher = Callable[[int], Awaitable[frozenset[int]]]


class CachedLeaders:
    def __init__(self, fetch: AdminFetcher, ttl_seconds: float) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._cache: dict[int, tuple[float, frozenset[int]]] = {}

    async def is_leader(self, chat_id: int, user_id: int) -> bool:
        hit = self._cache.get(chat_id)
        if hit is None or time.monotonic() - hit[0] > self._ttl:
            try:
                admins = await self._fetch(chat_id)
            except Exception:
                if hit is None:
                    return False  # we cannot ask Telegram: refuse rather than trust
                admins = hit[1]
            hit = (time.monotonic(), admins)
            self._cache[chat_id] = hit
        return user_id in hit[1]

    def forget(self, chat_id: int) -> None:
        self._cache.pop(chat_id, None)
