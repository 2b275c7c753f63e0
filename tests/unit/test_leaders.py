"""The admin cache: leaders come from Telegram, cached, with a quicker recheck for a miss."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import leaders as module
from bot.leaders import CachedLeaders
from bot.lookups import LONGEST_HOLD
from bot.members import CachedMembers, MemberFetcher
from groupbuy.errors import NotAnswered
from groupbuy.transaction_guard import TransactionOpen
from handlers.outgoing import BadRequest, Blocked, RetryAfter, Unavailable
from tests.fakes import FakeUnitOfWorkFactory


class Telegram:
    def __init__(self) -> None:
        self.admins: dict[int, set[int]] = {-1: {10}}
        self.calls = 0
        self.down = False
        self.failure: Exception = Unavailable("502 Bad Gateway")
        self.asked: list[int] = []  # chat ids, in order

    async def fetch(self, chat_id: int) -> frozenset[int]:
        self.calls += 1
        self.asked.append(chat_id)
        if self.down:
            raise self.failure
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
    with pytest.raises(NotAnswered):  # never trusted without asking, and not "not a leader"
        await cache.is_leader(-1, 10)
    with pytest.raises(NotAnswered):  # nor asked again at once
        await cache.is_leader(-1, 10)
    assert tg.calls == 1
    tg.down = False
    now[0] += module.RECHECK_MISS_SECONDS
    assert await cache.is_leader(-1, 10)
    tg.down = True
    now[0] += 301
    assert await cache.is_leader(-1, 10)  # the last answer stands while Telegram is unreachable
    assert tg.calls == 3
    assert await cache.is_leader(-1, 10)  # and is not asked again until the failure's hold ends
    assert tg.calls == 3
    now[0] += LONGEST_HOLD
    tg.down = False
    assert await cache.is_leader(-1, 10) and tg.calls == 4


@pytest.mark.parametrize(
    "failure",
    [Unavailable("502 Bad Gateway"), RetryAfter(5.0), RuntimeError("a socket gave up")],
    ids=["5xx", "429", "network"],
)
async def test_a_stranger_costs_one_lookup_per_group_per_15s_while_telegram_fails(
    now: list[float], failure: Exception
) -> None:
    tg = Telegram()
    tg.down, tg.failure = True, failure
    cache = CachedLeaders(tg.fetch, ttl_seconds=300, clock=Clock(now))
    start = now[0]
    while now[0] < start + 60:
        for chat_id in (-1, -2, -3):
            with pytest.raises(NotAnswered):
                await cache.is_leader(chat_id, 99)
        now[0] += 0.25
    # 60 s of presses, four a second in each of three groups: one lookup per group per 15 s
    for chat_id in (-1, -2, -3):
        assert 1 <= tg.asked.count(chat_id) <= 4
    assert tg.calls == len(tg.asked)


@pytest.mark.parametrize(
    "answer",
    [Blocked("Forbidden: bot was kicked from the supergroup chat"), BadRequest("chat not found")],
    ids=["403", "400"],
)
async def test_a_400_or_403_is_an_answer(now: list[float], answer: Exception) -> None:
    """The bot left or was removed: nobody leads the group through it, and a stranger's presses
    still cost one lookup per 15 s."""
    tg = Telegram()
    tg.down, tg.failure = True, answer
    cache = CachedLeaders(tg.fetch, ttl_seconds=300, clock=Clock(now))
    for _ in range(100):
        assert not await cache.is_leader(-1, 10)  # an answer: no, not "Telegram is down"
        now[0] += 0.1
    assert tg.calls == 1
    now[0] += module.RECHECK_MISS_SECONDS
    tg.down = False  # added back
    assert await cache.is_leader(-1, 10) and tg.calls == 2


async def test_chat_member_updates_change_the_list_without_a_call(now: list[float]) -> None:
    tg = Telegram()
    cache = CachedLeaders(tg.fetch, ttl_seconds=300, clock=Clock(now))
    assert await cache.is_leader(-1, 10) and not await cache.is_leader(-1, 20)
    cache.note(-1, 20, True)  # promoted
    cache.note(-1, 10, False)  # demoted
    assert await cache.is_leader(-1, 20) and not await cache.is_leader(-1, 10)
    assert tg.calls == 1


async def test_a_fetched_list_is_recorded_when_it_changed(now: list[float]) -> None:
    tg = Telegram()
    recorded: list[tuple[int, frozenset[int]]] = []

    async def record(chat_id: int, admins: frozenset[int]) -> None:
        recorded.append((chat_id, admins))

    cache = CachedLeaders(tg.fetch, ttl_seconds=300, clock=Clock(now), record=record)
    assert await cache.is_leader(-1, 10)
    assert await cache.is_leader(-1, 10)  # cached: not fetched, not recorded again
    assert recorded == [(-1, frozenset({10}))]
    now[0] += 301
    assert await cache.is_leader(-1, 10) and tg.calls == 2  # the same list: not recorded
    tg.admins[-1].add(20)
    now[0] += 301
    assert await cache.is_leader(-1, 20) and tg.calls == 3
    assert recorded == [(-1, frozenset({10})), (-1, frozenset({10, 20}))]
    tg.down = True
    cache.forget(-1)
    with pytest.raises(NotAnswered):  # Telegram down, nothing cached: not trusted
        await cache.is_leader(-1, 10)
    assert len(recorded) == 2  # and nothing recorded


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
        tg.asked.append(chat_id)
        if tg.down:
            raise tg.failure
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
    with pytest.raises(NotAnswered):  # cannot ask: refused, not trusted, and the reason told
        await members.is_member(-1, 10)


async def test_a_person_is_asked_about_once_per_30s_while_telegram_fails(
    now: list[float],
) -> None:
    tg = Telegram()
    tg.down, tg.failure = True, RetryAfter(1.0)
    members = CachedMembers(_member_of(tg), Clock(now), stranger_seconds=30)
    start = now[0]
    while now[0] < start + 60:
        with pytest.raises(NotAnswered):
            await members.is_member(-1, 99)
        now[0] += 0.25
    assert tg.calls == 2  # at 0 s and 30 s
    tg.down = False
    now[0] += 30
    assert not await members.is_member(-1, 99) and tg.calls == 3


async def test_a_group_the_bot_is_not_in_is_not_asked_about_anyone(now: list[float]) -> None:
    tg = Telegram()
    tg.down, tg.failure = True, Blocked("Forbidden: bot was kicked from the supergroup chat")
    members = CachedMembers(_member_of(tg), Clock(now))
    for person in range(100, 150):  # fifty people, one after another
        assert not await members.is_member(-1, person)
    assert tg.calls == 1
    members.back_in(-1)  # added again
    tg.down = False
    tg.admins[-1].add(100)
    assert await members.is_member(-1, 100) and tg.calls == 2
