"""The admin cache: leaders come from Telegram, cached, with a quicker recheck for a miss."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import leaders as module
from bot.leaders import CachedLeaders
from bot.members import CachedMembers, MemberFetcher
from groupbuy.transaction_guard import TransactionOpen
from tests.fakes import FakeUnitOfWorkFactory


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


async def test_every_fetched_list_is_recorded(now: list[float]) -> None:
    tg = Telegram()
    recorded: list[tuple[int, frozenset[int]]] = []

    async def record(chat_id: int, admins: frozenset[int]) -> None:
        recorded.append((chat_id, admins))

    cache = CachedLeaders(tg.fetch, ttl_seconds=300, clock=Clock(now), record=record)
    assert await cache.is_leader(-1, 10)
    assert await cache.is_leader(-1, 10)  # cached: not fetched, not recorded again
    assert recorded == [(-1, frozenset({10}))]
    tg.down = True
    cache.forget(-1)
    assert not await cache.is_leader(-1, 10)  # Telegram down, nothing cached: refused
    assert recorded == [(-1, frozenset({10}))]  # and nothing recorded


async def test_never_asked_inside_a_unit_of_work(now: list[float]) -> None:
    """A Telegram call inside a transaction would hold the database while Telegram answers."""
    tg = Telegram()
    cache = CachedLeaders(tg.fetch, ttl_seconds=300, clock=Clock(now))
    members = CachedMembers(_member_of(tg), Clock(now))
    async with FakeUnitOfWorkFactory()():
        with pytest.raises(TransactionOpen):
            await cache.is_leader(-1, 10)
        with pytest.raises(TransactionOpen):
            await members.is_member(-1, 10)
    assert tg.calls == 0
    assert await cache.is_leader(-1, 10) and await members.is_member(-1, 10)


def _member_of(tg: Telegram) -> MemberFetcher:
    async def fetch(chat_id: int, user_id: int) -> bool:
        tg.calls += 1
        if tg.down:
            raise RuntimeError("network")
        return user_id in tg.admins.get(chat_id, set())

    return fetch


async def test_members_are_remembered_longer_than_strangers(now: list[float]) -> None:
    tg = Telegram()
    members = CachedMembers(_member_of(tg), Clock(now), member_seconds=600, stranger_seconds=30)
    assert members.known(-1, 10) is None
    assert await members.is_member(-1, 10) and not await members.is_member(-1, 99)
    assert tg.calls == 2
    now[0] += 31
    assert members.known(-1, 10) is True and members.known(-1, 99) is None
    tg.admins[-1].add(99)  # the stranger joined meanwhile: asked again, let in
    assert await members.is_member(-1, 99) and tg.calls == 3
    members.note(-1, 10, False)  # a chat_member update: left the group
    assert members.known(-1, 10) is False
    tg.down = True
    now[0] += 700
    assert not await members.is_member(-1, 10)  # cannot ask: refused, not trusted
