"""Figure 3: closing a deal and its pickup list at 1k, 10k and 100k orders, beside the floor.

For each size a SQLite database is seeded (bulk INSERTs into the project's tables: residents with
Chinese names and rooms, one deal with six items, one order of 1–3 lines per resident, and a
second deal open for joining), then, on a fresh copy of it per round:

* close:  `groupbuy.deals.close_deal` in one unit of work, committed (the status change and the
          notices to the group and every buyer written to the outbox);
* list:   what a leader's /list waits for: `handlers.pickup_list.documents` (one read of the
          deal's orders, then rows, PDF, CSV and the chat messages drawn in a worker thread);
          meanwhile neighbours press Join on the other deal at a steady rate, through the group
          commit as the runtime does, and each press's time to its answer is taken;
* unpack: the list's chat messages made from what the worker sent back (the runtime makes each
          as it is sent, at the chat's pace: handlers.actions.Later); "ready" is list + unpack;
* again:  the same /list pressed again, nothing changed (the list drawn before is sent);
* parts, each alone: read (`handlers.pickup_list.build`: the one statement and the rows),
          PDF (`render_pdf`), CSV (`render_csv`), list messages (`list_messages`).

Floor: the same rows written as CSV by the standard library's csv module alone.

    .venv/bin/python -m bench.closing              # 1k, 10k, 100k; median of 3 rounds
    .venv/bin/python -m bench.closing --sizes 1000,10000 --repeats 5
    .venv/bin/python -m bench.closing --quick      # 100, 300, 1000; one round
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import io
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update

from bench.harness import (
    BUILDINGS,
    code_for,
    deps_for,
    growth_exponent,
    header,
    median,
    new_database,
    percentile,
    row,
    table_head,
    verdict,
    workdir,
)
from bench.profile_summary import by_library
from bot.list_worker import ListWorker, uncollected
from groupbuy.deals import close_deal, open_deal
from groupbuy.model import CloseReason, Community, Deal, DealSpec, ItemSpec, MinimumKind
from handlers import router
from handlers.actions import Action, Later
from handlers.callbacks import Callback, Op
from handlers.context import Deps
from handlers.events import Chat, Person, Press
from handlers.pickup_list import build, documents, list_messages
from messages.pickup_list import PickupList, render_csv, render_pdf
from storage.engine import make_engine
from storage.group_commit import GroupCommit
from storage.tables import ItemRow, OrderLineRow, OrderRow, OutboxRow, ResidentRow, UserRow

TARGET_LIST_SECONDS = {10_000: 1.0, 100_000: 10.0}  # issue 13
TARGET_PRESS_P99_MS = 100.0
PRESS_RATE = 50.0  # Join presses per second on the other deal while the list is drawn
GROUP = -1_000_000_000_777
LEADER = 999_000_001
FIRST_USER = 500_000_001  # the buyers: FIRST_USER + 0 … n − 1
SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰"]
ITEMS = [
    ("鲜牛奶", "瓶", 1250),
    ("土鸡蛋", "盒", 2800),
    ("Organic Apples", "kg", 1590),
    ("有机蔬菜礼盒（大份，含西兰花、胡萝卜、小白菜）", "份", 6800),
    ("Sourdough Bread", "loaf", 2200),
    ("五常大米", "袋", 8900),
]


def name_of(i: int) -> str:
    """The i-th buyer's name."""
    k = i * 7919
    return SURNAMES[k % len(SURNAMES)] + GIVEN[k % len(GIVEN)]


async def seed(path_stem: str, tmp: Path, n: int) -> tuple[Path, int, int]:
    """A SQLite file with one open deal of `n` orders and another open deal with none; returns
    (file, the first deal's id, the other's)."""
    db = await new_database("sqlite", tmp, path_stem)
    engine = make_engine(db.url)
    deps = deps_for(engine)
    now = datetime.now(UTC)
    try:
        community = Community(
            GROUP, "阳光花园业主群", "阳光花园小区", BUILDINGS, locale="zh_Hans", configured=True
        )
        spec = DealSpec(
            title="周六鲜奶团 · 第 42 期",
            description="光明牧场",
            items=tuple(ItemSpec(name, unit, price, 10 * n + 10) for name, unit, price in ITEMS),
            deadline=now + timedelta(days=1),
            pickup_place="3号楼东门快递柜旁",
            pickup_window="6月1日 周六 09:00–12:00",
            minimum_kind=MinimumKind.PARTICIPANTS,
            minimum=1,
        )
        async with deps.uow() as uow:
            await uow.communities.save(community)
            deal = await open_deal(uow, community, LEADER, spec, now, timedelta(hours=1))
            other = await open_deal(uow, community, LEADER, spec, now, timedelta(hours=1))
            await uow.commit()
        items = [i.id for i in deal.items]
        first_user = FIRST_USER
        sold: dict[int, int] = dict.fromkeys(items, 0)
        async with engine.begin() as conn:
            next_order = 1 + int(
                (await conn.execute(select(func.coalesce(func.max(OrderRow.id), 0)))).scalar_one()
            )
            for start in range(0, n, 5000):
                users, residents, orders, lines = [], [], [], []
                for i in range(start, min(n, start + 5000)):
                    code = code_for(i)
                    k = i * 7919
                    uid = first_user + i
                    users.append(
                        {
                            "id": uid,
                            "first_name": name_of(i),
                            "last_name": None,
                            "username": None,
                            "language_code": "zh-hans",
                            "locale": None,
                            "started": True,
                        }
                    )
                    residents.append(
                        {
                            "community_id": GROUP,
                            "user_id": uid,
                            "building": BUILDINGS[k % len(BUILDINGS)],
                            "unit": str(1 + k % 4),
                            "room": f"{1 + k % 18}{(k % 4) + 1:02d}",
                            "phone": f"138{k % 100000000:08d}" if i % 2 else None,
                        }
                    )
                    oid = next_order
                    next_order += 1
                    orders.append(
                        {
                            "id": oid,
                            "deal_id": deal.id,
                            "community_id": GROUP,
                            "user_id": uid,
                            "code": code,
                            "created_at": now,
                            "picked_up_at": None,
                        }
                    )
                    for j in range(1 + i % 3):
                        item = items[(k + j) % len(items)]
                        q = 1 + (k + j) % 3
                        sold[item] += q
                        lines.append({"order_id": oid, "item_id": item, "quantity": q})
                await conn.execute(insert(UserRow), users)
                await conn.execute(insert(ResidentRow), residents)
                await conn.execute(insert(OrderRow), orders)
                await conn.execute(insert(OrderLineRow), lines)
            for item, q in sold.items():
                await conn.execute(update(ItemRow).where(ItemRow.id == item).values(sold=q))
    finally:
        await engine.dispose()
    return Path(db.url.split("///", 1)[1]), deal.id, other.id


def stdlib_csv(pickup: PickupList) -> bytes:
    """The floor: the same rows through the standard library's csv writer."""
    out = io.StringIO()
    writer = csv.writer(out)
    for r in pickup.rows:
        writer.writerow(
            (
                r.building,
                r.unit,
                r.room,
                r.name,
                r.phone or "",
                "; ".join(f"{ln.item} ×{ln.quantity}" for ln in r.lines),
                r.amount,
                r.code,
                r.payment,
                "✓" if r.picked_up else "",
            )
        )
    return out.getvalue().encode("utf-8")


def parts_of(actions: list[Action]) -> list[Action]:
    """The actions with every long answer's parts made."""
    out: list[Action] = []
    for action in actions:
        out.extend(action.parts() if isinstance(action, Later) else [action])
    return out


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds `fn` takes as the list worker runs it (bot.list_worker.uncollected)."""
    t = time.perf_counter()
    with uncollected():
        result = fn()
    return time.perf_counter() - t, result


async def presses_meanwhile(
    deps: Deps, deal: Deal, buyers: int, stop: asyncio.Event
) -> list[float]:
    """Join presses on `deal` at PRESS_RATE until `stop`, each by the next buyer, handled as
    the runtime handles them; the seconds from each press to its answer."""
    chat = Chat(GROUP, "supergroup", "阳光花园业主群")
    item = deal.items[0].id
    data = Callback(Op.JOIN, deal.id, item).pack()
    latencies: list[float] = []
    tasks = []

    async def one_press(n: int) -> None:
        i = n % buyers
        person = Person(FIRST_USER + i, name_of(i), language_code="zh-hans")
        press = Press(f"q{n}", person, chat, 1, data)
        t = time.perf_counter()
        actions = await router.handle(deps, press)
        latencies.append(time.perf_counter() - t)
        assert actions and getattr(actions[0], "alert", True) is False, actions

    start = time.perf_counter()
    n = 0
    while not stop.is_set():
        delay = start + n / PRESS_RATE - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one_press(n)))
        n += 1
    await asyncio.gather(*tasks)
    return latencies


async def one(
    template: Path,
    deal_id: int,
    other_id: int,
    n: int,
    copy: Path,
    messages: bool,
    profile: bool = False,
) -> dict[str, float]:
    shutil.copyfile(template, copy)
    url = f"sqlite+aiosqlite:///{copy}"
    engine = make_engine(url)
    writer = GroupCommit(engine)
    drawer = ListWorker(url)  # as the runtime draws lists: in a process of its own
    deps = replace(deps_for(engine), writer=writer, drawer=drawer)
    out: dict[str, float] = {}
    try:
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        t = time.perf_counter()
        async with deps.uow() as uow:
            closed = await close_deal(uow, deal_id, CloseReason.LEADER, deps.clock.now())
            other = await uow.deals.get(other_id)
            await uow.commit()
        out["close"] = time.perf_counter() - t
        if profiler is not None:
            profiler.disable()
            print(f"\n  profile of close_deal at {n} orders")
            by_library(profiler, out["close"])
            profiler = cProfile.Profile()
            profiler.enable()
        assert closed is not None and other is not None
        async with engine.connect() as conn:
            notices = (await conn.execute(select(func.count()).select_from(OutboxRow))).scalar()
        assert notices == n + 1, (notices, n)  # the group's notice and one per buyer
        # The worker process starts with the first list after a quiet spell; measured apart.
        t = time.perf_counter()
        await documents(deps, other, LEADER, "zh_Hans")
        out["worker_start"] = time.perf_counter() - t
        # What the leader waits for, while neighbours keep pressing.
        stop = asyncio.Event()
        pressing = asyncio.create_task(presses_meanwhile(deps, other, n, stop))
        await asyncio.sleep(0.2)  # the presses are going
        t = time.perf_counter()
        sent = await documents(deps, closed, LEADER, "zh_Hans")
        out["list"] = time.perf_counter() - t
        # Each part is made as it is sent (handlers.actions.Later), at a chat's pace: work all
        # the same, counted here, all at once.
        t = time.perf_counter()
        sent = parts_of(sent)
        out["unpack"] = time.perf_counter() - t
        out["ready"] = out["list"] + out["unpack"]
        stop.set()
        latencies = await pressing
        out["press_p50"] = percentile(latencies, 50) * 1000
        out["press_p99"] = percentile(latencies, 99) * 1000
        out["press_max"] = max(latencies) * 1000
        out["presses"] = len(latencies)
        t = time.perf_counter()
        again = parts_of(await documents(deps, closed, LEADER, "zh_Hans"))
        out["again"] = time.perf_counter() - t
        # sent as drawn the first time (the same bytes, down to the time it was made)
        assert [getattr(a, "content", a) for a in again] == [getattr(a, "content", a) for a in sent]
        if profiler is not None:
            profiler.disable()
            print(f"\n  profile of /list (documents) at {n} orders")
            by_library(profiler, out["list"] + out["again"])
            profiler = cProfile.Profile()
            profiler.enable()
        t = time.perf_counter()
        built = await build(deps, closed, "zh_Hans")
        out["read"] = time.perf_counter() - t
        assert built is not None
        pickup, orders = built
        assert len(pickup.rows) == n
        out["pdf"], pdf = timed(lambda: render_pdf(pickup))
        if profiler is not None:
            profiler.disable()
            print(f"\n  profile of the read and render_pdf at {n} orders")
            by_library(profiler, out["read"] + out["pdf"])
        out["pdf_bytes"] = len(pdf)
        out["csv"], csv_bytes = timed(lambda: render_csv(pickup))
        out["csv_bytes"] = len(csv_bytes)
        out["floor"], _ = timed(lambda: stdlib_csv(pickup))
        if messages:
            out["messages"], texts = timed(
                lambda: list_messages(deps.texts, "zh_Hans", closed, pickup, orders, LEADER)
            )
            out["message_count"] = len(texts)
    finally:
        drawer.close()
        await writer.close()
        await engine.dispose()
        copy.unlink(missing_ok=True)
    return out


async def run(args: argparse.Namespace) -> None:
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else ([100, 300, 1000] if args.quick else [1_000, 10_000, 100_000])
    )
    repeats = args.repeats or (1 if args.quick else 3)
    header("closing and pickup lists (figure 3)", args.quick)
    medians: dict[int, dict[str, float]] = {}
    with workdir("closing") as tmp_name:
        tmp = Path(tmp_name)
        # Warm-up, not measured: imports, the CJK font parsed once per process, templates.
        template, deal_id, other_id = await seed("warm-up", tmp, 50)
        await one(template, deal_id, other_id, 50, tmp / "warm-up-copy.db", True)
        for n in sizes:
            t = time.perf_counter()
            template, deal_id, other_id = await seed(f"closing-{n}", tmp, n)
            seeded = time.perf_counter() - t
            rounds = []
            for r in range(repeats):
                messages = args.messages and n <= args.messages_up_to
                profile = args.profile and r == 0 and n == max(sizes)
                copy = tmp / f"round-{n}-{r}.db"
                rounds.append(await one(template, deal_id, other_id, n, copy, messages, profile))
            medians[n] = {k: median([x[k] for x in rounds]) for k in rounds[0]}
            print(f"  seeded {n} orders in {seeded:.1f} s; {repeats} round(s) measured")
    print(f"\nFigure 3: closing and lists, SQLite, median of {repeats} round(s); seconds")
    print(
        f"  {'orders':>8} {'close':>7} {'list':>7} {'unpack':>7} {'again':>7} {'read':>7} "
        f"{'PDF':>7} {'CSV':>7} {'msgs':>7} {'floor':>7} {'PDF MB':>7} "
        f"{'presses meanwhile p50/p99/max ms':>34}"
    )
    for n, m in medians.items():
        msgs = f"{m['messages']:.3f}" if "messages" in m else "-"
        print(
            f"  {n:>8} {m['close']:>7.3f} {m['list']:>7.3f} {m['unpack']:>7.3f} {m['again']:>7.3f} "
            f"{m['read']:>7.3f} {m['pdf']:>7.3f} {m['csv']:>7.3f} {msgs:>7} "
            f"{m['floor']:>7.4f} {m['pdf_bytes'] / 1e6:>7.2f} "
            f"{m['press_p50']:>12.1f} / {m['press_p99']:.1f} / {m['press_max']:.1f} "
            f"({m['presses']:.0f})"
        )
    ns = list(medians)
    print()
    table_head()
    if len(ns) >= 2:
        for key in ("close", "list", "read", "pdf", "csv", "floor"):
            row(
                f"growth exponent: {key}",
                f"{growth_exponent(ns, [medians[n][key] for n in ns]):.2f}",
                "",
                "",
                "1.0 (linear)",
            )
        exp = growth_exponent(ns, [medians[n]["ready"] for n in ns])
        row(
            "growth exponent: /list",
            f"{exp:.2f}",
            "",
            "",
            "1.0 (linear)",
            verdict(exp <= 1.15, "superlinear" if exp > 1.15 else "linear"),
        )
    for n, budget in TARGET_LIST_SECONDS.items():
        if n not in medians:
            continue
        m = medians[n]
        row(
            f"/list ready at {n // 1000}k orders (list + unpack), s",
            f"{m['ready']:.2f}",
            f"{m['floor']:.3f}",
            f"{m['ready'] / m['floor']:.0f}",
            f"< {budget:.0f} s",
            verdict(m["ready"] < budget, f"{m['ready'] / budget:.2f} of budget"),
        )
        row(
            f"  presses meanwhile p99 at {n // 1000}k, ms",
            f"{m['press_p99']:.1f}",
            "",
            "",
            f"< {TARGET_PRESS_P99_MS:.0f} ms",
            verdict(m["press_p99"] < TARGET_PRESS_P99_MS),
        )
        row(f"  /list again at {n // 1000}k, s", f"{m['again']:.3f}")
    starts = [m["worker_start"] for m in medians.values()]
    row("list worker start (first list), s", f"{median(starts):.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", help="comma-separated order counts")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest size once")
    parser.add_argument("--repeats", type=int)
    parser.add_argument(
        "--messages",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time the list messages /list sends",
    )
    parser.add_argument(
        "--messages-up-to",
        type=int,
        default=10_000,
        help="largest size to time the list messages at (they are slow)",
    )
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
