"""Engine and session factory: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) in production."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_pragmas(dbapi_connection: Any, *, busy_ms: int) -> None:
    """Every SQLite connection of ours (the async engine's, group commit's, a backup's): WAL
    (readers never block the writer), foreign keys enforced, and how long the driver waits for
    another writer's lock.

    `synchronous=FULL`: in WAL mode each commit syncs the WAL before it returns, so a payment or
    an order that was answered survives a power cut or a kernel panic. NORMAL syncs only at
    checkpoints: a crash of the process loses nothing, but a power cut loses the last commits,
    after their buttons were answered. Group commit writes a burst's presses in one transaction,
    so the sync is paid per batch, not per press (its cost: docs/operations.md)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    cursor.close()


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    if is_sqlite(url):
        # SQLite has one writer. A single pooled connection makes writers queue in our process
        # instead of failing with "database is locked"; transactions here are kept short.
        engine = create_async_engine(
            url,
            echo=echo,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
            connect_args={"timeout": 30},
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            sqlite_pragmas(dbapi_connection, busy_ms=30_000)

        return engine
    # No ping before each checkout: it was one more round trip for every unit of work, a tenth
    # of a press. A connection the server dropped (a restart, a failover) fails its first
    # statement instead; SQLAlchemy then invalidates the pool, and the update's handling is run
    # again on a fresh connection (storage.transient), as after a deadlock.
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=10)


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
