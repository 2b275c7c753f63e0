"""A deal's life through the use cases: open, close at the deadline, remind, cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest

from groupbuy.deals import cancel_deal, close_deal, close_due, open_deal, remind_at, send_reminders
from groupbuy.errors import DomainError
from groupbuy.model import CloseReason, DealStatus, MinimumKind
from groupbuy.notices import Notice, NoticeKind
from tests.fakes import (
    FakeClock,
    FakeStore,
    FakeUnitOfWorkFactory,
    change_committed,
    community,
    deal_spec,
    item_spec,
    open_deal_committed,
    read_deal,
)

CHAT = community()
ALICE, BOB, CAROL = 101, 102, 103


async def test_open_deal(uow_factory: FakeUnitOfWorkFactory, clock: FakeClock) -> None:
    spec = deal_spec(
        clock.now() + timedelta(days=1),
        item_spec("Apples", price=1250, stock=10, limit=3),
        item_spec("Pears", price=800, stock=5, limit=None),
        buildings=("1",),
    )
    deal = await open_deal_committed(uow_factory, clock.now(), spec, CHAT, leader_id=7)
    assert deal.status is DealStatus.OPEN
    assert deal.community_id == CHAT.chat_id
    assert deal.leader_id == 7
    assert deal.currency == CHAT.currency
    assert deal.deadline == spec.deadline
    assert deal.buildings == ("1",)
    assert [(i.name, i.price, i.stock, i.limit, i.sold) for i in deal.items] == [
        ("Apples", 1250, 10, 3, 0),
        ("Pears", 800, 5, None, 0),
    ]
    assert [i.position for i in deal.items] == [0, 1]


async def test_open_deal_refuses_a_past_deadline(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        await uow.communities.save(CHAT)
        with pytest.raises(DomainError, match="deadline_past"):
            await open_deal(uow, CHAT, 7, deal_spec(clock.now()), clock.now(), timedelta(hours=2))


def test_remind_at(clock: FakeClock) -> None:
    now = clock.now()
    far = deal_spec(now + timedelta(days=1))
    assert remind_at(far, now, timedelta(hours=2)) == far.deadline - timedelta(hours=2)
    near = deal_spec(now + timedelta(hours=1))
    assert remind_at(near, now, timedelta(hours=2)) is None


async def _join(
    factory: FakeUnitOfWorkFactory, clock: FakeClock, deal_id: int, user: int, qty: int
) -> None:
    deal, _ = await read_deal(factory, deal_id)
    await change_committed(factory, clock.now(), deal_id, deal.items[0].id, user, qty)


async def test_close_at_deadline_formed_and_failed_exactly_once(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock, store: FakeStore
) -> None:
    deadline = clock.now() + timedelta(hours=3)
    formed = await open_deal_committed(
        uow_factory,
        clock.now(),
        deal_spec(deadline, minimum_kind=MinimumKind.PARTICIPANTS, minimum=2),
        CHAT,
    )
    failed = await open_deal_committed(
        uow_factory,
        clock.now(),
        deal_spec(deadline, minimum_kind=MinimumKind.QUANTITY, minimum=5),
        CHAT,
    )
    empty = await open_deal_committed(uow_factory, clock.now(), deal_spec(deadline), CHAT)
    later = await open_deal_committed(
        uow_factory, clock.now(), deal_spec(deadline + timedelta(days=1)), CHAT
    )
    await _join(uow_factory, clock, formed.id, ALICE, 1)
    await _join(uow_factory, clock, formed.id, BOB, 2)
    await _join(uow_factory, clock, failed.id, CAROL, 3)
    await _join(uow_factory, clock, failed.id, ALICE, 1)
    await _join(uow_factory, clock, failed.id, ALICE, -1)  # emptied: not a participant

    assert await close_due(uow_factory, clock) == []  # nothing is due yet
    clock.set(deadline)
    assert sorted(await close_due(uow_factory, clock)) == sorted([formed.id, failed.id, empty.id])

    deal, _ = await read_deal(uow_factory, formed.id)
    assert deal.status is DealStatus.CLOSED
    assert deal.close_reason is CloseReason.DEADLINE
    assert deal.closed_at == deadline
    deal, _ = await read_deal(uow_factory, failed.id)
    assert deal.status is DealStatus.FAILED
    deal, _ = await read_deal(uow_factory, empty.id)
    assert deal.status is DealStatus.FAILED  # nobody joined: nothing to form
    deal, _ = await read_deal(uow_factory, later.id)
    assert deal.status is DealStatus.OPEN

    expected = {
        formed.id: [
            Notice(NoticeKind.DEAL_CLOSED, CHAT.chat_id, formed.id),
            Notice(NoticeKind.PICKUP, ALICE, formed.id, ALICE),
            Notice(NoticeKind.PICKUP, BOB, formed.id, BOB),
        ],
        failed.id: [
            Notice(NoticeKind.DEAL_FAILED, CHAT.chat_id, failed.id),
            Notice(NoticeKind.ORDER_FAILED, CAROL, failed.id, CAROL),
        ],
        empty.id: [Notice(NoticeKind.DEAL_FAILED, CHAT.chat_id, empty.id)],
        later.id: [],
    }
    for deal_id, notices in expected.items():
        assert store.notices(deal_id) == notices

    # a second run (another worker, a restart) changes nothing and writes nothing
    before = store.outbox()
    assert await close_due(uow_factory, clock) == []
    assert store.outbox() == before
    # nor does closing one of them directly
    async with uow_factory() as uow:
        assert await close_deal(uow, formed.id, CloseReason.LEADER, clock.now()) is None
        await uow.commit()
    assert store.outbox() == before


async def test_close_due_honours_the_batch(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock
) -> None:
    deadline = clock.now() + timedelta(hours=1)
    ids = [
        (await open_deal_committed(uow_factory, clock.now(), deal_spec(deadline), CHAT)).id
        for _ in range(3)
    ]
    clock.set(deadline)
    first = await close_due(uow_factory, clock, batch=2)
    assert len(first) == 2
    rest = await close_due(uow_factory, clock, batch=2)
    assert sorted(first + rest) == ids


async def test_quantity_minimum_formed(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock, store: FakeStore
) -> None:
    deadline = clock.now() + timedelta(hours=1)
    deal = await open_deal_committed(
        uow_factory,
        clock.now(),
        deal_spec(deadline, minimum_kind=MinimumKind.QUANTITY, minimum=3),
        CHAT,
    )
    await _join(uow_factory, clock, deal.id, ALICE, 2)
    await _join(uow_factory, clock, deal.id, BOB, 1)
    clock.set(deadline + timedelta(minutes=1))
    assert await close_due(uow_factory, clock) == [deal.id]
    closed, _ = await read_deal(uow_factory, deal.id)
    assert closed.status is DealStatus.CLOSED
    assert [n.kind for n in store.notices(deal.id)] == [
        NoticeKind.DEAL_CLOSED,
        NoticeKind.PICKUP,
        NoticeKind.PICKUP,
    ]


async def test_reminders_are_claimed_once(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock, store: FakeStore
) -> None:
    start = clock.now()
    deadline = start + timedelta(hours=5)
    deal = await open_deal_committed(
        uow_factory, start, deal_spec(deadline), CHAT, reminder_before=timedelta(hours=2)
    )
    short = await open_deal_committed(
        uow_factory,
        start,
        deal_spec(start + timedelta(hours=1)),
        CHAT,
        reminder_before=timedelta(hours=2),
    )  # too close to its deadline for a reminder
    cancelled = await open_deal_committed(
        uow_factory, start, deal_spec(deadline), CHAT, reminder_before=timedelta(hours=2)
    )
    async with uow_factory() as uow:
        await cancel_deal(uow, cancelled.id, start)
        await uow.commit()

    assert await send_reminders(uow_factory, clock) == []
    clock.set(deadline - timedelta(hours=2))
    assert await send_reminders(uow_factory, clock) == [deal.id]
    assert await send_reminders(uow_factory, clock) == []
    clock.advance(timedelta(minutes=30))
    assert await send_reminders(uow_factory, clock) == []
    assert store.notices(deal.id) == [Notice(NoticeKind.DEADLINE_REMINDER, CHAT.chat_id, deal.id)]
    assert store.notices(short.id) == []
    assert NoticeKind.DEADLINE_REMINDER not in {n.kind for n in store.notices(cancelled.id)}
    async with uow_factory() as uow:
        assert await uow.deals.claim_reminder(deal.id) is False


async def test_no_reminder_after_the_deadline(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock, store: FakeStore
) -> None:
    deadline = clock.now() + timedelta(hours=5)
    deal = await open_deal_committed(
        uow_factory, clock.now(), deal_spec(deadline), CHAT, reminder_before=timedelta(hours=2)
    )
    clock.set(deadline)  # the scheduler was down through the reminder time
    assert await send_reminders(uow_factory, clock) == []
    assert store.notices(deal.id) == []


async def test_cancel_deal(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock, store: FakeStore
) -> None:
    deal = await open_deal_committed(
        uow_factory, clock.now(), deal_spec(clock.now() + timedelta(days=1)), CHAT
    )
    await _join(uow_factory, clock, deal.id, ALICE, 1)
    await _join(uow_factory, clock, deal.id, BOB, 1)
    async with uow_factory() as uow:
        cancelled = await cancel_deal(uow, deal.id, clock.now())
        await uow.commit()
    assert cancelled.status is DealStatus.CANCELLED
    assert cancelled.close_reason is None
    assert store.notices(deal.id) == [
        Notice(NoticeKind.DEAL_CANCELLED, CHAT.chat_id, deal.id),
        Notice(NoticeKind.ORDER_CANCELLED, ALICE, deal.id, ALICE),
        Notice(NoticeKind.ORDER_CANCELLED, BOB, deal.id, BOB),
    ]
    async with uow_factory() as uow:
        with pytest.raises(DomainError, match="deal_not_open"):
            await cancel_deal(uow, deal.id, clock.now())
        assert await close_deal(uow, deal.id, CloseReason.LEADER, clock.now()) is None
    clock.advance(timedelta(days=2))
    assert await close_due(uow_factory, clock) == []
    assert len(store.notices(deal.id)) == 3


async def test_leader_close_before_the_deadline(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock, store: FakeStore
) -> None:
    deal = await open_deal_committed(
        uow_factory, clock.now(), deal_spec(clock.now() + timedelta(days=1)), CHAT
    )
    await _join(uow_factory, clock, deal.id, ALICE, 1)
    async with uow_factory() as uow:
        closed = await close_deal(uow, deal.id, CloseReason.LEADER, clock.now())
        await uow.commit()
    assert closed is not None
    assert closed.status is DealStatus.CLOSED
    assert closed.close_reason is CloseReason.LEADER
    assert [n.kind for n in store.notices(deal.id)] == [NoticeKind.DEAL_CLOSED, NoticeKind.PICKUP]


async def test_close_without_commit_leaves_nothing(
    uow_factory: FakeUnitOfWorkFactory, clock: FakeClock, store: FakeStore
) -> None:
    deal = await open_deal_committed(
        uow_factory, clock.now(), deal_spec(clock.now() + timedelta(days=1)), CHAT
    )
    async with uow_factory() as uow:
        assert await close_deal(uow, deal.id, CloseReason.LEADER, clock.now()) is not None
    after, _ = await read_deal(uow_factory, deal.id)
    assert after.status is DealStatus.OPEN
    assert store.notices() == []
