"""A notice being sent is never taken by another sender while its sender lives, and is taken
again once it died (bot/background.py: leases renewed every RENEW_SECONDS, not on every pass)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot import background
from bot.background import Background
from bot.sender import RateLimits, Sender
from groupbuy.notices import deal_posted
from handlers.actions import Send
from handlers.context import Deps
from tests.deps import fake_deps
from tests.fakes import FakeClock, FakeUnitOfWorkFactory, community, deal_spec
from tests.fakes import open_deal_committed as open_deal

GROUP = community(-100556)


class _SlowTelegram:
    """Takes a message only when `go` is set: a chat held up for longer than a lease."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.sent = 0

    async def send(self, action: Send) -> int:
        await self.go.wait()
        self.sent += 1
        return 500 + self.sent


def _background(deps: Deps, telegram: _SlowTelegram) -> Background:
    sender = Sender(telegram, RateLimits(1000, 1000, 60_000))  # type: ignore[arg-type]
    return Background(deps, sender, post_edit_interval=3600.0)


@pytest.mark.parametrize("renewing", [True, False])
async def test_a_slow_chat_is_not_taken_while_its_sender_lives(
    monkeypatch: pytest.MonkeyPatch, renewing: bool
) -> None:
    monkeypatch.setattr(background, "LEASE_SECONDS", 1)
    monkeypatch.setattr(background, "RENEW_SECONDS", 0.05 if renewing else 3600.0)
    clock = FakeClock()
    uows = FakeUnitOfWorkFactory()
    deps = fake_deps(uows, clock)
    deal = await open_deal(uows, clock.now(), deal_spec(clock.now() + timedelta(days=1)), GROUP)
    async with uows() as uow:
        await uow.outbox.add(deal_posted(deal.id, GROUP.chat_id, False), clock.now())
        await uow.commit()
    first, other = _SlowTelegram(), _SlowTelegram()
    living, second = _background(deps, first), _background(deps, other)
    other.go.set()

    assert await living.deliver() == 1  # claimed; its chat is held up
    taken_by_other = 0
    for _ in range(8):  # four lease lengths go by while the living sender still sends
        await asyncio.sleep(0.06)
        clock.advance(timedelta(seconds=0.5))
        await living.deliver()
        taken_by_other += await second.deliver()
        await asyncio.sleep(0)
    if renewing:
        assert taken_by_other == 0
        first.go.set()
        for task in list(living._chats.values()):
            await task
        assert (first.sent, other.sent) == (1, 0)
    else:  # the check can fail: without renewal the other sender takes it after one lease
        assert taken_by_other == 1
        first.go.set()
    await asyncio.gather(*living._chats.values(), *second._chats.values(), return_exceptions=True)
