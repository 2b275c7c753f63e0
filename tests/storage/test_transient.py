"""A deadlock on PostgreSQL is recognised as transient and the work run again: two
transactions locking two rows in opposite orders, as a payment and the background can."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import make_engine
from storage.transient import again_if_transient, is_transient


async def _crossing(engine: AsyncEngine, first: int, second: int, met: asyncio.Barrier) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE crossing SET n = n + 1 WHERE id = :id"), {"id": first})
        await met.wait()  # both hold their first row: the second UPDATEs cross
        await conn.execute(text("UPDATE crossing SET n = n + 1 WHERE id = :id"), {"id": second})


async def test_a_real_deadlock_is_transient_and_run_again(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: no deadlock between transactions")
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE IF EXISTS crossing"))
            await conn.execute(text("CREATE TABLE crossing (id INTEGER PRIMARY KEY, n INTEGER)"))
            await conn.execute(text("INSERT INTO crossing VALUES (1, 0), (2, 0)"))
        met = asyncio.Barrier(2)
        outcomes: list[Any] = list(
            await asyncio.gather(
                _crossing(engine, 1, 2, met), _crossing(engine, 2, 1, met), return_exceptions=True
            )
        )
        [failure] = [o for o in outcomes if isinstance(o, BaseException)]
        assert isinstance(failure, DBAPIError) and is_transient(failure)

        tries = 0

        async def once_deadlocked() -> str:
            nonlocal tries
            tries += 1
            if tries == 1:
                raise failure
            return "done"

        assert await again_if_transient(once_deadlocked) == "done" and tries == 2
        tries = 0
        with pytest.raises(DBAPIError):  # an effect was kept: not run again
            await again_if_transient(once_deadlocked, repeatable=lambda: False)
        assert tries == 1
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE crossing"))
    finally:
        await engine.dispose()


def test_other_errors_are_not_transient() -> None:
    class Orig(Exception):
        sqlstate = "23505"  # unique violation: running again fails again

    assert not is_transient(DBAPIError("INSERT", {}, Orig()))
    assert not is_transient(ValueError("not a database error"))


async def test_a_connection_the_server_dropped_is_transient_and_the_retry_succeeds(
    database_url: str,
) -> None:
    """The engine does not ping before each checkout (a round trip per unit of work): a pooled
    connection PostgreSQL has closed (a restart, a failover) fails once, and the run again
    gets a fresh one."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a SQLite file has no server to drop the connection")
    engine = make_engine(database_url)
    watcher = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with watcher.begin() as conn:  # the pooled connection is killed from outside
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        tries = 0

        async def read() -> int:
            nonlocal tries
            tries += 1
            async with engine.connect() as conn:
                return int((await conn.execute(text("SELECT 41 + 1"))).scalar_one())

        with pytest.raises(DBAPIError) as dropped:
            await read()  # the dead connection from the pool, unchecked
        assert is_transient(dropped.value)
        async with engine.connect() as conn:  # kill the next one too: the retry must cope
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with watcher.begin() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        tries = 0
        assert await again_if_transient(read) == 42
        assert tries == 2
    finally:
        await engine.dispose()
        await watcher.dispose()
