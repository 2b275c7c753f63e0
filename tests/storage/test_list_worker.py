"""bot.list_worker: pickup lists read and drawn in a process of their own, on SQLite and
PostgreSQL; drawn again only when what they show changed; a dead worker replaced; an idle one
stopped."""

from __future__ import annotations

import asyncio
import gc
import io
import multiprocessing
import os
import signal
import weakref
from datetime import UTC, datetime, timedelta

import openpyxl  # type: ignore[import-untyped]

from bot.list_worker import ListWorker, can_share, uncollected
from groupbuy.deals import close_deal
from groupbuy.model import CloseReason, PaymentMode, Resident, User
from handlers.drawn_lists import Drawn
from storage.engine import make_engine, make_sessions
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import community, deal_spec, item_spec
from tests.storage import db

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
CHAT = community(-100444)
LEADER = 7


async def _closed_deal(url: str, buyers: int = 12) -> tuple[int, SqlUnitOfWorkFactory]:
    engine = make_engine(url)
    await db.delete_all(engine)
    uows = SqlUnitOfWorkFactory(make_sessions(engine))
    async with uows() as uow:
        await uow.communities.save(CHAT)
        spec = deal_spec(T0 + timedelta(days=1), item_spec("Lychee", stock=999, limit=None))
        deal = await uow.deals.add(CHAT.chat_id, LEADER, "CNY", spec, T0, None, PaymentMode.LEADER)
        for n in range(buyers):
            uid = 2000 + n
            await uow.users.seen(User(uid, f"Neighbour {n}"))
            await uow.users.save_resident(Resident(CHAT.chat_id, uid, str(1 + n % 3), "1", str(n)))
            order = await uow.orders.open_order(deal.id, CHAT.chat_id, uid, T0)
            await uow.orders.change_line(order.id, deal.items[0].id, 1 + n % 2, None)
        assert await close_deal(uow, deal.id, CloseReason.LEADER, T0) is not None
        await uow.commit()
    return deal.id, uows


def _csv_rows(drawn: Drawn | None) -> int:
    assert drawn is not None
    return drawn.csv.count(b"\n") - 1  # less the header


async def test_the_worker_draws_from_the_database_and_keeps_what_it_drew(
    database_url: str,
) -> None:
    deal_id, uows = await _closed_deal(database_url)
    worker = ListWorker(database_url)
    try:
        first = await worker(deal_id, "en", T0)
        assert (
            first is not None
            and first.printouts[0].pdf.startswith(b"%PDF")
            and _csv_rows(first) == 12
        )
        checklist = list(first.messages())
        assert len(checklist) == 1 and "Neighbour 3" in checklist[0].text
        again = await worker(deal_id, "en", T0 + timedelta(minutes=5))
        assert again == first  # nothing changed: sent as drawn, down to its time stamp
        async with uows() as uow:
            order = await uow.orders.of_user(deal_id, 2003)
            assert order is not None
            assert await uow.orders.mark_picked_up(order.id, T0, LEADER)
            await uow.commit()
        after = await worker(deal_id, "en", T0 + timedelta(minutes=6))
        assert after is not None and after.csv != first.csv  # handed out: drawn again
        assert await worker(999_999, "en", T0) is None  # no such deal
        assert worker.started == 1
    finally:
        worker.close()


async def test_the_worker_draws_the_workbook_on_demand_and_keeps_it(database_url: str) -> None:
    deal_id, uows = await _closed_deal(database_url)
    worker = ListWorker(database_url)
    try:
        first = await worker.workbook(deal_id, "zh_Hans", T0)
        assert first is not None
        book = openpyxl.load_workbook(io.BytesIO(first))
        assert book.sheetnames == ["提货单", "分拣汇总", "收款明细"]
        orders = [[c.value for c in row] for row in book["提货单"].iter_rows()]
        assert len(orders) == 13 and orders[0][3] == "姓名"
        assert sorted(row[3] for row in orders[1:]) == sorted(f"Neighbour {n}" for n in range(12))
        assert await worker.workbook(deal_id, "zh_Hans", T0 + timedelta(minutes=5)) == first
        async with uows() as uow:
            order = await uow.orders.of_user(deal_id, 2003)
            assert order is not None
            assert await uow.orders.mark_picked_up(order.id, T0, LEADER)
            await uow.commit()
        after = await worker.workbook(deal_id, "zh_Hans", T0 + timedelta(minutes=6))
        assert after is not None and after != first  # handed out: drawn again
        picked = [
            [c.value for c in row]
            for row in openpyxl.load_workbook(io.BytesIO(after))["提货单"].iter_rows()
        ]
        assert [row[9] for row in picked[1:]].count("✓") == 1
        assert await worker.workbook(999_999, "en", T0) is None  # no such deal
        assert worker.started == 1  # the same process as the lists'
    finally:
        worker.close()


async def test_a_dead_worker_is_replaced(database_url: str) -> None:
    deal_id, _ = await _closed_deal(database_url, buyers=3)
    worker = ListWorker(database_url)
    before = {p.pid for p in multiprocessing.active_children()}
    try:
        assert _csv_rows(await worker(deal_id, "zh_Hans", T0)) == 3
        children = [p for p in multiprocessing.active_children() if p.pid not in before]
        assert len(children) == 1 and children[0].pid is not None
        os.kill(children[0].pid, signal.SIGKILL)
        children[0].join(10)
        assert _csv_rows(await worker(deal_id, "zh_Hans", T0)) == 3
        assert worker.started == 2
    finally:
        worker.close()


async def test_an_idle_worker_stops(database_url: str) -> None:
    deal_id, _ = await _closed_deal(database_url, buyers=1)
    worker = ListWorker(database_url, idle_seconds=0.2)
    try:
        assert _csv_rows(await worker(deal_id, "en", T0)) == 1
        assert worker.running
        for _ in range(50):
            if not worker.running:
                break
            await asyncio.sleep(0.1)
        assert not worker.running
        assert _csv_rows(await worker(deal_id, "en", T0)) == 1  # started again when needed
        assert worker.started == 2
    finally:
        worker.close()


def test_only_a_database_another_process_can_open_is_shared() -> None:
    assert can_share("sqlite+aiosqlite:////tmp/groupbuy.db")
    assert can_share("postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    assert not can_share("sqlite+aiosqlite://")
    assert not can_share("sqlite+aiosqlite:///:memory:")


class _Node:
    """Garbage only the collector frees: it refers to itself."""

    def __init__(self) -> None:
        self.me = self


def test_while_drawing_nothing_is_collected_and_after_it_the_drawing_s_garbage_is() -> None:
    assert gc.isenabled()
    with uncollected():
        assert not gc.isenabled()
        node = _Node()
        gone = weakref.ref(node)
        del node
        for _ in range(10_000):  # enough allocations to start a collection, were it on
            _Node()
        assert gone() is not None
    assert gc.isenabled()
    assert gone() is None


def test_a_drawing_that_fails_turns_the_collector_back_on() -> None:
    try:
        with uncollected():
            raise RuntimeError("drawing failed")
    except RuntimeError:
        pass
    assert gc.isenabled()
