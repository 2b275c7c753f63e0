"""Every repository method, on SQLite, on PostgreSQL (TEST_DATABASE_URL) and on the fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError

from groupbuy.codes import normalize_code
from groupbuy.model import (
    CloseReason,
    Community,
    DealStats,
    DealStatus,
    MinimumKind,
    OrderLine,
    Resident,
    StalePost,
    User,
)
from groupbuy.notices import Notice, NoticeKind
from groupbuy.ports import UnitOfWorkFactory
from tests.fakes import community, deal_spec, item_spec

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
CST = timezone(timedelta(hours=8))
CHAT = community(-100123, buildings=("1", "2号", "3A"))


async def _deal(
    f: UnitOfWorkFactory,
    deadline: datetime = T0 + timedelta(days=1),
    chat: Community = CHAT,
    remind_at: datetime | None = None,
    **kw: object,
) -> int:
    async with f() as uow:
        if await uow.communities.get(chat.chat_id) is None:
            await uow.communities.save(chat)
        spec = deal_spec(
            deadline,
            item_spec("Apples", price=1250, stock=5, limit=2),
            item_spec("Pears", price=800, stock=3, limit=None),
            **kw,  # type: ignore[arg-type]
        )
        deal = await uow.deals.add(chat.chat_id, 7, chat.currency, spec, T0, remind_at)
        await uow.commit()
    return deal.id


# ---- unit of work --------------------------------------------------------------------------


async def test_rolls_back_unless_committed(any_factory: UnitOfWorkFactory) -> None:
    async with any_factory() as uow:
        await uow.communities.save(CHAT)
    async with any_factory() as uow:
        assert await uow.communities.get(CHAT.chat_id) is None
        await uow.communities.save(CHAT)
        await uow.commit()
        # after a commit the unit of work goes on; what follows needs its own commit
        await uow.communities.save(Community(-5, "Other"))
    async with any_factory() as uow:
        assert await uow.communities.get(CHAT.chat_id) == CHAT
        assert await uow.communities.get(-5) is None


async def test_an_exception_rolls_back(any_factory: UnitOfWorkFactory) -> None:
    with pytest.raises(RuntimeError):
        async with any_factory() as uow:
            await uow.communities.save(CHAT)
            raise RuntimeError("boom")
    async with any_factory() as uow:
        assert await uow.communities.get(CHAT.chat_id) is None


# ---- communities, users, residents ---------------------------------------------------------


async def test_communities(any_factory: UnitOfWorkFactory) -> None:
    async with any_factory() as uow:
        assert await uow.communities.get(CHAT.chat_id) is None
        await uow.communities.save(CHAT)
        await uow.commit()
    changed = Community(
        CHAT.chat_id,
        "New title",
        name="Garden Court 花园",
        buildings=(),
        currency="JPY",
        timezone="Asia/Tokyo",
        locale="zh_Hans",
        configured=False,
    )
    async with any_factory() as uow:
        assert await uow.communities.get(CHAT.chat_id) == CHAT
        await uow.communities.save(changed)
        # read back in the same unit of work: the new values, not a cached row
        assert await uow.communities.get(CHAT.chat_id) == changed
        await uow.commit()
    async with any_factory() as uow:
        assert await uow.communities.get(CHAT.chat_id) == changed


async def test_configured_communities(any_factory: UnitOfWorkFactory) -> None:
    chats = [Community(-i, f"chat {i}", configured=i % 2 == 0) for i in range(1, 7)]
    async with any_factory() as uow:
        assert await uow.communities.configured(10) == []
        for chat in chats:
            await uow.communities.save(chat)
        await uow.commit()
    async with any_factory() as uow:
        found = await uow.communities.configured(10)
        assert sorted(c.chat_id for c in found) == [-6, -4, -2]
        assert all(c.configured for c in found)
        assert len(await uow.communities.configured(2)) == 2


async def test_users(any_factory: UnitOfWorkFactory) -> None:
    li = User(9_000_000_001, "Li", "Wei", "liwei", "zh-hans", started=False)
    async with any_factory() as uow:
        assert await uow.users.get(li.id) is None
        saved = await uow.users.seen(li)
        assert saved == li
        await uow.users.set_locale(li.id, "zh_Hans")
        await uow.users.set_locale(12345, "en")  # unknown user: nothing happens
        await uow.commit()
    async with any_factory() as uow:
        got = await uow.users.get(li.id)
        assert got is not None and got.locale == "zh_Hans"
        # a later update keeps the chosen locale, takes the new profile, and started sticks
        again = await uow.users.seen(User(li.id, "Lee", None, None, "en", started=True))
        assert again == User(li.id, "Lee", None, None, "en", locale="zh_Hans", started=True)
        assert await uow.users.get(li.id) == again
        later = await uow.users.seen(User(li.id, "Lee", started=False))
        assert later.started is True
        await uow.commit()
    async with any_factory() as uow:
        assert await uow.users.get(li.id) == later
        assert await uow.users.many([li.id, 42]) == {li.id: later}
        assert await uow.users.many([]) == {}


async def test_residents(any_factory: UnitOfWorkFactory) -> None:
    ids = list(range(1, 951))  # more than one 900-id slice
    async with any_factory() as uow:
        await uow.communities.save(CHAT)
        for uid in ids:
            await uow.users.seen(User(uid, f"user{uid}"))
        for uid in ids[::2]:
            await uow.users.save_resident(Resident(CHAT.chat_id, uid, "1", "2", f"{uid}"))
        await uow.commit()
    async with any_factory() as uow:
        assert await uow.users.resident(CHAT.chat_id, 1) == Resident(CHAT.chat_id, 1, "1", "2", "1")
        assert await uow.users.resident(CHAT.chat_id, 2) is None
        assert await uow.users.resident(-1, 1) is None
        moved = Resident(CHAT.chat_id, 1, "3A", "1", "1201", phone="+86 138 0000 0000")
        await uow.users.save_resident(moved)
        assert await uow.users.resident(CHAT.chat_id, 1) == moved
        found = await uow.users.residents(CHAT.chat_id, ids)
        assert sorted(found) == ids[::2]
        assert found[1] == moved
        assert found[949] == Resident(CHAT.chat_id, 949, "1", "2", "949")
        assert await uow.users.residents(-1, ids) == {}
        users = await uow.users.many(ids)
        assert sorted(users) == ids
        assert users[950].first_name == "user950"


# ---- deals ---------------------------------------------------------------------------------


async def test_add_and_get_a_deal(any_factory: UnitOfWorkFactory) -> None:
    deadline = datetime(2026, 6, 2, 20, 0, tzinfo=CST)  # an aware non-UTC time
    remind = deadline - timedelta(hours=2)
    deal_id = await _deal(
        any_factory,
        deadline,
        remind_at=remind,
        minimum_kind=MinimumKind.QUANTITY,
        minimum=4,
        buildings=("1", "3A"),
    )
    async with any_factory() as uow:
        deal = await uow.deals.get(deal_id)
        assert await uow.deals.get(deal_id + 1000) is None
    assert deal is not None
    assert deal.deadline == deadline
    assert deal.deadline.utcoffset() == timedelta(0)
    assert deal.deadline.tzinfo is not None
    assert deal.created_at == T0 and deal.created_at.tzinfo is not None
    assert deal.closed_at is None and deal.close_reason is None
    assert deal.status is DealStatus.OPEN
    assert (deal.community_id, deal.leader_id, deal.currency) == (CHAT.chat_id, 7, "CNY")
    assert (deal.minimum_kind, deal.minimum) == (MinimumKind.QUANTITY, 4)
    assert deal.buildings == ("1", "3A")
    assert (deal.title, deal.pickup_place, deal.pickup_window) == (
        "Fresh apples",
        "Gate 2",
        "Sat 9-11",
    )
    assert [(i.name, i.unit, i.price, i.stock, i.limit, i.sold) for i in deal.items] == [
        ("Apples", "box", 1250, 5, 2, 0),
        ("Pears", "box", 800, 3, None, 0),
    ]
    assert all(i.deal_id == deal_id for i in deal.items)
    assert (deal.post_chat_id, deal.post_message_id) == (None, None)


async def test_reserve_and_release(any_factory: UnitOfWorkFactory) -> None:
    deal_id = await _deal(any_factory)
    other_id = await _deal(any_factory)
    async with any_factory() as uow:
        deal = await uow.deals.get(deal_id)
        assert deal is not None
        apples = deal.items[0].id
        assert await uow.deals.reserve(deal_id, apples, 3) == 2  # units left
        assert await uow.deals.reserve(deal_id, apples, 2) == 0  # the last ones: a success
        assert await uow.deals.reserve(deal_id, apples, 1) is None  # 5 of 5 sold
        assert await uow.deals.reserve(other_id, apples, 1) is None  # not that deal's item
        deal = await uow.deals.get(deal_id)
        assert deal is not None and deal.items[0].sold == 5 and deal.items[0].remaining == 0
        await uow.deals.release(deal_id, apples, 4)
        await uow.deals.release(deal_id, apples, 2)  # more than sold: refused quietly
        await uow.deals.release(other_id, apples, 1)
        deal = await uow.deals.get(deal_id)
        assert deal is not None and deal.items[0].sold == 1
        assert await uow.deals.reserve(deal_id, apples, 5) is None
        assert await uow.deals.reserve(deal_id, apples, 4) == 0
        await uow.commit()
    async with any_factory() as uow:
        deal = await uow.deals.get(deal_id)
        assert deal is not None and [i.sold for i in deal.items] == [5, 0]
        assert not deal.sold_out


async def test_move_is_conditional(any_factory: UnitOfWorkFactory) -> None:
    deal_id = await _deal(any_factory)
    closed_at = datetime(2026, 6, 1, 13, 0, tzinfo=CST)
    async with any_factory() as uow:
        assert not await uow.deals.move(
            deal_id, DealStatus.CLOSED, DealStatus.FAILED, T0, CloseReason.DEADLINE
        )
        assert await uow.deals.begin_change(deal_id)
        assert await uow.deals.move(
            deal_id, DealStatus.OPEN, DealStatus.CLOSED, closed_at, CloseReason.SOLD_OUT
        )
        assert not await uow.deals.move(
            deal_id, DealStatus.OPEN, DealStatus.FAILED, T0, CloseReason.DEADLINE
        )
        assert not await uow.deals.begin_change(deal_id)
        assert not await uow.deals.begin_change(deal_id + 1000)
        await uow.commit()
    async with any_factory() as uow:
        deal = await uow.deals.get(deal_id)
        assert deal is not None
        assert deal.status is DealStatus.CLOSED
        assert deal.close_reason is CloseReason.SOLD_OUT
        assert deal.closed_at == closed_at and deal.closed_at.utcoffset() == timedelta(0)
        assert not await uow.deals.claim_reminder(deal_id)


async def test_due_and_lists(any_factory: UnitOfWorkFactory) -> None:
    other = community(-200, ())
    d3 = await _deal(any_factory, T0 + timedelta(hours=3))
    d1 = await _deal(any_factory, T0 + timedelta(hours=1))
    d2 = await _deal(any_factory, T0 + timedelta(hours=2))
    far = await _deal(any_factory, T0 + timedelta(days=3))
    elsewhere = await _deal(any_factory, T0 + timedelta(hours=1), chat=other)
    async with any_factory() as uow:
        assert await uow.deals.due(T0, 10) == []
        at = T0 + timedelta(hours=3)
        assert await uow.deals.due(at - timedelta(microseconds=1), 10) in (
            [d1, elsewhere, d2],
            [elsewhere, d1, d2],
        )
        assert len(await uow.deals.due(at, 2)) == 2
        assert await uow.deals.move(d2, DealStatus.OPEN, DealStatus.FAILED, at, None)
        assert set(await uow.deals.due(at, 10)) == {d1, elsewhere, d3}
        assert {d.id for d in await uow.deals.open_deals()} == {d1, d3, far, elsewhere}
        mine = await uow.deals.for_community(CHAT.chat_id, [DealStatus.OPEN], 10)
        assert [d.id for d in mine] == sorted([d1, d3, far], reverse=True)
        assert all(len(d.items) == 2 for d in mine)
        both = await uow.deals.for_community(CHAT.chat_id, [DealStatus.OPEN, DealStatus.FAILED], 2)
        assert [d.id for d in both] == [far, d2]
        assert await uow.deals.for_community(CHAT.chat_id, [DealStatus.CANCELLED], 10) == []
        theirs = await uow.deals.for_community(other.chat_id, list(DealStatus), 10)
        assert [d.id for d in theirs] == [elsewhere]


async def test_reminders(any_factory: UnitOfWorkFactory) -> None:
    deadline = T0 + timedelta(hours=5)
    at = deadline - timedelta(hours=2)
    with_reminder = await _deal(any_factory, deadline, remind_at=at)
    await _deal(any_factory, deadline, remind_at=None)
    async with any_factory() as uow:
        assert await uow.deals.reminders_due(at - timedelta(seconds=1), 10) == []
        assert await uow.deals.reminders_due(at, 10) == [with_reminder]
        assert await uow.deals.reminders_due(deadline, 10) == []  # too late to remind
        assert await uow.deals.claim_reminder(with_reminder)
        assert not await uow.deals.claim_reminder(with_reminder)
        assert await uow.deals.reminders_due(at, 10) == []
        await uow.commit()
    async with any_factory() as uow:
        assert not await uow.deals.claim_reminder(with_reminder)


async def test_post_versions(any_factory: UnitOfWorkFactory) -> None:
    deal_id = await _deal(any_factory)
    quiet = await _deal(any_factory)
    async with any_factory() as uow:
        assert await uow.deals.stale_posts(10) == []
        await uow.deals.set_post(deal_id, CHAT.chat_id, 555)
        await uow.deals.set_post(quiet, CHAT.chat_id, 556)
        deal = await uow.deals.get(deal_id)
        assert deal is not None and (deal.post_chat_id, deal.post_message_id) == (-100123, 555)
        assert await uow.deals.stale_posts(10) == []
        assert await uow.deals.begin_change(deal_id)
        assert await uow.deals.begin_change(deal_id)
        assert await uow.deals.stale_posts(10) == [StalePost(deal_id, 2, CHAT.chat_id, True)]
        await uow.deals.post_synced(deal_id, 1)
        assert await uow.deals.stale_posts(10) == [StalePost(deal_id, 2, CHAT.chat_id, True)]
        await uow.deals.post_synced(deal_id, 2)
        assert await uow.deals.stale_posts(10) == []
        await uow.deals.post_synced(deal_id, 1)  # an older sync never goes back
        assert await uow.deals.stale_posts(10) == []
        assert await uow.deals.move(deal_id, DealStatus.OPEN, DealStatus.CANCELLED, T0, None)
        # cancelled: no longer open
        assert await uow.deals.stale_posts(10) == [StalePost(deal_id, 3, CHAT.chat_id, False)]
        await uow.deals.touch_post(deal_id)  # whatever the status
        await uow.deals.touch_post(quiet)
        both = [StalePost(deal_id, 4, CHAT.chat_id, False), StalePost(quiet, 1, CHAT.chat_id, True)]
        assert await uow.deals.stale_posts(10) == both
        assert await uow.deals.stale_posts(1) == [StalePost(deal_id, 4, CHAT.chat_id, False)]
        assert await uow.deals.stale_posts(10, after=deal_id) == [both[1]]  # the cursor


# ---- orders --------------------------------------------------------------------------------


async def test_orders(any_factory: UnitOfWorkFactory) -> None:
    deal_id = await _deal(any_factory)
    async with any_factory() as uow:
        deal = await uow.deals.get(deal_id)
        assert deal is not None
        apples, pears = (i.id for i in deal.items)
        assert await uow.orders.of_user(deal_id, 1) is None
        first = await uow.orders.open_order(deal_id, CHAT.chat_id, 1, T0)
        assert first.lines == () and first.user_id == 1 and first.deal_id == deal_id
        assert normalize_code(first.code) == first.code
        assert await uow.orders.open_order(deal_id, CHAT.chat_id, 1, T0) == first
        second = await uow.orders.open_order(deal_id, CHAT.chat_id, 2, T0)
        assert second.id != first.id and second.code != first.code

        assert await uow.orders.change_line(first.id, apples, -1, None) is None  # no line yet
        assert await uow.orders.change_line(first.id, apples, 2, 2) == 2  # the new quantity
        assert await uow.orders.change_line(first.id, apples, 1, 2) is None
        assert await uow.orders.change_line(first.id, apples, -3, None) is None
        assert await uow.orders.change_line(first.id, pears, 7, None) == 7
        assert await uow.orders.change_line(first.id, pears, -7, None) == 0  # emptied: a success
        assert await uow.orders.change_line(first.id, pears, -1, None) is None
        assert await uow.orders.change_line(second.id, apples, 3, 2) is None
        await uow.commit()
    async with any_factory() as uow:
        got = await uow.orders.get(first.id)
        assert got is not None
        assert got.lines == (OrderLine(apples, 2), OrderLine(pears, 0))
        assert got.code == first.code and got.picked_up_at is None
        assert await uow.orders.of_user(deal_id, 1) == got
        assert await uow.orders.get(first.id + 1000) is None
        assert [o.id for o in await uow.orders.for_deal(deal_id)] == [first.id]
        assert await uow.orders.by_code(CHAT.chat_id, first.code) == got
        assert await uow.orders.by_code(-1, first.code) is None
        assert await uow.deals.stats(deal_id) == DealStats(participants=1, quantity=2)
        assert await uow.orders.change_line(second.id, pears, 3, None) is not None
        assert await uow.deals.stats(deal_id) == DealStats(participants=2, quantity=5)
        assert [o.user_id for o in await uow.orders.for_deal(deal_id)] == [1, 2]
        assert await uow.deals.stats(deal_id + 1000) == DealStats(0, 0)


async def test_codes_are_unique_per_community(any_factory: UnitOfWorkFactory) -> None:
    deals = [await _deal(any_factory) for _ in range(3)]
    async with any_factory() as uow:
        codes = [
            (await uow.orders.open_order(d, CHAT.chat_id, user, T0)).code
            for d in deals
            for user in range(40)
        ]
    assert len(set(codes)) == len(codes)


async def test_pickup_and_active_orders(any_factory: UnitOfWorkFactory) -> None:
    soon = await _deal(any_factory, T0 + timedelta(hours=1))
    later = await _deal(any_factory, T0 + timedelta(hours=2))
    failed = await _deal(any_factory, T0 + timedelta(minutes=30))
    async with any_factory() as uow:
        orders = {}
        for deal_id in (soon, later, failed):
            deal = await uow.deals.get(deal_id)
            assert deal is not None
            order = await uow.orders.open_order(deal_id, CHAT.chat_id, 1, T0)
            assert await uow.orders.change_line(order.id, deal.items[0].id, 1, None) is not None
            orders[deal_id] = order.id
        empty = await uow.orders.open_order(later, CHAT.chat_id, 2, T0)
        assert await uow.deals.move(failed, DealStatus.OPEN, DealStatus.FAILED, T0, None)
        assert await uow.deals.move(soon, DealStatus.OPEN, DealStatus.CLOSED, T0, None)
        await uow.commit()
    async with any_factory() as uow:
        active = await uow.orders.active_for_user(1, 10)
        assert [(d.id, o.id) for d, o in active] == [(soon, orders[soon]), (later, orders[later])]
        assert await uow.orders.active_for_user(2, 10) == []  # an empty order is not active
        assert [d.id for d, _ in await uow.orders.active_for_user(1, 1)] == [soon]
        picked = datetime(2026, 6, 1, 18, 0, tzinfo=CST)
        assert await uow.orders.mark_picked_up(orders[soon], picked, by=1)
        assert not await uow.orders.mark_picked_up(orders[soon], picked, by=1)
        assert not await uow.orders.mark_picked_up(empty.id + 1000, picked, by=1)
        got = await uow.orders.get(orders[soon])
        assert got is not None and got.picked_up_at == picked
        assert got.picked_up_at.utcoffset() == timedelta(0)
        assert [d.id for d, _ in await uow.orders.active_for_user(1, 10)] == [later]
        await uow.commit()


async def test_active_orders_limit_counts_active_orders_only(
    any_factory: UnitOfWorkFactory,
) -> None:
    emptied = [await _deal(any_factory, T0 + timedelta(hours=1)) for _ in range(3)]
    kept = await _deal(any_factory, T0 + timedelta(hours=2))
    async with any_factory() as uow:
        for deal_id in emptied:
            await uow.orders.open_order(deal_id, CHAT.chat_id, 1, T0)  # joined, then emptied
        deal = await uow.deals.get(kept)
        assert deal is not None
        order = await uow.orders.open_order(kept, CHAT.chat_id, 1, T0)
        assert await uow.orders.change_line(order.id, deal.items[0].id, 1, None) is not None
        await uow.commit()
    async with any_factory() as uow:
        assert [d.id for d, _ in await uow.orders.active_for_user(1, 2)] == [kept]


# ---- outbox and dialogs --------------------------------------------------------------------


async def test_outbox_is_unique(any_factory: UnitOfWorkFactory) -> None:
    notices = [
        Notice(NoticeKind.DEAL_CLOSED, CHAT.chat_id, 1),
        Notice(NoticeKind.PICKUP, 11, 1, 11),
        Notice(NoticeKind.PICKUP, 12, 1, 12),
    ]
    async with any_factory() as uow:
        await uow.outbox.add(notices, T0)
        await uow.outbox.add([], T0)
        await uow.commit()
    async with any_factory() as uow:
        await uow.outbox.add([*notices, Notice(NoticeKind.PICKUP, 13, 1, 13)], T0)
        await uow.outbox.add([Notice(NoticeKind.PICKUP, 14, 1, 14)] * 2, T0)
        await uow.commit()
    async with any_factory() as uow:
        claimed = await uow.outbox.claim(T0, 100, 60)
    assert [p.notice for p in claimed] == [
        *notices,
        Notice(NoticeKind.PICKUP, 13, 1, 13),
        Notice(NoticeKind.PICKUP, 14, 1, 14),
    ]


async def test_outbox_claim_lease_sent_failed(any_factory: UnitOfWorkFactory) -> None:
    notices = [Notice(NoticeKind.PICKUP, 100 + i, 1, 100 + i) for i in range(4)]
    async with any_factory() as uow:
        await uow.outbox.add(notices, T0)
        await uow.commit()

    async with any_factory() as uow:
        assert await uow.outbox.claim(T0 - timedelta(seconds=1), 10, 60) == []
        first = await uow.outbox.claim(T0, 3, 60)
        await uow.commit()
    assert [p.notice for p in first] == notices[:3]
    assert [p.attempts for p in first] == [1, 1, 1]
    assert all(p.created_at == T0 and p.created_at.tzinfo is not None for p in first)

    async with any_factory() as uow:
        # leased: only the fourth is free now
        second = await uow.outbox.claim(T0 + timedelta(seconds=59), 10, 60)
        assert [p.notice for p in second] == [notices[3]]
        await uow.outbox.sent(first[0].id, T0 + timedelta(seconds=1))
        await uow.outbox.failed(first[1].id, "Forbidden: bot was blocked by the user", None)
        await uow.outbox.failed(first[2].id, "x" * 5000, T0 + timedelta(minutes=5))
        await uow.commit()

    async with any_factory() as uow:
        # the fourth's sender died: after its lease it is claimed again, with one more attempt
        after_lease = await uow.outbox.claim(T0 + timedelta(seconds=120), 10, 600)
        assert [(p.notice, p.attempts) for p in after_lease] == [(notices[3], 2)]
        assert await uow.outbox.claim(T0 + timedelta(minutes=4), 10, 60) == []
        retry = await uow.outbox.claim(T0 + timedelta(minutes=5), 10, 60)
        assert [(p.id, p.attempts) for p in retry] == [(first[2].id, 2)]
        await uow.outbox.sent(retry[0].id, T0 + timedelta(minutes=5))
        await uow.outbox.sent(after_lease[0].id, T0 + timedelta(minutes=5))
        await uow.commit()

    async with any_factory() as uow:
        # sent and permanently failed notices never come back
        assert await uow.outbox.claim(T0 + timedelta(days=30), 10, 60) == []


async def test_outbox_claim_is_rolled_back_with_its_transaction(
    any_factory: UnitOfWorkFactory,
) -> None:
    async with any_factory() as uow:
        await uow.outbox.add([Notice(NoticeKind.DEAL_FAILED, CHAT.chat_id, 9)], T0)
        await uow.commit()
    async with any_factory() as uow:
        assert len(await uow.outbox.claim(T0, 10, 60)) == 1  # not committed
    async with any_factory() as uow:
        again = await uow.outbox.claim(T0, 10, 60)
    assert [p.attempts for p in again] == [1]


async def test_dialogs(any_factory: UnitOfWorkFactory) -> None:
    data = {"step": 2, "title": "苹果 <b>&", "items": [{"price": 1250, "limit": None}], "ok": True}
    async with any_factory() as uow:
        assert await uow.dialogs.get(1) is None
        await uow.dialogs.save(1, "new_deal.items", data, T0)
        await uow.dialogs.save(2, "profile.building", {}, T0)
        await uow.commit()
    async with any_factory() as uow:
        assert await uow.dialogs.get(1) == ("new_deal.items", data)
        await uow.dialogs.save(1, "new_deal.deadline", {"step": 3}, T0 + timedelta(minutes=1))
        assert await uow.dialogs.get(1) == ("new_deal.deadline", {"step": 3})
        await uow.commit()
    async with any_factory() as uow:
        assert await uow.dialogs.get(1) == ("new_deal.deadline", {"step": 3})
        await uow.dialogs.clear(1)
        await uow.dialogs.clear(99)  # nothing to clear: fine
        assert await uow.dialogs.get(1) is None
        await uow.commit()
    async with any_factory() as uow:
        assert await uow.dialogs.get(1) is None
        assert await uow.dialogs.get(2) == ("profile.building", {})


async def test_dialog_data_is_a_copy(any_factory: UnitOfWorkFactory) -> None:
    data: dict[str, object] = {"items": [1]}
    async with any_factory() as uow:
        await uow.dialogs.save(1, "s", data, T0)
        await uow.commit()
    data["items"] = [2]
    async with any_factory() as uow:
        got = await uow.dialogs.get(1)
        assert got == ("s", {"items": [1]})


async def test_naive_datetimes_are_refused(any_factory: UnitOfWorkFactory) -> None:
    with pytest.raises((ValueError, StatementError), match="naive datetime"):
        async with any_factory() as uow:
            await uow.dialogs.save(1, "s", {}, datetime(2026, 6, 1, 12, 0))
