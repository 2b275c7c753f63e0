"""The admin cache: leaders come from Telegram, cached, with a quicker recheck for a miss."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import leaders as module
from bot.leaders import CachedLeaders


class Telegram:
    def __init__(self) -> None:
        self.admins: dict[int, set[int]] = {-1: {10}}
        self.calls = 0
        self.down = False

    async def fetch(self, chat_id: int) -> frozenset[int]:
        self.calls += 1
        if self.down:
            raise RuntimeError("network")
        return frozenset(self.admins.get(chat_id, set()))


class Clock:
    def __init__(self, moments: list[float]) -> None:
        self.moments = moments

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.moments[0], UTC)


@pytest.fixture
def now() -> list[float]:
    return [1000.0]


async def test_cached_within_ttl(now: list[float]) -> None:
    tg = Telegram()
    cache = CachedLeaders(tg.fetch, ttl_seconds=300, clock=Clock(now))
    assert await cache.is_leader(-1, 10)
    assert await cache.is_leader(-1, 10)
    assert tg.calls == 1


async def test_a_stranger_is_refused_without_a_call_per_press(now: list[float]) -> None:
    tg = Telegram()
    cache = CachedLeaders(tg.fetch, ttl_seconds=300, clock=Clock(now))
    assert not await cache.is_leader(-1, 99)
    for _ in range(50):
        assert not await cache.is_leader(-1, 99)
    assert tg.calls == 1


async def test_a_promoted_admin_is_seen_soon(now: list[float]) -> None:
    tg = Telegram()
    cache = CachedLeaders(tg.fetch, ttl_seconds=300, clock=Clock(now))
    assert not await cache.is_leader(-1, 20)
    tg.admins[-1].add(20)
    now[0] += module.RECHECK_MISS_SECONDS + 1
    assert await cache.is_leader(-1, 20)


async def test_a_demoted_admin_is_refused_after_the_ttl(now: list[float]) -> None:
    tg = Telegram()
    cache = CachedLeaders(tg.fetch, ttl_seconds=300, clock=Clock(now))
    assert await cache.is_leader(-1, 10)
    tg.admins[-1].clear()
    now[0] += 301
    assert not await cache.is_leader(-1, 10)


async def test_telegram_down_refuses_unknown_and_keeps_known(now: list[float]) -> None:
    tg = Telegram()
    cache = CachedLeaders(tg.fetch, ttl_seconds=300, clock=Clock(now))
    tg.down = True
    assert not await cache.is_leader(-1, 10)  # never trusted without asking
    tg.down = False
    assert await cache.is_leader(-1, 10)
    tg.down = True
    now[0] += 301
    assert await cache.is_leader(-1, 10)  # the last answer stands while Telegram is unreachable
