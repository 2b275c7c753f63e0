"""Figure 5: peak resident memory of one bot process holding 1,000 open deals and 100k orders in
its database while serving the join burst of figure 1, beside the bare aiogram bot's.

The database is seeded with 990 more open deals (no posts) and 100k orders spread over them
(bulk INSERTs), beside the ten posted deals the burst presses on. The peak is the kernel's
high-water mark of the process's resident set (VmHWM in /proc/<pid>/status), read after the
burst and the post edits that follow it.

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
from bench.joins import FULL, QUICK, one_round

TARGET_MB = 150


async def run(args: argparse.Namespace) -> bool:
    base = QUICK if args.quick else FULL
    deals = 50 if args.quick else 1000
    orders = 2_000 if args.quick else 100_000
    shape = replace(base, extra_deals=deals - 10, extra_orders=orders)
    header("memory (figure 5)", args.quick)
    with workdir("memory") as tmp:
        t = time.perf_counter()
        r = await one_round(
            args.db,
            shape,
            Path(tmp),
            0,
            rate=None,
            timeout=180.0,
            settings={"post_edit_interval": 1.0 if args.quick else 6.0},
        )
        took = time.perf_counter() - t
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
        f"< {TARGET_MB} MB",
        verdict(peak < TARGET_MB, f"{peak / TARGET_MB:.2f}x the target"),
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
    row("joins per second meanwhile", f"{b.rate:.0f}", f"{f.rate:.0f}", f"{b.rate / f.rate:.2f}")
    print(f"  oversold units {b.oversold}; answered {b.answered}/{b.presses}")
    return b.oversold == 0 and b.answered == b.presses


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", default="sqlite")
    raise SystemExit(0 if asyncio.run(run(parser.parse_args(argv))) else 1)


if __name__ == "__main__":
    main()
