"""Diagnostic for figures 1 and 2: what one Join press costs inside the bot, without HTTP.

Calls `handlers.router.handle` with the same Press events the runtime builds, counting SQL
statements per press and time per press, beside the same number of the cheapest possible round
trips on the same engine (`SELECT 1`), so the share of the per-statement round trip is visible.
Two ways, as the runtime has them: one press at a time, each in its own unit of work (how
PostgreSQL runs them, and how SQLite did before group commit); and on SQLite, through the group
commit (`storage.group_commit`) with `--batch` presses handed in at once, as a getUpdates batch
arrives.

    .venv/bin/python -m bench.press_cost [--db sqlite,postgresql] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from bench.harness import (
    LoadEmulator,
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
from bench.profile_summary import by_library
from handlers import router
from handlers.callbacks import Callback, Op
from handlers.events import Chat, Person, Press
from storage.engine import make_engine
from storage.group_commit import GroupCommit, can_group_commit


async def measure(kind: str, residents: int, tmp: Path, profile: bool, batch: int) -> None:
    emu = LoadEmulator()
    await emu.start()
    db = await new_database(kind, tmp, f"cost-{kind}")
    engine = make_engine(db.url)
    try:
        deps = deps_for(engine)
        world = await seed_people(emu, deps, residents)
        from bench.joins import FULL

        await open_deals(emu, deps, world, stocks(FULL))
        statements: Counter[str] = Counter()

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements[statement.split(None, 1)[0].upper()] += 1

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        chat = Chat(world.group, "supergroup", "Bench Garden residents")
        presses = [
            Press(
                f"q{n}",
                Person(uid, f"N{n}", language_code="en"),
                chat,
                world.posts[4 + n % 6].message_id,  # plenty of stock: every press is a join
                Callback(
                    Op.JOIN, world.posts[4 + n % 6].deal_id, world.posts[4 + n % 6].item_id
                ).pack(),
            )
            for n, uid in enumerate(world.residents)
        ]
        half = len(presses) // 2
        times: list[float] = []
        group = can_group_commit(db.url)
        profiler = cProfile.Profile() if profile else None
        if profiler is not None and not group:
            profiler.enable()
        for press in presses[:half]:
            t = time.perf_counter()
            actions = await router.handle(deps, press)
            times.append(time.perf_counter() - t)
            assert actions and getattr(actions[0], "alert", True) is False, actions
        if profiler is not None and not group:
            profiler.disable()
        grouped: list[float] = []
        grouped_wall = 0.0
        if group:  # the profile, if asked for, is of these: the runtime's way on SQLite
            if profiler is not None:
                profiler.enable()
            writer = GroupCommit(engine)
            grouped_deps = replace(deps, writer=writer)
            for start in range(half, len(presses), batch):
                chunk = presses[start : start + batch]
                t = time.perf_counter()
                answered = await asyncio.gather(*(router.handle(grouped_deps, p) for p in chunk))
                grouped.append((time.perf_counter() - t) / len(chunk))
                grouped_wall += time.perf_counter() - t
                for actions in answered:
                    assert actions and getattr(actions[0], "alert", True) is False, actions
            if profiler is not None:
                profiler.disable()
            await writer.close()
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        per_press = sum(statements.values()) / len(times)  # the async-engine presses only
        rt: list[float] = []
        async with engine.connect() as conn:
            for _ in range(2000):
                t = time.perf_counter()
                await conn.execute(text("SELECT 1"))
                rt.append(time.perf_counter() - t)
        press_ms = median(times) * 1000
        rt_ms = median(rt) * 1000
        print(f"\n{db.label}: {len(times)} Join presses handled in-process, one at a time")
        print(
            f"  median time per press            {press_ms:7.2f} ms  (= {1000 / press_ms:.0f}/s "
            "if presses are serialised on one connection)"
        )
        print(
            f"  SQL statements per press         {per_press:7.1f}  "
            + ", ".join(f"{k} {v / len(times):.1f}" for k, v in statements.most_common())
        )
        print(
            f"  median SELECT 1 round trip       {rt_ms:7.3f} ms  (x {per_press:.0f} statements = "
            f"{rt_ms * per_press:.1f} ms, {100 * rt_ms * per_press / press_ms:.0f}% of a press)"
        )
        if grouped:
            group_ms = median(grouped) * 1000
            print(
                f"  group commit, {batch} at once:     {group_ms:7.2f} ms per press  "
                f"(= {1000 / group_ms:.0f}/s; {len(presses) - half} presses)"
            )
        if profiler is not None:
            by_library(profiler, grouped_wall if grouped else sum(times))
    finally:
        await engine.dispose()
        await emu.stop()
        await drop_database(db)


async def run(args: argparse.Namespace) -> None:
    header("press cost (diagnostic for figures 1 and 2)", args.quick)
    with workdir("cost") as tmp:
        for kind in args.db.split(","):
            await measure(kind, 100 if args.quick else 1200, Path(tmp), args.profile, args.batch)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--profile", action="store_true", help="cProfile the presses")
    parser.add_argument("--batch", type=int, default=32, help="presses per group commit")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
