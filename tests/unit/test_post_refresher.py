"""The deal-post refresher (bot/background.py: Background.refresh_posts) picks fairly.

A group may have one post edit per POST_EDIT_INTERVAL. When several of its deals are stale the
refresher must choose well: a deal that just ended first (its post still shows Join), then the
post edited longest ago, and over many passes it must go round every stale deal, not only the
first hundred by id.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import background
from bot.background import Background
from bot.sender import RateLimits, Sender
from groupbuy.model import DealStatus
from handlers.actions import Edit
from tests.deps import fake_deps
from tests.fakes import FakeClock, FakeUnitOfWorkFactory, community, deal_spec, item_spec
from tests.fakes import open_deal_committed as open_deal

GROUP = community(-100555)


class _Recorder:
    """Stands in for Telegram behind the real sender: records the edits it is asked to make."""

    def __init__(self) -> None:
        self.edited: list[int] = []  # message ids, in order

    async def edit(self, action: Edit) -> None:
        self.edited.append(action.message_id)


async def _world(deals: int) -> tuple[Background, _Recorder, FakeUnitOfWorkFactory, list[int]]:
    clock = FakeClock()
    uows = FakeUnitOfWorkFactory()
    deps = fake_deps(uows, clock)
    ids = []
    for n in range(deals):
        spec = deal_spec(clock.now() + timedelta(days=1), item_spec(f"Item {n}"))
        deal = await open_deal(uows, clock.now(), spec, GROUP)
        async with uows() as uow:
            await uow.deals.set_post(deal.id, GROUP.chat_id, 1000 + deal.id)  # message = 1000+id
            await uow.commit()
        ids.append(deal.id)
    recorder = _Recorder()
    # Telegram's pacing out of the way: the refresher's own interval is what is tested.
    sender = Sender(recorder, RateLimits(1000, 1000, 60_000))  # type: ignore[arg-type]
    refresher = Background(deps, sender, post_edit_interval=3600.0)
    return refresher, recorder, uows, ids


async def _touch(uows: FakeUnitOfWorkFactory, *deal_ids: int) -> None:
    async with uows() as uow:
        for deal_id in deal_ids:
            await uow.deals.touch_post(deal_id)
        await uow.commit()


def _allow_next_edit(refresher: Background) -> None:
    # As if the group's interval had passed (the refresher times it on the monotonic clock).
    refresher._last_group_edit.clear()


async def test_an_ended_deal_goes_first_then_the_least_recently_edited() -> None:
    refresher, recorder, uows, (a, b, c) = await _world(3)
    async with uows() as uow:
        assert await uow.deals.move(
            c, DealStatus.OPEN, DealStatus.CANCELLED, FakeClock().now(), None
        )
        await uow.commit()
    await _touch(uows, a, b, c)

    await refresher.refresh_posts()
    assert recorder.edited == [1000 + c]  # one edit per group per interval: the ended deal
    await refresher.refresh_posts()
    assert recorder.edited == [1000 + c]  # the interval holds

    _allow_next_edit(refresher)
    await refresher.refresh_posts()
    _allow_next_edit(refresher)
    await refresher.refresh_posts()
    assert recorder.edited == [1000 + c, 1000 + a, 1000 + b]

    # All three stale again: the one edited longest ago (a) goes first, the latest (b) last.
    await _touch(uows, a, b, c)
    for _ in range(3):
        _allow_next_edit(refresher)
        await refresher.refresh_posts()
    assert recorder.edited[3:] == [1000 + c, 1000 + a, 1000 + b]


async def test_the_refresher_goes_round_all_stale_posts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "BATCH", 2)  # a page of two stale posts per pass
    refresher, recorder, uows, ids = await _world(5)
    await _touch(uows, *ids)

    for _ in range(5):
        _allow_next_edit(refresher)
        await refresher.refresh_posts()
        # In a busy group the first deals are stale again at once; the others must still come.
        await _touch(uows, ids[0], ids[1])

    assert {1000 + i for i in ids[2:]} <= set(recorder.edited)
