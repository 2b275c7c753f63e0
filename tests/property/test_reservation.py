"""Random sequences of joins, +1/−1 and cancels by several residents on a deal with several items,
checked against a simple model, on the fakes and (fewer runs) on real SQLite storage.

Invariants after every step: each item's sold equals the sum of the order lines for it;
0 <= sold <= stock; no line above its item's limit; the storage agrees with the model; and once the
deal is closed (sold out or at its deadline) nothing changes any more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from groupbuy.deals import close_due
from groupbuy.errors import DomainError
from groupbuy.model import DealStatus
from groupbuy.ports import UnitOfWorkFactory
from storage.engine import make_engine, make_sessions
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import (
    FakeClock,
    FakeUnitOfWorkFactory,
    cancel_committed,
    change_committed,
    community,
    deal_spec,
    item_spec,
    open_deal_committed,
    read_deal,
)
from tests.storage import db

T = TypeVar("T")
T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
USERS = (11, 12, 13, 14)
ITEMS = 3

# A backend: make (factory, cleanup) inside the machine's own event loop.
Backend = Callable[[], Awaitable[tuple[UnitOfWorkFactory, Callable[[], Awaitable[None]]]]]


class ReservationMachine(RuleBasedStateMachine):
    backend: Backend

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.factory, self._cleanup = self.run(type(self).backend())
        self.clock = FakeClock(T0)
        self.frozen: Any = None

    def run(self, aw: Awaitable[T]) -> T:
        return self.loop.run_until_complete(aw)

    def teardown(self) -> None:
        try:
            self.run(self._cleanup())
        finally:
            self.loop.close()

    @initialize(
        stocks=st.lists(st.integers(1, 6), min_size=ITEMS, max_size=ITEMS),
        limits=st.lists(st.none() | st.integers(1, 3), min_size=ITEMS, max_size=ITEMS),
    )
    def open_deal(self, stocks: list[int], limits: list[int | None]) -> None:
        specs = [
            item_spec(f"item{i}", stock=s, limit=lim)
            for i, (s, lim) in enumerate(zip(stocks, limits, strict=True))
        ]
        deal = self.run(
            open_deal_committed(
                self.factory, T0, deal_spec(T0 + timedelta(hours=1), *specs), community()
            )
        )
        self.deal_id = deal.id
        self.item_ids = [i.id for i in deal.items]
        self.stock = dict(zip(self.item_ids, stocks, strict=True))
        self.limit = dict(zip(self.item_ids, limits, strict=True))
        self.sold = dict.fromkeys(self.item_ids, 0)
        self.qty = {(u, i): 0 for u in USERS for i in self.item_ids}
        self.status = DealStatus.OPEN

    # ---- the model's expectations --------------------------------------------------------

    def _expected_change(self, user: int, item: int, delta: int) -> str | None:
        if self.status is not DealStatus.OPEN:
            return "deal_not_open"
        have = self.qty[(user, item)]
        if delta < 0:
            return "nothing_to_remove" if have + delta < 0 else None
        limit = self.limit[item]
        if limit is not None and have + delta > limit:
            return "limit_reached"
        if self.sold[item] + delta > self.stock[item]:
            return "sold_out"
        return None

    # ---- rules ---------------------------------------------------------------------------

    @rule(
        user=st.sampled_from(USERS),
        index=st.integers(0, ITEMS - 1),
        delta=st.sampled_from([1, 1, 1, 2, -1, -1, -2]),
    )
    def change(self, user: int, index: int, delta: int) -> None:
        item = self.item_ids[index]
        expected = self._expected_change(user, item, delta)
        try:
            result = self.run(
                change_committed(self.factory, self.clock.now(), self.deal_id, item, user, delta)
            )
        except DomainError as err:
            assert err.key == expected, (err.key, expected)
            return
        assert expected is None, f"expected {expected}"
        self.qty[(user, item)] += delta
        self.sold[item] += delta
        assert result.order.quantity(item) == self.qty[(user, item)]
        sold_out = all(self.sold[i] == self.stock[i] for i in self.item_ids)
        assert result.closed is sold_out
        if sold_out:
            self.status = DealStatus.CLOSED

    @rule(user=st.sampled_from(USERS))
    def cancel(self, user: int) -> None:
        if self.status is not DealStatus.OPEN:
            expected: str | None = "deal_not_open"
        elif not any(self.qty[(user, i)] for i in self.item_ids):
            expected = "no_order"
        else:
            expected = None
        try:
            self.run(cancel_committed(self.factory, self.clock.now(), self.deal_id, user))
        except DomainError as err:
            assert err.key == expected, (err.key, expected)
            return
        assert expected is None, f"expected {expected}"
        for i in self.item_ids:
            self.sold[i] -= self.qty[(user, i)]
            self.qty[(user, i)] = 0

    @precondition(lambda self: self.status is DealStatus.OPEN)
    @rule()
    def deadline_passes(self) -> None:
        self.clock.set(T0 + timedelta(hours=1))
        closed = self.run(close_due(self.factory, self.clock))
        assert closed == [self.deal_id]
        anyone = any(self.qty.values())
        self.status = DealStatus.CLOSED if anyone else DealStatus.FAILED
        assert self.run(close_due(self.factory, self.clock)) == []

    # ---- invariants ----------------------------------------------------------------------

    @invariant()
    def storage_agrees(self) -> None:
        if not hasattr(self, "deal_id"):
            return
        deal, orders = self.run(read_deal(self.factory, self.deal_id))
        assert deal.status is self.status
        for it in deal.items:
            lines = [o.quantity(it.id) for o in orders]
            assert it.sold == sum(lines)
            assert 0 <= it.sold <= it.stock
            if it.limit is not None:
                assert all(q <= it.limit for q in lines)
            assert it.sold == self.sold[it.id]
        for o in orders:
            for i in self.item_ids:
                assert o.quantity(i) == self.qty[(o.user_id, i)]
        assert {o.user_id for o in orders} == {u for (u, _), q in self.qty.items() if q}
        state = (deal, orders)
        if self.status is DealStatus.OPEN:
            return
        if self.frozen is None:
            self.frozen = state
        assert state == self.frozen, "a closed deal changed"


def _run(backend: Backend, **kw: Any) -> None:
    machine = type("Machine", (ReservationMachine,), {"backend": staticmethod(backend)})
    run_state_machine_as_test(machine, settings=settings(deadline=None, **kw))


def test_reservations_on_the_fakes() -> None:
    async def fakes() -> tuple[UnitOfWorkFactory, Callable[[], Awaitable[None]]]:
        async def nothing() -> None:
            return None

        return FakeUnitOfWorkFactory(), nothing

    _run(fakes, max_examples=75, stateful_step_count=40)


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db.new_sqlite(path)
    return path


def test_reservations_on_sqlite(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("examples")
    count = iter(range(10**6))

    async def sqlite() -> tuple[UnitOfWorkFactory, Callable[[], Awaitable[None]]]:
        url = db.copy_sqlite(sqlite_template, folder / f"example{next(count)}.db")
        engine = make_engine(url)
        return SqlUnitOfWorkFactory(make_sessions(engine)), engine.dispose

    _run(sqlite, max_examples=12, stateful_step_count=25)
