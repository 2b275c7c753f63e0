"""Databases for the storage tests: SQLite files and PostgreSQL, schema made by the migrations.

PostgreSQL is used when TEST_DATABASE_URL is set. The tests never touch that database's data:
they create a database of their own next to it (dropped at the end of the session) and recreate
its `public` schema for every test module.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage import migrate
from storage.tables import Base

PG_URL = os.environ.get("TEST_DATABASE_URL") or None
SQL_BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]

T = TypeVar("T")


def run_sync(fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run a coroutine function to completion on a thread of its own (safe inside a running loop
    and from sync code alike)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(fn(*args))).result()  # type: ignore[arg-type]


def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Alembic's env.py runs its own event loop: keep it off any running one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def new_sqlite(path: Path) -> str:
    """A fresh SQLite file migrated to head."""
    url = sqlite_url(path)
    in_thread(migrate.upgrade, url)
    return url


def copy_sqlite(template: Path, path: Path) -> str:
    shutil.copyfile(template, path)
    return sqlite_url(path)


async def _admin(sql: str, url: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def create_pg_database() -> str:
    """A new, empty database on the TEST_DATABASE_URL server; returns its URL."""
    assert PG_URL is not None
    base = make_url(PG_URL)
    name = f"groupbuy_test_{os.getpid()}_{secrets.token_hex(3)}"
    run_sync(_admin, f'CREATE DATABASE "{name}"', base.render_as_string(hide_password=False))
    return base.set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(database=make_url(PG_URL or url).database)
    run_sync(
        _admin,
        f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)',
        admin.render_as_string(hide_password=False),
    )


def reset_pg_schema(url: str) -> None:
    """Drop everything in the database and migrate it to head."""

    async def reset() -> None:
        await _admin("DROP SCHEMA IF EXISTS public CASCADE", url)
        await _admin("CREATE SCHEMA public", url)

    run_sync(reset)


async def delete_all(engine: AsyncEngine) -> None:
    """Empty every table (keeping the schema) so each test starts from nothing."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(table.delete())
