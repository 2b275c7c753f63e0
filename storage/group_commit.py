"""Group commit for SQLite: the writes that arrive together reach the database in one transaction.

Why: SQLite has one writer, so the units of work of a burst of button presses queue for it
anyway. Through aiosqlite each statement of a unit of work is a hand-off to the driver's thread
and back, and each commit writes its pages to the WAL again; a press spent most of its time in
that traffic, not in SQLite. Here the pieces of work that are waiting run one after another, on
a synchronous connection, inside one `BEGIN IMMEDIATE … COMMIT`:

- each in a savepoint of its own, through the same repositories and use cases as anywhere else
  (`storage.db.InlineSession`): a piece that fails or is refused leaves no trace, and the others
  stand;
- none learns its outcome before the COMMIT has succeeded, so no button is answered for a change
  that is not in the database; if the COMMIT fails, every piece in the batch fails with it;
- while a batch runs it holds the async engine's only connection (`storage.engine` gives SQLite
  one), so nothing else in this process writes in between, and the event loop, since nothing
  here suspends (a piece that tries fails with `Suspended`): a batch is short (a press is about
  half a millisecond), and it is bounded by `max_batch`;
- when another process holds SQLite's write lock, the batch waits for it off the event loop
  (`lock_wait`), not inside the driver.

Only for a SQLite file: PostgreSQL runs units of work side by side on its own connections, and an
in-memory SQLite database cannot be opened twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from groupbuy import delivery
from groupbuy.ports import UnitOfWork
from storage.db import InlineSession
from storage.engine import sqlite_pragmas
from storage.unit_of_work import SqlUnitOfWork

log = logging.getLogger(__name__)
T = TypeVar("T")
_Work = Callable[[UnitOfWork], Awaitable[Any]]
_LOCK_RETRY = 0.05  # seconds between tries for the write lock held by another process
# A piece of work, the future its caller awaits, and the update its caller is handling: the
# drainer task runs it, so the caller's context (groupbuy.delivery) is carried over by hand.
_Queued = tuple[_Work, "asyncio.Future[Any]", delivery.Delivery | None]


class Suspended(RuntimeError):
    """A piece of work awaited something other than the database. While a batch runs it holds
    the database and the event loop; waiting there for anything else (another unit of work, the
    network) would stall every press, or deadlock. Its savepoint is rolled back."""


def _run_inline(piece: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that must finish without suspending (InlineSession never does)."""
    try:
        piece.send(None)
    except StopIteration as finished:
        result: T = finished.value
        return result
    piece.close()  # unwinds it: the unit of work rolls back to its savepoint
    raise Suspended("group-committed work must await nothing but its unit of work")


def _locked(error: OperationalError) -> bool:
    return "locked" in str(error.orig).lower()


class BatchLost(RuntimeError):
    """SQLite rolled the batch's whole transaction back by itself (a full disk, an I/O error):
    what earlier pieces released into it is gone, so none of them may be told it succeeded."""


def _still_open(conn: Connection) -> None:
    # On SQLITE_FULL, SQLITE_IOERR or SQLITE_NOMEM SQLite ends the transaction itself. Found by
    # tests/storage/test_group_commit.py: without this check the pieces after it ran outside
    # any transaction and the COMMIT, with nothing to commit, raised nothing.
    dbapi = conn.connection.dbapi_connection
    if dbapi is None or not dbapi.in_transaction:
        raise BatchLost("the database ended the transaction of this batch")


def can_group_commit(url: str) -> bool:
    parsed = make_url(url)
    database = parsed.database or ""
    return (
        parsed.get_backend_name() == "sqlite"
        and database != ""
        and ":memory:" not in database
        and parsed.query.get("mode") != "memory"
    )


class GroupCommit:
    """A `groupbuy.ports.Writer` for SQLite files. `max_batch` bounds how long the loop is held."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_batch: int = 256,
        busy_ms: int = 20,
        lock_wait: float = 30.0,
    ) -> None:
        """`busy_ms`: how long the driver itself may wait for a lock (it waits on the event
        loop, so briefly); `lock_wait`: how long a batch retries, off the loop, while another
        process holds the write lock, before its pieces fail."""
        if not can_group_commit(str(engine.url)):
            raise ValueError("group commit needs a SQLite database file")
        self._guard = engine
        self._sync = create_engine(engine.url.set(drivername="sqlite"))
        self._max_batch = max_batch
        self._lock_wait = lock_wait
        self._queue: deque[_Queued] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self.batches = 0  # how many transactions, and how many pieces of work they carried
        self.pieces = 0

        @event.listens_for(self._sync, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            # The stdlib driver's own transaction handling mishandles SAVEPOINT; SQLAlchemy's
            # recipe: switch it off and say BEGIN ourselves (below).
            dbapi_connection.isolation_level = None
            sqlite_pragmas(dbapi_connection, busy_ms=busy_ms)

        @event.listens_for(self._sync, "begin")
        def _begin(conn: Connection) -> None:
            # Take the write lock at once: a batch always writes.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    async def __call__(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((work, done, delivery.current()))
        if self._drainer is None:
            # Started, not run: the presses already taken from this getUpdates batch queue up
            # behind this one before the first transaction begins.
            self._drainer = asyncio.create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        try:
            while self._queue:
                size = min(len(self._queue), self._max_batch)
                await self._run([self._queue.popleft() for _ in range(size)])
        finally:
            self._drainer = None
            while self._queue:  # only when the drainer itself was cancelled (shutdown)
                self._queue.popleft()[1].cancel()

    async def _run(self, batch: list[_Queued]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        held: list[Callable[[], None]] = []  # after-commit callbacks of the pieces that committed
        waited = 0.0
        try:
            while True:
                async with self._guard.connect():
                    with self._sync.connect() as conn:
                        try:
                            transaction = conn.begin()
                        except OperationalError as error:
                            if not _locked(error) or waited >= self._lock_wait:
                                raise
                            locked = True
                        else:
                            locked = False
                            with transaction:
                                self._pieces(conn, batch, outcomes, held)
                if not locked:
                    break
                # Another process (a second bot on the same file, a sqlite3 shell) holds the
                # write lock. Waited for here, not in the driver: the event loop stays free.
                await asyncio.sleep(_LOCK_RETRY)
                waited += _LOCK_RETRY
        except Exception as error:
            # The COMMIT or the connection failed: nothing of this batch is in the database, so
            # every piece of it hears that it failed; the next batch tries afresh.
            for _, done, _ in batch:
                if not done.done():
                    done.set_exception(error)
            return
        except BaseException:  # cancelled (shutdown): the transaction was rolled back
            for _, done, _ in batch:
                done.cancel()
            raise
        self.batches += 1
        self.pieces += len(outcomes)
        for done, value, failure in outcomes:
            if done.done():
                continue
            if failure is None:
                done.set_result(value)
            else:
                done.set_exception(failure)
        # After the outcomes: a callback that fails must not leave a caller waiting.
        for callback in held:
            try:
                callback()
            except Exception:
                log.exception("after-commit callback failed")

    def _pieces(
        self,
        conn: Connection,
        batch: list[_Queued],
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]],
        held: list[Callable[[], None]],
    ) -> None:
        for work, done, handling in batch:
            if done.cancelled():
                continue  # its press gave up waiting: do not do it unseen
            token = delivery.begin(handling)
            try:
                value = _run_inline(self._one(conn, work, held))
            except Exception as error:  # rolled back to its savepoint
                outcomes.append((done, None, error))
            else:
                outcomes.append((done, value, None))
            finally:
                delivery.end(token)
            _still_open(conn)

    @staticmethod
    async def _one(conn: Connection, work: _Work, held: list[Callable[[], None]]) -> Any:
        # The session joins the batch's transaction through a savepoint: its commit releases
        # the savepoint, its rollback (a refusal, an error) undoes this piece alone.
        session = Session(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        async with SqlUnitOfWork(lambda: InlineSession(session), held) as uow:
            return await work(uow)

    async def close(self) -> None:
        if self._drainer is not None:
            await asyncio.wait({self._drainer})
        self._sync.dispose()
