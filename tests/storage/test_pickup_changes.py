"""groupbuy.pickup_changes: a closed deal's pickup moved, each buyer still to pick up told once
with the old and the new; a time already past, or no change, refused with nothing changed; on
the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from groupbuy.errors import DomainError
from groupbuy.model import Deal
from groupbuy.notices import Notice, NoticeKind
from groupbuy.pickup_changes import change_pickup, window_start
from groupbuy.ports import UnitOfWorkFactory
from tests.fakes import (
    closed_with_buyers,
    community,
)

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, a Monday
SHANGHAI = ZoneInfo("Asia/Shanghai")
CHAT = community(-100888)
MOVED = (NoticeKind.PICKUP_MOVED, NoticeKind.PICKUP_CHANGED)


async def _deal(factory: UnitOfWorkFactory, close: bool = True) -> Deal:
    return await closed_with_buyers(factory, T0, CHAT, close)


async def _moved(factory: UnitOfWorkFactory) -> list[Notice]:
    async with factory() as uow:
        pending = await uow.outbox.claim(T0 + timedelta(days=3), 1000, 60)
    return sorted((p.notice for p in pending if p.notice.kind in MOVED), key=str)


async def test_each_buyer_still_to_pick_up_is_told_once(any_factory: UnitOfWorkFactory) -> None:
    deal = await _deal(any_factory)
    async with any_factory() as uow:
        change, told = await change_pickup(
            uow, deal, T0, 7, SHANGHAI, window="tomorrow 18:00-19:00"
        )
        await uow.commit()
    assert told == 2
    assert (change.old_place, change.old_window) == (deal.pickup_place, deal.pickup_window)
    assert (change.place, change.window) == (deal.pickup_place, "tomorrow 18:00-19:00")
    async with any_factory() as uow:
        after = await uow.deals.get(deal.id)
        kept = await uow.deals.pickup_change(change.id)
    assert after is not None and after.pickup_window == "tomorrow 18:00-19:00"
    assert kept == change
    assert await _moved(any_factory) == sorted(
        [
            Notice(NoticeKind.PICKUP_MOVED, CHAT.chat_id, deal.id, None, change.id),
            Notice(NoticeKind.PICKUP_CHANGED, 1001, deal.id, 1001, change.id),
            Notice(NoticeKind.PICKUP_CHANGED, 1002, deal.id, 1002, change.id),
        ],
        key=str,
    )
    # Moved again (the place now): told again, of this change alone.
    assert after is not None
    async with any_factory() as uow:
        second, _ = await change_pickup(uow, after, T0, 7, SHANGHAI, place="Building 3 lobby")
        await uow.commit()
    assert (second.old_place, second.place) == (deal.pickup_place, "Building 3 lobby")
    assert second.old_window == second.window == "tomorrow 18:00-19:00"
    assert len(await _moved(any_factory)) == 6


@pytest.mark.parametrize(
    ("window", "key"),
    [
        ("2026-05-31 18:00-19:00", "pickup_in_past"),
        ("11:00-12:00", None),  # a bare time already past today is tomorrow's
        ("after lunch", "pickup_time_invalid"),
    ],
)
async def test_a_time_past_or_unreadable_changes_nothing(
    any_factory: UnitOfWorkFactory, window: str, key: str | None
) -> None:
    deal = await _deal(any_factory)
    async with any_factory() as uow:
        if key is None:
            await change_pickup(uow, deal, T0, 7, SHANGHAI, window=window)
            return
        with pytest.raises(DomainError) as refused:
            await change_pickup(uow, deal, T0, 7, SHANGHAI, window=window)
    assert refused.value.key == key
    async with any_factory() as uow:
        same = await uow.deals.get(deal.id)
    assert same is not None and same.pickup_window == deal.pickup_window
    assert await _moved(any_factory) == []


async def test_no_change_and_an_open_deal_are_refused(any_factory: UnitOfWorkFactory) -> None:
    deal = await _deal(any_factory)
    async with any_factory() as uow:
        with pytest.raises(DomainError) as same:
            await change_pickup(uow, deal, T0, 7, SHANGHAI, place=deal.pickup_place)
    assert same.value.key == "pickup_unchanged"
    still_open = await _deal(any_factory, close=False)
    async with any_factory() as uow:
        with pytest.raises(DomainError) as early:
            await change_pickup(uow, still_open, T0, 7, SHANGHAI, place="Gate 9")
    assert early.value.key == "deal_not_closed"
    assert await _moved(any_factory) == []


@pytest.mark.parametrize(
    ("window", "start"),
    [
        ("tomorrow 18:00-19:00", datetime(2026, 6, 2, 18, 0)),
        ("明天 18:00至19:00", datetime(2026, 6, 2, 18, 0)),
        ("06-03 09:30 – 10:30", datetime(2026, 6, 3, 9, 30)),
        ("18:00-19:00", datetime(2026, 6, 1, 18, 0)),
        ("2026-06-05 8:00", datetime(2026, 6, 5, 8, 0)),
    ],
)
def test_a_window_starts_when_its_first_time_says(window: str, start: datetime) -> None:
    assert window_start(window, T0, SHANGHAI) == start.replace(tzinfo=SHANGHAI)
