"""Figure 2: join latency at a steady offered load, beside the fair floor's at the same load.

The load is a share of what the fair floor (bench/bare_bot.py) answers per second in a burst on
this machine, measured at the start of each round: a fixed rate that one machine serves easily
would overload another (issue 13). For each share (25% and 50% by default) the round builds the
join world of figure 1 afresh and offers the presses at that steady rate for `--seconds` (by an
absolute schedule in the emulator's process), first to the floor, then to the bot; each press's
time to its answerCallbackQuery is taken where the answer arrives.

    .venv/bin/python -m bench.join_latency                  # 25% and 50%, 8 s, 3 rounds
    .venv/bin/python -m bench.join_latency --shares 0.75    # nearer the floor's capacity
    .venv/bin/python -m bench.join_latency --rate 300       # a fixed rate instead
    .venv/bin/python -m bench.join_latency --quick          # 25% and 50% for 1 s
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from pathlib import Path

from bench.harness import header, median, row, table_head, verdict, workdir
from bench.joins import FULL, QUICK, Round, floor_capacity, one_round

# p99 targets by share of the floor's capacity offered (issue 13)
TARGET_P99_MS = {0.25: 20.0, 0.5: 50.0}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--shares", default="0.25,0.5", help="shares of the floor's capacity to offer"
    )
    parser.add_argument("--rate", type=float, default=None, help="a fixed rate instead (/s)")
    parser.add_argument("--seconds", type=float, default=None, help="how long (8; quick 1)")
    parser.add_argument("--repeats", type=int, default=None, help="rounds (default 3, quick 1)")
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--profile", type=Path, help="py-spy the bot in round 1 (raw stacks here)")
    return parser.parse_args(argv)


def report(label: str, title: str, target: float | None, rounds: list[Round]) -> bool:
    print(f"\nFigure 2: join latency, {title}, {label}, {len(rounds)} round(s), medians")
    table_head()
    p50 = median([r.bot.p(50) for r in rounds])
    p99 = median([r.bot.p(99) for r in rounds])
    f50 = median([r.floor.p(50) for r in rounds])
    f99 = median([r.floor.p(99) for r in rounds])
    row("p50 press->answer ms", f"{p50:.1f}", f"{f50:.1f}", f"{p50 / f50:.1f}" if f50 else "")
    row(
        "p99 press->answer ms",
        f"{p99:.1f}",
        f"{f99:.1f}",
        f"{p99 / f99:.1f}" if f99 else "",
        f"< {target:.0f} ms" if target else "",
        verdict(p99 < target, f"{p99 / target:.1f}x the target") if target else "",
    )
    row(
        "joins in time per second",
        f"{median([r.bot.join_rate for r in rounds]):.0f}",
        f"{median([r.floor.join_rate for r in rounds]):.0f}",
    )
    ok = True
    for n, r in enumerate(rounds, 1):
        b = r.bot
        print(
            f"  round {n}: bot p50 {b.p(50):.1f} p90 {b.p(90):.1f} p99 {b.p(99):.1f} "
            f"max {b.p(100):.1f} ms; {b.joins} joins, {b.refused} refused, {b.late} too late "
            f"or unanswered; floor p50 {r.floor.p(50):.1f} p99 {r.floor.p(99):.1f} ms; "
            f"oversold {b.oversold}"
        )
        ok = ok and b.oversold == 0 and b.answered == b.presses
    return ok


async def run(args: argparse.Namespace) -> bool:
    seconds = args.seconds or (1.0 if args.quick else 8.0)
    repeats = args.repeats or (1 if args.quick else 3)
    base = QUICK if args.quick else FULL
    shares = [float(x) for x in args.shares.split(",")] if args.rate is None else [0.0]
    header("join latency (figure 2)", args.quick)
    settings: dict[str, str | float] = {"post_edit_interval": 1.0 if args.quick else 6.0}
    ok = True
    with workdir("latency") as tmp:
        for kind in args.db.split(","):
            label = "SQLite" if kind == "sqlite" else "PostgreSQL"
            by_share: dict[float, list[Round]] = {share: [] for share in shares}
            offered: dict[float, list[float]] = {share: [] for share in shares}
            capacities: list[float] = []
            for n in range(repeats):
                capacity = 0.0
                if args.rate is None:
                    capacity = await floor_capacity(kind, base, Path(tmp), n)
                    capacities.append(capacity)
                for share in shares:
                    rate = args.rate or share * capacity
                    total = max(base.presses_each, int(rate * seconds))
                    # Enough residents that each presses three times, as in figure 1.
                    shape = replace(base, residents=max(1, total // base.presses_each))
                    offered[share].append(rate)
                    by_share[share].append(
                        await one_round(
                            kind,
                            shape,
                            Path(tmp),
                            n,
                            rate=rate,
                            timeout=180.0,
                            settings=settings,
                            profile=args.profile if n == 0 and share == shares[0] else None,
                        )
                    )
            if capacities:
                print(
                    f"\nThe fair floor's capacity in a burst, {label}: "
                    + ", ".join(f"{c:.0f}/s" for c in capacities)
                    + f" (median {median(capacities):.0f}/s)"
                )
            for share in shares:
                rate = median(offered[share])
                title = (
                    f"{rate:.0f} presses/s offered ({share:.0%} of the floor's capacity) "
                    f"for {seconds:.0f} s"
                    if args.rate is None
                    else f"{rate:.0f} presses/s offered for {seconds:.0f} s"
                )
                target = TARGET_P99_MS.get(share) if args.rate is None else None
                ok = report(label, title, target, by_share[share]) and ok
    if args.profile:
        from bench.profile_summary import summarize

        print()
        summarize(args.profile)
    return ok


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(0 if asyncio.run(run(parse(argv))) else 1)


if __name__ == "__main__":
    main()
