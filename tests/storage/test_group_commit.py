"""Group commit (storage/group_commit.py) on a real SQLite file.

On SQLite the bot's hottest path (a press's change of quantity) goes through `GroupCommit`: the
pieces of work that arrive together run one after another in one `BEGIN IMMEDIATE … COMMIT`, each
in a savepoint of its own. That is only safe if, to each piece, it looks exactly like a unit of
work alone, so these tests check the promises the module makes, always reading the outcome back
from the database through a fresh unit of work rather than trusting return values:

- pieces awaited together share transactions, and each gets its own result;
- a piece that raises, or returns without committing, leaves no trace, and its neighbours stand;
- `after_commit` callbacks run only once the batch's COMMIT is done, never for rolled-back pieces;
- when the COMMIT itself fails, every piece of that batch fails and none of it is kept;
- stock and per-person limits hold under a burst of concurrent presses (no oversell);
- ordinary async units of work on the same engine interleave with it without "database is
  locked";
- a piece whose caller stopped waiting before its turn is not done unseen;
- `close()` lets the queued work finish;
- a piece that awaits anything but its unit of work fails alone (`Suspended`); a failing
  after-commit callback leaves nobody waiting; another process's write lock is waited for off the
  event loop, and a batch gives up after `lock_wait`;
- `can_group_commit` accepts SQLite files only.

- when SQLite itself rolls back the whole transaction in the middle of a batch (a full disk
  does), every piece of the batch fails: nobody is told of a commit that is not there.

Group commit is SQLite-only, so these tests make their own SQLite file instead of taking the
`database_url` fixture (which would also run them on PostgreSQL when TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from groupbuy.errors import DomainError
from groupbuy.model import DealStatus, Resident, User
from groupbuy.orders import change_quantity
from groupbuy.ports import UnitOfWork
from storage.db import Db
from storage.deals import SqlDeals
from storage.engine import make_engine, make_sessions
from storage.group_commit import GroupCommit, Suspended, can_group_commit
from storage.tables import OrderRow
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import community, deal_spec, item_spec, open_deal_committed, read_deal
from tests.storage.db import copy_sqlite, new_sqlite

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
CHAT = community(-100777, buildings=("1", "2"))


@dataclass
class Rig:
    path: Path
    engine: AsyncEngine
    writer: GroupCommit
    uows: SqlUnitOfWorkFactory


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per module; each test works on a copy of it (migrating is slow)."""
    path = tmp_path_factory.mktemp("group_commit") / "template.db"
    new_sqlite(path)
    # The migration's engine is disposed, so everything is in the main file: a plain copy is whole.
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest_asyncio.fixture
async def rig(template: Path, tmp_path: Path) -> AsyncIterator[Rig]:
    path = tmp_path / "x.db"
    engine = make_engine(copy_sqlite(template, path))
    writer = GroupCommit(engine)
    try:
        yield Rig(path, engine, writer, SqlUnitOfWorkFactory(make_sessions(engine)))
    finally:
        await writer.close()
        await engine.dispose()


def _user(uid: int) -> User:
    return User(uid, f"user{uid}", started=True)


async def _users_in_db(rig: Rig, ids: list[int]) -> set[int]:
    """Which of `ids` are in the database, read through a fresh (async) unit of work."""
    async with rig.uows() as uow:
        return set(await uow.users.many(ids))


def _put(uid: int, *, commit: bool = True) -> Callable[[UnitOfWork], Awaitable[int]]:
    """A piece of work that records one user and (by default) commits; returns the user's id."""

    async def work(uow: UnitOfWork) -> int:
        await uow.users.seen(_user(uid))
        if commit:
            await uow.commit()
        return uid

    return work


# ---- batching ------------------------------------------------------------------------------


async def test_pieces_awaited_together_share_transactions(rig: Rig) -> None:
    ids = list(range(1, 41))

    def piece(uid: int) -> Callable[[UnitOfWork], Awaitable[str]]:
        async def work(uow: UnitOfWork) -> str:
            await uow.users.seen(_user(uid))
            await uow.commit()
            return f"done {uid}"  # distinct per piece: results must not be mixed up

        return work

    results = await asyncio.gather(*(rig.writer(piece(uid)) for uid in ids))

    assert results == [f"done {uid}" for uid in ids]
    assert rig.writer.pieces == 40
    # Grouped: fewer transactions than pieces (one per piece would defeat the point).
    assert rig.writer.batches < 40
    assert await _users_in_db(rig, ids) == set(ids)


async def test_a_failed_or_uncommitted_piece_is_rolled_back_alone(rig: Rig) -> None:
    async def raises(uow: UnitOfWork) -> int:
        await uow.users.seen(_user(2))
        raise RuntimeError("boom")

    async def commits_then_writes_more(uow: UnitOfWork) -> int:
        await uow.users.seen(_user(5))
        await uow.commit()
        # What follows a commit needs a commit of its own, as in any unit of work.
        await uow.users.seen(_user(6))
        return 5

    async def database_refuses(uow: UnitOfWork) -> int:
        await uow.users.seen(_user(7))
        # No such community: the database itself refuses this statement (a foreign key).
        await uow.users.save_resident(Resident(CHAT.chat_id, 7, "1", "1", "101"))
        await uow.commit()
        return 7

    results = await asyncio.gather(
        rig.writer(_put(1)),
        rig.writer(raises),
        rig.writer(_put(3, commit=False)),
        rig.writer(_put(4)),
        rig.writer(commits_then_writes_more),
        rig.writer(database_refuses),
        rig.writer(_put(8)),
        return_exceptions=True,
    )

    # All of them were handed in together, so they ran in one transaction: the rollbacks
    # above were of savepoints, not of the batch.
    assert rig.writer.batches == 1 and rig.writer.pieces == 7
    assert [results[i] for i in (0, 2, 3, 4, 6)] == [1, 3, 4, 5, 8]
    assert isinstance(results[1], RuntimeError) and str(results[1]) == "boom"
    assert isinstance(results[5], IntegrityError)
    assert await _users_in_db(rig, [1, 2, 3, 4, 5, 6, 7, 8]) == {1, 4, 5, 8}


async def test_after_commit_runs_after_the_batch_commit_only_for_committed_pieces(
    rig: Rig,
) -> None:
    ran: list[str] = []
    # What another connection sees when each callback runs: a callback called before the
    # COMMIT would find its own row missing.
    visible: dict[str, bool] = {}
    seen_by_later_piece: list[str] | None = None

    def callback(name: str, uid: int) -> Callable[[], None]:
        def run() -> None:
            ran.append(name)
            with sqlite3.connect(rig.path) as conn:
                row = conn.execute("SELECT 1 FROM users WHERE id = ?", (uid,)).fetchone()
            visible[name] = row is not None

        return run

    def piece(
        name: str, uid: int, *, commit: bool = True, fail: bool = False
    ) -> Callable[[UnitOfWork], Awaitable[None]]:
        async def work(uow: UnitOfWork) -> None:
            nonlocal seen_by_later_piece
            if name == "last":
                # The earlier pieces of this batch have committed their savepoints, but the
                # batch has not committed: none of their callbacks may have run yet.
                seen_by_later_piece = list(ran)
            await uow.users.seen(_user(uid))
            uow.after_commit(callback(name, uid))
            if fail:
                raise RuntimeError(name)
            if commit:
                await uow.commit()

        return work

    results = await asyncio.gather(
        rig.writer(piece("first", 1)),
        rig.writer(piece("raises", 2, fail=True)),
        rig.writer(piece("uncommitted", 3, commit=False)),
        rig.writer(piece("last", 4)),
        return_exceptions=True,
    )

    assert rig.writer.batches == 1
    assert isinstance(results[1], RuntimeError)
    assert seen_by_later_piece == []
    assert ran == ["first", "last"]
    assert visible == {"first": True, "last": True}
    assert await _users_in_db(rig, [1, 2, 3, 4]) == {1, 4}


# ---- what a piece must not do, and what may go wrong around it ------------------------------


async def test_a_piece_that_awaits_something_else_fails_alone(rig: Rig) -> None:
    async def wanders_off(uow: UnitOfWork) -> None:
        await uow.users.seen(_user(2))
        # Anything but the unit of work (here a bare yield to the loop) would hold the database
        # and the loop for as long as it takes, or deadlock on a unit of work of its own.
        await asyncio.sleep(0)
        await uow.commit()

    results = await asyncio.gather(
        rig.writer(_put(1)), rig.writer(wanders_off), rig.writer(_put(3)), return_exceptions=True
    )

    assert results[0] == 1 and results[2] == 3
    assert isinstance(results[1], Suspended)
    assert await _users_in_db(rig, [1, 2, 3]) == {1, 3}  # its write went with its savepoint


async def test_a_failing_after_commit_callback_leaves_nobody_waiting(rig: Rig) -> None:
    def boom() -> None:
        raise RuntimeError("a cache that breaks")

    async def with_bad_callback(uow: UnitOfWork) -> int:
        await uow.users.seen(_user(1))
        uow.after_commit(boom)
        await uow.commit()
        return 1

    results = await asyncio.wait_for(
        asyncio.gather(rig.writer(with_bad_callback), rig.writer(_put(2))), timeout=5
    )

    assert list(results) == [1, 2]
    assert await _users_in_db(rig, [1, 2]) == {1, 2}
    assert await rig.writer(_put(3)) == 3  # and the writer goes on


async def test_another_process_holding_the_write_lock_is_waited_for_off_the_loop(
    rig: Rig,
) -> None:
    # A second program on the same file (a sqlite3 shell, another bot) takes the write lock.
    outsider = sqlite3.connect(rig.path, isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.create_task(ticker())
    try:
        pending = asyncio.ensure_future(rig.writer(_put(1)))
        await asyncio.sleep(0.5)
        assert not pending.done()  # still waiting for the lock ...
        assert ticks >= 20  # ... and the event loop went on meanwhile (~50 ticks in 0.5 s)
        outsider.execute("COMMIT")
        assert await asyncio.wait_for(pending, timeout=5) == 1
    finally:
        beat.cancel()
        outsider.close()
    assert await _users_in_db(rig, [1]) == {1}


async def test_a_write_lock_held_too_long_fails_the_batch(rig: Rig) -> None:
    impatient = GroupCommit(rig.engine, lock_wait=0.2)
    outsider = sqlite3.connect(rig.path, isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"):
            await asyncio.wait_for(impatient(_put(1)), timeout=5)
    finally:
        outsider.execute("ROLLBACK")
        outsider.close()
        await impatient.close()
    assert await _users_in_db(rig, [1]) == set()
    assert await rig.writer(_put(2)) == 2


# ---- a failing COMMIT ----------------------------------------------------------------------


def _session(uow: UnitOfWork) -> Db:
    """The unit of work's session, for a raw statement (the repositories all share it)."""
    assert isinstance(uow.deals, SqlDeals)
    return uow.deals._s


def _recording(ran: list[int]) -> Callable[[int], Callable[[UnitOfWork], Awaitable[int]]]:
    """Pieces that record a user, commit, and note in `ran` once the commit is for good."""

    def good(uid: int) -> Callable[[UnitOfWork], Awaitable[int]]:
        async def work(uow: UnitOfWork) -> int:
            await uow.users.seen(_user(uid))
            uow.after_commit(lambda: ran.append(uid))
            await uow.commit()
            return uid

        return work

    return good


async def test_a_failing_commit_fails_every_piece_of_the_batch(rig: Rig) -> None:
    ran: list[int] = []
    good = _recording(ran)

    async def breaks_the_commit(uow: UnitOfWork) -> None:
        # With deferred foreign keys SQLite checks them at the COMMIT, not at the statement or
        # at the RELEASE of a savepoint: the batch's COMMIT itself fails.
        await _session(uow).execute(text("PRAGMA defer_foreign_keys = ON"))
        missing = CHAT.chat_id - 1  # no such community
        await uow.deals.add(missing, 7, "CNY", deal_spec(T0 + timedelta(days=1)), T0, None)
        await uow.commit()

    results = await asyncio.gather(
        rig.writer(good(1)),
        rig.writer(breaks_the_commit),
        rig.writer(good(2)),
        return_exceptions=True,
    )

    # Every piece hears that it failed, the ones whose own work went well too.
    assert all(isinstance(r, IntegrityError) for r in results), results
    assert "FOREIGN KEY" in str(results[0])
    assert ran == []  # nothing committed, so no callback
    assert await _users_in_db(rig, [1, 2]) == set()
    async with rig.uows() as uow:
        deals = await _session(uow).scalar(text("SELECT count(*) FROM deals"))
    assert deals == 0

    # The writer is not stuck in the failed transaction: the next batch works.
    assert await rig.writer(good(3)) == 3
    assert ran == [3]
    assert await _users_in_db(rig, [1, 2, 3]) == {3}


async def test_sqlite_rolling_back_the_batch_itself_fails_every_piece(rig: Rig) -> None:
    ran: list[int] = []
    good = _recording(ran)

    async def disk_full(uow: UnitOfWork) -> None:
        # A full disk, made to order: the file may not grow. On SQLITE_FULL SQLite may roll back
        # the whole transaction, not just the statement ("Response To Errors Within A
        # Transaction" in its documentation), and for this statement it does: this piece's
        # savepoint is gone, and with it the batch's BEGIN.
        db = _session(uow)
        pages = await db.scalar(text("PRAGMA page_count"))
        await db.execute(text(f"PRAGMA max_page_count = {int(pages)}"))
        try:
            await uow.dialogs.save(2, "state", {"text": "x" * 100_000}, T0)
        finally:
            await db.execute(text("PRAGMA max_page_count = 1073741823"))  # room again
        await uow.commit()

    results = await asyncio.gather(
        rig.writer(good(1)),
        rig.writer(disk_full),
        rig.writer(good(3)),
        return_exceptions=True,
    )

    assert isinstance(results[1], Exception)
    told_committed = {r for r in results if isinstance(r, int)}
    # What the callers heard must be what is in the database. Before the check for a lost
    # transaction (storage/group_commit.py: _still_open), piece 1 heard success and its
    # after-commit callback ran although its write was rolled back with the transaction, and
    # piece 3 ran in autocommit mode, so its write landed whatever became of the batch.
    assert await _users_in_db(rig, [1, 2, 3]) == told_committed
    assert sorted(ran) == sorted(told_committed)


# ---- no oversell ---------------------------------------------------------------------------

USERS = 150
CALLS = 300
STOCK = 50
LIMIT = 2


def _plan() -> list[int]:
    """300 presses from 150 users: a third of them press +1 four times, the rest once (as in
    tests/storage/test_concurrency.py, which runs the same race without group commit)."""
    users = [u for u in range(1, 51) for _ in range(4)] + list(range(51, USERS + 1))
    assert len(users) == CALLS and len(set(users)) == USERS
    random.Random(7).shuffle(users)
    return [1000 + u for u in users]


async def test_concurrent_joins_through_group_commit_never_oversell(rig: Rig) -> None:
    spec = deal_spec(T0 + timedelta(days=1), item_spec("Eggs", stock=STOCK, limit=LIMIT))
    deal = await open_deal_committed(rig.uows, T0, spec, CHAT)
    eggs = deal.items[0].id
    # Every joiner has started the bot and has a resident profile, as the join handler needs.
    async with rig.uows() as uow:
        for uid in sorted(set(_plan())):
            await uow.users.seen(_user(uid))
            await uow.users.save_resident(Resident(CHAT.chat_id, uid, "1", "1", f"{uid}"))
        await uow.commit()

    def press(uid: int) -> Callable[[UnitOfWork], Awaitable[str | None]]:
        # As handlers/joining.py: commit on success, return the refusal (no commit) otherwise.
        async def work(uow: UnitOfWork) -> str | None:
            resident = await uow.users.resident(CHAT.chat_id, uid)
            try:
                await change_quantity(uow, deal.id, eggs, uid, 1, resident, T0, loaded=None)
            except DomainError as error:
                return error.key
            await uow.commit()
            return None

        return work

    plan = _plan()
    results = await asyncio.gather(*(rig.writer(press(uid)) for uid in plan))

    assert rig.writer.pieces == CALLS and rig.writer.batches < CALLS
    refusals = Counter(r for r in results if r is not None)
    # After the last egg the deal closes, so late presses meet a closed deal; nothing else.
    assert set(refusals) <= {"sold_out", "limit_reached", "deal_not_open"}, refusals
    assert sum(1 for r in results if r is None) == STOCK
    winners = {uid for uid, r in zip(plan, results, strict=True) if r is None}

    after, orders = await read_deal(rig.uows, deal.id)
    assert after.status is DealStatus.CLOSED
    assert after.items[0].sold == STOCK == sum(o.quantity(eggs) for o in orders)
    assert max(o.quantity(eggs) for o in orders) <= LIMIT
    assert {o.user_id for o in orders} == winners
    # A refused press may have opened an (empty) order before being refused: its savepoint
    # rollback must have taken that away too.
    async with rig.uows() as uow:
        rows = await _session(uow).scalar(
            select(func.count()).select_from(OrderRow).where(OrderRow.deal_id == deal.id)
        )
    assert rows == len(winners)


# ---- living with the async engine ----------------------------------------------------------


async def test_ordinary_units_of_work_interleave_with_group_commit(rig: Rig) -> None:
    done: list[str] = []

    async def press(uid: int) -> None:
        assert await rig.writer(_put(uid)) == uid
        done.append("group")

    async def ordinary(uid: int) -> None:
        async with rig.uows() as uow:
            await uow.users.seen(_user(uid))
            # Hold SQLite's write lock across a suspension, as a real unit of work may: a batch
            # beginning now on its own connection would meet "database is locked".
            await asyncio.sleep(0.001)
            await uow.users.seen(_user(uid + 1000))
            await uow.commit()
        done.append("ordinary")

    # Presses arrive in waves, and an ordinary unit of work starts while each wave's batch is
    # waiting or being written. Waves (not sleeps) order it, so a loaded machine cannot turn
    # the test into one big batch with everything else before or after it.
    grouped: list[int] = []
    ordinary_uids: list[int] = []
    for wave in range(6):
        uids = list(range(wave * 20 + 1, wave * 20 + 21))
        grouped += uids
        ordinary_uids.append(5001 + wave)
        presses = [asyncio.create_task(press(uid)) for uid in uids]
        await asyncio.sleep(0)  # the wave is queued for a batch
        await asyncio.gather(ordinary(5001 + wave), *presses)

    assert rig.writer.pieces == len(grouped) and rig.writer.batches >= 6
    every = grouped + ordinary_uids + [uid + 1000 for uid in ordinary_uids]
    assert await _users_in_db(rig, every) == set(every)
    # Both paths ran in the same stretch: ordinary ones finished between group pieces.
    first, last = done.index("group"), len(done) - 1 - done[::-1].index("group")
    assert done[first:last].count("ordinary") >= 4, done


async def test_a_batch_waits_while_an_async_unit_of_work_holds_the_connection(rig: Rig) -> None:
    async with rig.uows() as uow:
        # This unit of work now holds the engine's only connection and SQLite's write lock.
        await uow.users.seen(_user(1))
        task = asyncio.create_task(rig.writer(_put(2)))
        await asyncio.sleep(0.05)
        # The batch waits its turn for the connection, in the event loop. Had it gone straight
        # to its own connection, BEGIN IMMEDIATE would have blocked the whole loop on SQLite's
        # lock (this unit of work could never commit) until "database is locked".
        assert not task.done() and rig.writer.pieces == 0
        await uow.commit()
    assert await task == 2
    assert await _users_in_db(rig, [1, 2]) == {1, 2}


# ---- a caller that stopped waiting ---------------------------------------------------------


async def test_a_cancelled_waiter_is_skipped(rig: Rig) -> None:
    ran: list[int] = []

    def piece(uid: int) -> Callable[[UnitOfWork], Awaitable[int]]:
        async def work(uow: UnitOfWork) -> int:
            ran.append(uid)
            await uow.users.seen(_user(uid))
            await uow.commit()
            return uid

        return work

    tasks = [asyncio.create_task(rig.writer(piece(uid))) for uid in range(1, 6)]
    # One turn of the loop: every task has queued its piece and waits for its outcome, and the
    # drainer has not reached them yet (it has to get the engine's connection first).
    await asyncio.sleep(0)
    assert rig.writer.pieces == 0
    tasks[2].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert isinstance(results[2], asyncio.CancelledError)
    assert [r for i, r in enumerate(results) if i != 2] == [1, 2, 4, 5]
    assert ran == [1, 2, 4, 5]  # the cancelled piece was never run, not run and discarded
    assert rig.writer.pieces == 4
    assert await _users_in_db(rig, [1, 2, 3, 4, 5]) == {1, 2, 4, 5}


async def test_a_waiter_cancelled_by_an_earlier_piece_of_its_batch_is_skipped(rig: Rig) -> None:
    # The same, deterministically: the cancel happens inside the drain, before the piece's turn.
    tasks: list[asyncio.Task[int]] = []

    async def cancels_the_next(uow: UnitOfWork) -> int:
        tasks[1].cancel()
        return await _put(1)(uow)

    tasks.append(asyncio.create_task(rig.writer(cancels_the_next)))
    tasks += [asyncio.create_task(rig.writer(_put(uid))) for uid in (2, 3)]
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert results[0] == 1 and results[2] == 3
    assert isinstance(results[1], asyncio.CancelledError)
    assert rig.writer.batches == 1 and rig.writer.pieces == 2
    assert await _users_in_db(rig, [1, 2, 3]) == {1, 3}


async def test_close_waits_for_queued_work(rig: Rig) -> None:
    tasks = [asyncio.create_task(rig.writer(_put(uid))) for uid in range(1, 4)]
    await asyncio.sleep(0)  # queued, not yet run
    await rig.writer.close()
    assert all(t.done() for t in tasks)
    assert [t.result() for t in tasks] == [1, 2, 3]
    assert await _users_in_db(rig, [1, 2, 3]) == {1, 2, 3}


# ---- where it applies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:////tmp/x.db", True),
        ("sqlite+aiosqlite:///relative/x.db", True),
        ("sqlite+aiosqlite://", False),
        ("sqlite+aiosqlite:///:memory:", False),
        ("sqlite+aiosqlite:///file:x?mode=memory&uri=true", False),
        ("sqlite+aiosqlite:///file::memory:?cache=shared&uri=true", False),
        ("postgresql+asyncpg://u@h/db", False),
    ],
)
def test_can_group_commit(url: str, expected: bool) -> None:
    assert can_group_commit(url) is expected


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite:///file:x?mode=memory&uri=true",
    ],
)
async def test_group_commit_refuses_a_database_that_is_not_a_file(url: str) -> None:
    # Not make_engine: its pool settings do not fit in-memory SQLite.
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        with pytest.raises(ValueError, match="SQLite database file"):
            GroupCommit(engine)
    finally:
        await engine.dispose()


async def test_group_commit_refuses_postgresql() -> None:
    # Creating an asyncpg engine connects to nothing, so no server is needed.
    engine = create_async_engine("postgresql+asyncpg://u@h/db", poolclass=NullPool)
    try:
        with pytest.raises(ValueError, match="SQLite database file"):
            GroupCommit(engine)
    finally:
        await engine.dispose()
