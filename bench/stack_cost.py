"""Diagnostic for figures 1, 5 and 6: what the stack itself costs a press, before any of the bot.

Issue 13 asks for joins at 0.6 (SQLite) and 0.5 (PostgreSQL) of a floor that is aiogram
answering each press, and for peak memory under 1.3 x that floor's. This measures how much of
that budget the storage stack takes by itself, with no domain logic, no rendering and no
Telegram:

- **SQL a press.** Real Join presses are handled once (`handlers.router.handle`, as
  `bench.press_cost` does) while every statement they send is recorded twice: as SQLAlchemy
  executed it (the statement object and its parameters) and as the driver received it (the SQL
  text and its parameters). Each recording is then replayed on a copy of the database as it was
  before the presses, the way the runtime runs it: on SQLite inside one `BEGIN IMMEDIATE …
  COMMIT` of 32 presses, each in a savepoint (`storage.group_commit`); on PostgreSQL each press
  its own transaction on the async engine. The same statements through the driver alone
  (sqlite3; asyncpg with its statement cache) are the floor. Figures are CPU time of this
  process a press (the database server's own work on PostgreSQL is not in them: the bot does
  not pay for it).
- **Memory.** Resident memory of a fresh interpreter with what the fair floor imports (aiogram
  with lazy types, `bench/bare_bot.py`), then with SQLAlchemy's ORM and async engine added,
  then with the whole bot (`bot.runtime`).

    .venv/bin/python -m bench.stack_cost [--db sqlite,postgresql] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Executable, create_engine, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from bench.harness import (
    PG_ADMIN_URL,
    LoadEmulator,
    _admin,
    deps_for,
    drop_database,
    header,
    median,
    new_database,
    open_deals,
    seed_people,
    workdir,
)
from bench.joins import stocks
from handlers import router
from handlers.callbacks import Callback, Op
from handlers.events import Chat, Person, Press
from storage.engine import make_engine, make_sessions, sqlite_pragmas

BATCH = 32  # presses a group-commit transaction, as in bench.press_cost
_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")

Recorded = tuple[list[tuple[Executable, Any]], list[tuple[str, Any]]]


def _record(sync_engine: Any) -> tuple[Recorded, Callable[[], None]]:
    """Listeners that record each statement as SQLAlchemy ran it and as the driver got it."""
    objects: list[tuple[Executable, Any]] = []
    texts: list[tuple[str, Any]] = []

    def before_execute(_c: Any, element: Any, multi: Any, params: Any, _o: Any) -> None:
        # the savepoints the group commit wraps each press in: the replay makes its own
        if not type(element).__name__.endswith("SavepointClause"):
            objects.append((element, list(multi) if multi else (params or None)))

    def before_cursor(_c: Any, _cur: Any, statement: str, parameters: Any, *_a: Any) -> None:
        if not statement.lstrip().upper().startswith(_CONTROL):
            texts.append((statement, parameters))

    event.listen(sync_engine, "before_execute", before_execute)
    event.listen(sync_engine, "before_cursor_execute", before_cursor)

    def stop() -> None:
        event.remove(sync_engine, "before_execute", before_execute)
        event.remove(sync_engine, "before_cursor_execute", before_cursor)

    return (objects, texts), stop


async def _handle(
    deps: Any, sync_engine: Any, presses: list[Press]
) -> tuple[list[list[tuple[Executable, Any]]], list[list[tuple[str, Any]]]]:
    """Handle the presses one at a time, each one's statements recorded apart."""
    objects: list[list[tuple[Executable, Any]]] = []
    texts: list[list[tuple[str, Any]]] = []
    for press in presses:
        (ran, sent), stop = _record(sync_engine)
        actions = await router.handle(deps, press)
        stop()
        assert actions and getattr(actions[0], "alert", True) is False, actions
        assert len(ran) == len(sent), (ran, sent)
        objects.append(ran)
        texts.append(sent)
    return objects, texts


async def _presses(kind: str, tmp: Path, residents: int) -> tuple[Any, list[Press], AsyncEngine]:
    emu = LoadEmulator()
    await emu.start()
    db = await new_database(kind, tmp, f"stack-{kind}")
    engine = make_engine(db.url)
    deps = deps_for(engine)
    world = await seed_people(emu, deps, residents)
    from bench.joins import FULL

    await open_deals(emu, deps, world, stocks(FULL))
    await emu.stop()
    chat = Chat(world.group, "supergroup", "Bench Garden residents")
    presses = []
    for n, uid in enumerate(world.residents):
        post = world.posts[4 + n % 6]  # plenty of stock: every press is a first join
        data = Callback(Op.JOIN, post.deal_id, post.item_id).pack()
        presses.append(
            Press(f"q{n}", Person(uid, f"N{n}", language_code="en"), chat, post.message_id, data)
        )
    return db, presses, engine


class _Clock:
    """CPU time of this process over the second half of the runs only: the first half warms
    what a long-running bot has warm (compiled statements, prepared statements)."""

    def __init__(self, runs: int) -> None:
        self.half = runs // 2
        self.counted = 0
        self.seconds = 0.0

    def run(self, index: int, work: Callable[[], None], presses: int = 1) -> None:
        start = time.process_time()
        work()
        if index >= self.half:
            self.seconds += time.process_time() - start
            self.counted += presses

    async def run_async(self, index: int, press: Callable[[], Awaitable[None]]) -> None:
        start = time.process_time()
        await press()
        if index >= self.half:
            self.seconds += time.process_time() - start
            self.counted += 1

    @property
    def ms(self) -> float:
        return 1000 * self.seconds / self.counted


# --- SQLite ----------------------------------------------------------------------------------


def _copy_sqlite(url: str, to: Path) -> str:
    source = sqlite3.connect(make_url(url).database or "")
    target = sqlite3.connect(to)
    source.backup(target)
    source.close()
    target.close()
    return str(to)


def _replay_sqlalchemy(path: str, objects: list[list[tuple[Executable, Any]]]) -> float:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _connect(dbapi: Any, _record: Any) -> None:
        dbapi.isolation_level = None
        sqlite_pragmas(dbapi, busy_ms=20)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    clock = _Clock(-(-len(objects) // BATCH))
    with engine.connect() as conn:
        for batch, start in enumerate(range(0, len(objects), BATCH)):

            def transaction(start: int = start) -> None:
                with conn.begin():
                    for press in objects[start : start + BATCH]:
                        session = Session(
                            bind=conn,
                            join_transaction_mode="create_savepoint",
                            expire_on_commit=False,
                        )
                        for statement, params in press:
                            session.execute(statement, params)
                        session.commit()
                        session.close()

            clock.run(batch, transaction, len(objects[start : start + BATCH]))
    engine.dispose()
    return clock.ms


def _replay_sqlite3(path: str, texts: list[list[tuple[str, Any]]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    sqlite_pragmas(conn, busy_ms=20)
    cursor = conn.cursor()
    clock = _Clock(-(-len(texts) // BATCH))
    for batch, start in enumerate(range(0, len(texts), BATCH)):

        def transaction(start: int = start) -> None:
            cursor.execute("BEGIN IMMEDIATE")
            for press in texts[start : start + BATCH]:
                cursor.execute("SAVEPOINT press")
                for statement, params in press:
                    cursor.execute(statement, params).fetchall()
                cursor.execute("RELEASE press")
            cursor.execute("COMMIT")

        clock.run(batch, transaction, len(texts[start : start + BATCH]))
    conn.close()
    return clock.ms


async def sqlite_cost(tmp: Path, residents: int) -> tuple[float, float, float]:
    """(SQLAlchemy ms, sqlite3 ms, statements) a press."""
    db, presses, engine = await _presses("sqlite", tmp, residents)
    try:
        copies = [_copy_sqlite(db.url, tmp / f"replay-{n}.db") for n in range(2)]
        from dataclasses import replace

        from storage.group_commit import GroupCommit

        writer = GroupCommit(engine)
        deps = replace(deps_for(engine), writer=writer)
        objects, texts = await _handle(deps, writer._sync, presses)
        await writer.close()
        sa = _replay_sqlalchemy(copies[0], objects)
        raw = _replay_sqlite3(copies[1], texts)
        return sa, raw, median([len(o) for o in objects])
    finally:
        await engine.dispose()
        await drop_database(db)


# --- PostgreSQL ------------------------------------------------------------------------------


async def postgresql_cost(tmp: Path, residents: int) -> tuple[float, float, float]:
    """(SQLAlchemy ms, asyncpg ms, statements) a press, CPU of this process."""
    db, presses, engine = await _presses("postgresql", tmp, residents)
    name = make_url(db.url).database
    copies = [f"{name}_replay_{n}" for n in range(2)]
    try:
        await engine.dispose()
        for copy in copies:
            await _admin(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"', PG_ADMIN_URL)
        deps = deps_for(engine)
        objects, texts = await _handle(deps, engine.sync_engine, presses)
        await engine.dispose()

        replica = make_engine(str(make_url(db.url).set(database=copies[0])))
        sessions = make_sessions(replica)

        clock = _Clock(len(objects))
        for index, ran in enumerate(objects):

            async def through_sqlalchemy(ran: list[tuple[Executable, Any]] = ran) -> None:
                async with sessions() as session:
                    for statement, params in ran:
                        await session.execute(statement, params)
                    await session.commit()

            await clock.run_async(index, through_sqlalchemy)
        sa = clock.ms
        await replica.dispose()

        url = make_url(db.url).set(drivername="postgresql", database=copies[1])
        conn = await asyncpg.connect(url.render_as_string(hide_password=False))

        clock = _Clock(len(texts))
        for index, recorded in enumerate(texts):

            async def through_asyncpg(press: list[tuple[str, Any]] = recorded) -> None:
                async with conn.transaction():
                    for statement, params in press:
                        await conn.fetch(statement, *params)

            await clock.run_async(index, through_asyncpg)
        raw = clock.ms
        await conn.close()
        return sa, raw, median([len(o) for o in objects])
    finally:
        await engine.dispose()
        for copy in copies:
            await _admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)', PG_ADMIN_URL)
        await drop_database(db)


# --- memory ----------------------------------------------------------------------------------

_FLOOR = (
    "from bot.lean_types import load_aiogram_types; load_aiogram_types(); "
    "import aiohttp, aiogram, aiogram.dispatcher.dispatcher; "
)
_STEPS = {
    "the fair floor's imports (aiogram, lazy types)": "",
    "+ SQLAlchemy (core, ORM, async engine, aiosqlite)": (
        "import sqlalchemy, sqlalchemy.orm, sqlalchemy.ext.asyncio, aiosqlite; "
    ),
    "+ the whole bot (bot.runtime)": "import bot.runtime; ",
}


def _rss_mb(code: str) -> float:
    rss = "[l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]"
    probe = f"{code}print({rss})"
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=root
    )
    return int(out.stdout.strip()) / 1024


def memory() -> None:
    print("\nMemory: resident set of a fresh interpreter (median of 3), MB")
    code = _FLOOR
    floor = 0.0
    for label, more in _STEPS.items():
        code += more
        rss = median([_rss_mb(code) for _ in range(3)])
        floor = floor or rss
        print(f"  {label:<52} {rss:6.1f}  (+{rss - floor:.1f} over the floor's)")
    print(f"  1.3 x the floor's imports leaves {0.3 * floor:.1f} MB for everything the bot adds")


async def run(args: argparse.Namespace) -> None:
    header("stack cost (diagnostic for figures 1, 5 and 6)", args.quick)
    residents = 100 if args.quick else 1000
    with workdir("stack") as tmp:
        for kind in args.db.split(","):
            measure = sqlite_cost if kind == "sqlite" else postgresql_cost
            rounds = [await measure(Path(tmp), residents) for _ in range(1 if args.quick else 3)]
            sa = median([r[0] for r in rounds])
            raw = median([r[1] for r in rounds])
            how = (
                f"in savepoints, {BATCH} presses a transaction"
                if kind == "sqlite"
                else "a transaction each"
            )
            print(f"\n{kind}: {residents} first joins' statements ({rounds[0][2]:.0f} each), {how}")
            print(f"  CPU a press through SQLAlchemy       {sa:6.3f} ms")
            print(f"  CPU a press through the driver alone {raw:6.3f} ms  (the floor)")
            print(f"  SQLAlchemy's own                     {sa - raw:6.3f} ms  ({sa / raw:.1f} x)")
    if args.memory:
        memory()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", default="sqlite", help="sqlite, postgresql or both")
    parser.add_argument("--no-memory", dest="memory", action="store_false")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
