"""Many residents at once: stock and limits hold under real concurrency (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from groupbuy.deals import close_due
from groupbuy.errors import DomainError
from groupbuy.model import DealStatus
from groupbuy.notices import NoticeKind
from groupbuy.orders import OrderChange, cancel_order
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import (
    FakeClock,
    change_committed,
    community,
    deal_spec,
    item_spec,
    open_deal_committed,
    read_deal,
)

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
USERS = 150
CALLS = 300
STOCK = 50
LIMIT = 2


def _plan() -> list[int]:
    """300 calls from 150 users: a third of them press +1 four times, the rest once."""
    users = [u for u in range(1, 51) for _ in range(4)] + list(range(51, USERS + 1))
    assert len(users) == CALLS and len(set(users)) == USERS
    random.Random(7).shuffle(users)
    return users


async def _race(
    sql_factory: SqlUnitOfWorkFactory, deal_id: int, item_id: int
) -> list[OrderChange | BaseException]:
    async def one(user: int) -> OrderChange:
        return await change_committed(sql_factory, T0, deal_id, item_id, 1000 + user, 1)

    return await asyncio.gather(*(one(u) for u in _plan()), return_exceptions=True)


def _check_failures(results: list[OrderChange | BaseException], allowed: set[str]) -> Counter[str]:
    keys: Counter[str] = Counter()
    for r in results:
        if isinstance(r, BaseException):
            # a rule said no; never a database error (locked, serialization, integrity)
            assert isinstance(r, DomainError), repr(r)
            keys[r.key] += 1
    assert set(keys) <= allowed, keys
    return keys


async def test_concurrent_joins_never_oversell(sql_factory: SqlUnitOfWorkFactory) -> None:
    # a second item nobody buys keeps the deal open, so every refusal is about stock or limit
    spec = deal_spec(
        T0 + timedelta(days=1),
        item_spec("Eggs", stock=STOCK, limit=LIMIT),
        item_spec("Milk", stock=1000, limit=None),
    )
    deal = await open_deal_committed(sql_factory, T0, spec, community())
    eggs = deal.items[0].id
    results = await _race(sql_factory, deal.id, eggs)

    keys = _check_failures(results, {"sold_out", "limit_reached"})
    successes = [r for r in results if isinstance(r, OrderChange)]
    assert len(successes) == STOCK
    assert sum(keys.values()) == CALLS - STOCK
    after, orders = await read_deal(sql_factory, deal.id)
    assert after.status is DealStatus.OPEN
    assert after.items[0].sold == STOCK
    assert sum(o.quantity(eggs) for o in orders) == STOCK
    assert max(o.quantity(eggs) for o in orders) <= LIMIT
    assert all(o.quantity(eggs) >= 1 for o in orders)
    # every pickup code in the community is distinct
    assert len({o.code for o in orders}) == len(orders)


async def test_concurrent_joins_sell_out_and_close_once(
    sql_factory: SqlUnitOfWorkFactory,
) -> None:
    spec = deal_spec(T0 + timedelta(days=1), item_spec("Eggs", stock=STOCK, limit=LIMIT))
    chat = community()
    deal = await open_deal_committed(sql_factory, T0, spec, chat)
    eggs = deal.items[0].id
    results = await _race(sql_factory, deal.id, eggs)

    # after the last egg the deal is closed, so late presses meet a closed deal
    _check_failures(results, {"sold_out", "limit_reached", "deal_not_open"})
    successes = [r for r in results if isinstance(r, OrderChange)]
    assert len(successes) == STOCK
    assert sum(1 for r in successes if r.closed) == 1
    after, orders = await read_deal(sql_factory, deal.id)
    assert after.status is DealStatus.CLOSED
    assert after.items[0].sold == STOCK
    assert sum(o.quantity(eggs) for o in orders) == STOCK
    assert max(o.quantity(eggs) for o in orders) <= LIMIT

    async with sql_factory() as uow:
        pending = await uow.outbox.claim(T0, 1000, 60)
    kinds = Counter(p.notice.kind for p in pending)
    assert kinds == {NoticeKind.DEAL_CLOSED: 1, NoticeKind.PICKUP: len(orders)}
    assert {p.notice.user_id for p in pending if p.notice.kind is NoticeKind.PICKUP} == {
        o.user_id for o in orders
    }


async def test_two_workers_close_a_due_deal_once(sql_factory: SqlUnitOfWorkFactory) -> None:
    clock = FakeClock(T0)
    deadline = T0 + timedelta(hours=1)
    ids = []
    for _ in range(5):
        deal = await open_deal_committed(sql_factory, T0, deal_spec(deadline), community())
        await change_committed(sql_factory, T0, deal.id, deal.items[0].id, 1, 1)
        ids.append(deal.id)
    clock.set(deadline)
    runs = await asyncio.gather(*(close_due(sql_factory, clock) for _ in range(4)))
    closed = [deal_id for run in runs for deal_id in run]
    assert sorted(closed) == ids  # each deal closed by exactly one worker
    async with sql_factory() as uow:
        pending = await uow.outbox.claim(clock.now(), 1000, 60)
    assert Counter(p.notice.kind for p in pending) == {
        NoticeKind.DEAL_CLOSED: 5,
        NoticeKind.PICKUP: 5,
    }


async def test_two_senders_never_claim_the_same_notice(
    sql_factory: SqlUnitOfWorkFactory,
) -> None:
    from groupbuy.notices import Notice

    async with sql_factory() as uow:
        await uow.outbox.add([Notice(NoticeKind.PICKUP, u, 1, u) for u in range(60)], T0)
        await uow.commit()

    async def sender() -> list[int]:
        async with sql_factory() as uow:
            got = await uow.outbox.claim(T0, 25, 60)
            await asyncio.sleep(0.01)
            await uow.commit()
        return [p.id for p in got]

    claims = await asyncio.gather(*(sender() for _ in range(4)))
    flat = [i for c in claims for i in c]
    assert len(flat) == len(set(flat)) == 60


async def test_one_order_per_user_under_concurrency(sql_factory: SqlUnitOfWorkFactory) -> None:
    from storage.tables import OrderRow

    spec = deal_spec(T0 + timedelta(days=1), item_spec(stock=100, limit=None))
    deal = await open_deal_committed(sql_factory, T0, spec, community())
    results = await asyncio.gather(
        *(change_committed(sql_factory, T0, deal.id, deal.items[0].id, 5, 1) for _ in range(20)),
        return_exceptions=True,
    )
    assert all(isinstance(r, OrderChange) for r in results), results
    async with sql_factory() as uow:
        count = await uow._session.scalar(  # type: ignore[union-attr]
            select(func.count()).select_from(OrderRow)
        )
    assert count == 1
    after, orders = await read_deal(sql_factory, deal.id)
    assert after.items[0].sold == 20 and orders[0].quantity(deal.items[0].id) == 20


async def test_cancel_takes_back_units_added_meanwhile(
    sql_factory: SqlUnitOfWorkFactory, database_url: str
) -> None:
    """A +1 that commits between cancel's first read and its lock on the deal is cancelled too."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one transaction at a time: this interleaving cannot happen")
    spec = deal_spec(T0 + timedelta(days=1), item_spec(stock=10, limit=None))
    deal = await open_deal_committed(sql_factory, T0, spec, community())
    item = deal.items[0].id
    await change_committed(sql_factory, T0, deal.id, item, 1, 1)

    async with sql_factory() as uow:
        real = uow.deals.begin_change

        async def join_meanwhile(deal_id: int) -> bool:
            await change_committed(sql_factory, T0, deal.id, item, 1, 1)  # another press
            return await real(deal_id)

        uow.deals.begin_change = join_meanwhile  # type: ignore[method-assign]
        await cancel_order(uow, deal.id, 1, T0)
        await uow.commit()

    after, orders = await read_deal(sql_factory, deal.id)
    assert orders == []
    assert after.items[0].sold == 0


async def test_the_same_payment_delivered_ten_times_is_recorded_once(
    sql_factory: SqlUnitOfWorkFactory,
) -> None:
    """Telegram may deliver one successful_payment more than once, and our handlers run updates
    concurrently: exactly one payment, one receipt, and the order paid once."""
    from groupbuy.model import PaymentMode
    from groupbuy.payments import Received
    from tests.fakes import invoice_committed, pay_committed

    chat = community(payment_mode=PaymentMode.ONLINE)
    spec = deal_spec(T0 + timedelta(days=1), item_spec(stock=10, limit=None))
    deal = await open_deal_committed(sql_factory, T0, spec, chat)
    change = await change_committed(sql_factory, T0, deal.id, deal.items[0].id, 1, 2)
    issued = await invoice_committed(sql_factory, T0, change.order.id)
    assert issued is not None
    token, due = issued

    async def deliver() -> Received:
        for _ in range(20):  # as the handler's caller would on a serialization failure
            try:
                return await pay_committed(sql_factory, T0, token, 1, due, "CNY", "charge-1")
            except DBAPIError as exc:  # SQLite: database is locked; never an integrity error
                assert "locked" in str(exc), exc
                await asyncio.sleep(0.01)
        raise AssertionError("never delivered")

    results = await asyncio.gather(*(deliver() for _ in range(10)))
    assert sum(r.payment is not None for r in results) == 1
    assert sum(r.applied for r in results) == 1
    async with sql_factory() as uow:
        payments = await uow.payments.for_deal(deal.id)
        assert [(p.charge_id, p.amount) for p in payments] == [("charge-1", due)]
        assert await uow.payments.refunds_for_deal(deal.id) == []
        assert await uow.payments.held(change.order.id) == due
        order = await uow.orders.get(change.order.id)
        assert order is not None and [ln.paid_quantity for ln in order.lines] == [2]
        pending = await uow.outbox.claim(T0, 100, 60)
    assert Counter(p.notice.kind for p in pending) == {NoticeKind.PAYMENT_RECEIPT: 1}
