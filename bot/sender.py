"""Every outgoing call passes here: Telegram's rate limits, retries on 429, harmless errors."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiolimiter import AsyncLimiter

log = logging.getLogger(__name__)
T = TypeVar("T")
_MAX_RETRIES = 4
_MAX_CHATS = 5000  # per-chat limiters kept; old ones are dropped (they are only timing state)


class RateLimits:
    """Token buckets: overall, per private chat and per group (sends and edits alike)."""

    def __init__(
        self, per_second: float, private_per_second: float, group_per_minute: float
    ) -> None:
        # Buckets a fraction of the period long: the same rates without letting a whole period's
        # worth go at once (a one-second bucket refilling while it drained sent 49 in a second).
        self._all = AsyncLimiter(max(1.0, per_second / 5), 0.2)
        self._private_rate = private_per_second
        self._group_rate = group_per_minute
        self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()

    def _for(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            limiter = (
                AsyncLimiter(max(1.0, self._group_rate / 6), 10.0)
                if chat_id < 0
                else AsyncLimiter(self._private_rate, 1.0)
            )
            self._chats[chat_id] = limiter
            if len(self._chats) > _MAX_CHATS:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(chat_id)
        return limiter

    async def acquire(self, chat_id: int) -> None:
        async with self._for(chat_id):
            pass
        async with self._all:
            pass


async def with_retries(call: Callable[[], Awaitable[T]]) -> T:
    for attempt in range(_MAX_RETRIES):
        try:
            return await call()
        except TelegramRetryAfter as flood:
            if attempt == _MAX_RETRIES - 1:
                raise
            log.warning("flood control: retry after %ss", flood.retry_after)
            await asyncio.sleep(flood.retry_after)
    raise AssertionError("unreachable")


def not_modified(error: TelegramBadRequest) -> bool:
    return "message is not modified" in error.message
