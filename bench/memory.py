"""Figure 5: peak resident memory of one bot process holding 1,000 open deals and 100k orders in
its database while serving the join burst of figure 1, beside the fair floor's (issue 13: at most
1.3 times the floor's).

The database is seeded with 990 more open deals (no posts) and 100k orders spread over them
(bulk INSERTs), beside the ten posted deals the burst presses on. The peak is the kernel's
high-water mark of the process's resident set (VmHWM in /proc/<pid>/status), read after the
burst and the post edits that follow it. What the data costs is measured apart, by the same
burst on two smaller worlds in the same run: ten deals and no other orders, and 1,000 deals
with no orders; the differences after start-up give the memory per open deal and per order.

    .venv/bin/python -m bench.memory            # 1,000 deals, 100k orders, 3,000 presses
    .venv/bin/python -m bench.memory --quick    # 50 deals, 2k orders, 300 presses
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import replace
from pathlib import Path

from bench.harness import header, row, table_head, verdict, workdir
from bench.joins import FULL, QUICK, Round, Shape, one_round

TARGET_RATIO = 1.3  # peak RSS over the fair floor's


async def _round(kind: str, shape: Shape, tmp: Path, n: int, quick: bool) -> Round:
    return await one_round(
        kind,
        shape,
        tmp,
        n,
        rate=None,
        timeout=180.0,
        settings={"post_edit_interval": 1.0 if quick else 6.0},
    )


async def run(args: argparse.Namespace) -> bool:
    base = QUICK if args.quick else FULL
    deals = 50 if args.quick else 1000
    orders = 2_000 if args.quick else 100_000
    shape = replace(base, extra_deals=deals - 10, extra_orders=orders)
    header("memory (figure 5)", args.quick)
    with workdir("memory") as tmp:
        t = time.perf_counter()
        r = await _round(args.db, shape, Path(tmp), 0, args.quick)
        took = time.perf_counter() - t
        parts: list[Round] = []
        if not args.quick:  # what the data costs: the same burst without it
            parts.append(await _round(args.db, base, Path(tmp), 1, args.quick))
            no_orders = replace(base, extra_deals=deals - 10, extra_orders=deals - 10)
            parts.append(await _round(args.db, no_orders, Path(tmp), 2, args.quick))
    b, f = r.bot, r.floor
    print(
        f"\nFigure 5: peak RSS, {deals} open deals and {orders} orders in the database, "
        f"join burst of {b.presses} presses, {args.db} (round took {took:.0f} s)"
    )
    table_head()
    peak, floor = b.peak_rss_kb / 1024, f.peak_rss_kb / 1024
    row(
        "peak RSS (VmHWM) MB",
        f"{peak:.0f}",
        f"{floor:.0f}",
        f"{peak / floor:.2f}",
        f"< {TARGET_RATIO} x fair floor",
        verdict(peak / floor < TARGET_RATIO, f"{peak / floor / TARGET_RATIO:.2f} of target"),
    )
    row(
        "RSS after start-up, before the burst MB",
        f"{b.rss_at_start_kb / 1024:.0f}",
        f"{f.rss_at_start_kb / 1024:.0f}",
    )
    row(
        "growth during the burst MB",
        f"{peak - b.rss_at_start_kb / 1024:.0f}",
        f"{floor - f.rss_at_start_kb / 1024:.0f}",
    )
    row(
        "joins per second meanwhile",
        f"{b.join_rate:.0f}",
        f"{f.join_rate:.0f}",
        f"{b.join_rate / f.join_rate:.2f}",
    )
    if parts:
        small, many = parts
        start = [x.bot.rss_at_start_kb / 1024 for x in (small, many, r)]
        per_deal = (start[1] - start[0]) * 1024 / (deals - 10)
        per_order = (start[2] - start[1]) * 1024 * 1024 / (orders - (deals - 10))
        row(
            "  after start-up: 10 / 1,000 deals / +orders MB",
            f"{start[0]:.0f} / {start[1]:.0f} / {start[2]:.0f}",
        )
        row("  per open deal (kB), per order (bytes)", f"{per_deal:.1f}, {per_order:.0f}")
        row(
            "  peak RSS with 10 deals, no orders MB",
            f"{small.bot.peak_rss_kb / 1024:.0f}",
            f"{small.floor.peak_rss_kb / 1024:.0f}",
            f"{small.bot.peak_rss_kb / small.floor.peak_rss_kb:.2f}",
        )
    print(f"  oversold units {b.oversold}; answered {b.answered}/{b.presses}")
    return b.oversold == 0 and b.answered == b.presses


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", default="sqlite")
    raise SystemExit(0 if asyncio.run(run(parser.parse_args(argv))) else 1)


if __name__ == "__main__":
    main()
