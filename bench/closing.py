"""Figure 3: closing a deal and its pickup list at 1k, 10k and 100k orders, beside the floor.

For each size a SQLite database is seeded (bulk INSERTs into the project's tables: residents with
Chinese names and rooms, one deal with six items, one order of 1–3 lines per resident), then, on
a fresh copy of it per round:

* close:  `groupbuy.deals.close_deal` in one unit of work, committed (the status change and the
          notices to the group and every buyer written to the outbox);
* read:   `handlers.pickup_list.build` (orders, residents, names, payments from the database into
          the sorted `PickupList`, as `/list` does);
* PDF:    `messages.pickup_list.render_pdf`; CSV: `render_csv`;
* list messages: `handlers.pickup_list.list_messages` (the same rows as chat messages with tick
          buttons, which `/list` also sends), shown beside; it is not in the 3-second target.

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
    row,
    table_head,
    verdict,
    workdir,
)
from bench.profile_summary import by_library
from groupbuy.deals import close_deal, open_deal
from groupbuy.model import CloseReason, Community, DealSpec, ItemSpec, MinimumKind
from handlers.pickup_list import build, list_messages
from messages.pickup_list import PickupList, render_csv, render_pdf
from storage.engine import make_engine
from storage.tables import ItemRow, OrderLineRow, OrderRow, OutboxRow, ResidentRow, UserRow

TARGET_SECONDS_AT_10K = 3.0
GROUP = -1_000_000_000_777
LEADER = 999_000_001
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


async def seed(path_stem: str, tmp: Path, n: int) -> tuple[Path, int]:
    """A SQLite file with one open deal of `n` orders; returns (file, deal id)."""
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
            await uow.commit()
        items = [i.id for i in deal.items]
        first_user = 500_000_001
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
                            "first_name": SURNAMES[k % len(SURNAMES)] + GIVEN[k % len(GIVEN)],
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
    return Path(db.url.split("///", 1)[1]), deal.id


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


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


async def one(
    template: Path, deal_id: int, n: int, copy: Path, messages: bool, profile: bool = False
) -> dict[str, float]:
    shutil.copyfile(template, copy)
    url = f"sqlite+aiosqlite:///{copy}"
    engine = make_engine(url)
    deps = deps_for(engine)
    out: dict[str, float] = {}
    try:
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        t = time.perf_counter()
        async with deps.uow() as uow:
            closed = await close_deal(uow, deal_id, CloseReason.LEADER, deps.clock.now())
            await uow.commit()
        out["close"] = time.perf_counter() - t
        if profiler is not None:
            profiler.disable()
            print(f"\n  profile of close_deal at {n} orders")
            by_library(profiler, out["close"])
            profiler = cProfile.Profile()
            profiler.enable()
        assert closed is not None
        async with engine.connect() as conn:
            notices = (await conn.execute(select(func.count()).select_from(OutboxRow))).scalar()
        assert notices == n + 1, (notices, n)  # the group's notice and one per buyer
        t = time.perf_counter()
        built = await build(deps, closed, "zh_Hans")
        out["read"] = time.perf_counter() - t
        if profiler is not None:
            profiler.disable()
            print(f"\n  profile of handlers.pickup_list.build at {n} orders")
            by_library(profiler, out["read"])
            profiler = cProfile.Profile()
            profiler.enable()
        assert built is not None
        pickup, orders = built
        assert len(pickup.rows) == n
        out["pdf"], pdf = timed(lambda: render_pdf(pickup))
        if profiler is not None:
            profiler.disable()
            print(f"\n  profile of render_pdf at {n} orders")
            by_library(profiler, out["pdf"])
        out["pdf_bytes"] = len(pdf)
        out["csv"], csv_bytes = timed(lambda: render_csv(pickup))
        out["csv_bytes"] = len(csv_bytes)
        out["floor"], _ = timed(lambda: stdlib_csv(pickup))
        if messages:
            out["messages"], sent = timed(
                lambda: list_messages(deps, "zh_Hans", closed, pickup, orders, LEADER)
            )
            out["message_count"] = len(sent)
    finally:
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
        template, deal_id = await seed("warm-up", tmp, 50)
        await one(template, deal_id, 50, tmp / "warm-up-copy.db", True)
        for n in sizes:
            t = time.perf_counter()
            template, deal_id = await seed(f"closing-{n}", tmp, n)
            seeded = time.perf_counter() - t
            rounds = []
            for r in range(repeats):
                messages = args.messages and n <= args.messages_up_to
                profile = args.profile and r == 0 and n == max(sizes)
                copy = tmp / f"round-{n}-{r}.db"
                rounds.append(await one(template, deal_id, n, copy, messages, profile))
            medians[n] = {k: median([x[k] for x in rounds]) for k in rounds[0]}
            print(f"  seeded {n} orders in {seeded:.1f} s; {repeats} round(s) measured")
    print(f"\nFigure 3: closing and lists, SQLite, median of {repeats} round(s); seconds")
    print(
        f"  {'orders':>8} {'close':>8} {'read':>8} {'PDF':>8} {'CSV':>8} {'total':>8} "
        f"{'floor':>8} {'ratio':>8} {'PDF MB':>8} {'B/order':>9} {'list msgs':>9}"
    )
    for n, m in medians.items():
        total = m["close"] + m["read"] + m["pdf"] + m["csv"]
        msgs = f"{m['messages']:.2f}" if "messages" in m else "-"
        print(
            f"  {n:>8} {m['close']:>8.3f} {m['read']:>8.3f} {m['pdf']:>8.3f} {m['csv']:>8.3f} "
            f"{total:>8.3f} {m['floor']:>8.4f} {total / m['floor']:>8.0f} "
            f"{m['pdf_bytes'] / 1e6:>8.2f} {m['pdf_bytes'] / n:>9.1f} {msgs:>9}"
        )
    ns = list(medians)
    print()
    table_head()
    if len(ns) >= 2:
        for key in ("close", "read", "pdf", "csv", "floor"):
            row(
                f"growth exponent: {key}",
                f"{growth_exponent(ns, [medians[n][key] for n in ns]):.2f}",
                "",
                "",
                "1.0 (linear)",
            )
        totals = [sum(medians[n][k] for k in ("close", "read", "pdf", "csv")) for n in ns]
        exp = growth_exponent(ns, totals)
        row(
            "growth exponent: close+read+PDF+CSV",
            f"{exp:.2f}",
            "",
            "",
            "1.0 (linear)",
            verdict(exp <= 1.15, "superlinear" if exp > 1.15 else "linear"),
        )
    if 10_000 in medians:
        m = medians[10_000]
        total = m["close"] + m["read"] + m["pdf"] + m["csv"]
        row(
            "close+read+PDF+CSV at 10k, s",
            f"{total:.2f}",
            f"{m['floor']:.3f}",
            f"{total / m['floor']:.0f}",
            f"<= {TARGET_SECONDS_AT_10K:.0f} s",
            verdict(
                total <= TARGET_SECONDS_AT_10K, f"{total / TARGET_SECONDS_AT_10K:.2f} of budget"
            ),
        )


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
