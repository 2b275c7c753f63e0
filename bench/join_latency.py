"""Figure 2: join latency at a steady offered rate, beside the bare bot's at the same rate.

The join world of figure 1; presses are offered at a steady 300 per second for 10 seconds (by an
absolute schedule in the emulator's process), and each press's time to its answerCallbackQuery
is taken where the answer arrives. Printed: p50 and p99 for the bot and for the floor.

    .venv/bin/python -m bench.join_latency            # 300/s for 10 s, 3 rounds
    .venv/bin/python -m bench.join_latency --rate 60  # what the bot sustains today
    .venv/bin/python -m bench.join_latency --quick    # 100/s for 1 s
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from pathlib import Path

from bench.harness import header, median, row, table_head, verdict, workdir
from bench.joins import FULL, QUICK, one_round

TARGET_P99_MS = 100.0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rate", type=float, default=None, help="presses per second (300)")
    parser.add_argument("--seconds", type=float, default=None, help="how long (10)")
    parser.add_argument("--repeats", type=int, default=None, help="rounds (default 3, quick 1)")
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--profile", type=Path, help="py-spy the bot in round 1 (raw stacks here)")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> bool:
    rate = args.rate or (100.0 if args.quick else 300.0)
    seconds = args.seconds or (1.0 if args.quick else 10.0)
    repeats = args.repeats or (1 if args.quick else 3)
    total = int(rate * seconds)
    base = QUICK if args.quick else FULL
    # Enough residents that each presses three times, as in figure 1.
    shape = replace(base, residents=max(1, total // base.presses_each))
    header("join latency (figure 2)", args.quick)
    ok = True
    with workdir("latency") as tmp:
        for kind in args.db.split(","):
            rounds = [
                await one_round(
                    kind,
                    shape,
                    Path(tmp),
                    n,
                    rate=rate,
                    timeout=180.0,
                    settings={"post_edit_interval": 1.0 if args.quick else 6.0},
                    profile=args.profile if n == 0 else None,
                )
                for n in range(repeats)
            ]
            label = "SQLite" if kind == "sqlite" else "PostgreSQL"
            print(
                f"\nFigure 2: join latency, {rate:.0f} presses/s offered for {seconds:.0f} s "
                f"({total} presses, {shape.residents} residents, 10 deals), {label}, "
                f"{repeats} round(s), medians"
            )
            table_head()
            p50 = median([r.bot.p(50) for r in rounds])
            p99 = median([r.bot.p(99) for r in rounds])
            f50 = median([r.floor.p(50) for r in rounds])
            f99 = median([r.floor.p(99) for r in rounds])
            row("p50 press->answer ms", f"{p50:.1f}", f"{f50:.1f}", f"{p50 / f50:.1f}")
            row(
                "p99 press->answer ms",
                f"{p99:.1f}",
                f"{f99:.1f}",
                f"{p99 / f99:.1f}",
                f"< {TARGET_P99_MS:.0f} ms",
                verdict(p99 < TARGET_P99_MS, f"{p99 / TARGET_P99_MS:.1f}x the target"),
            )
            row(
                "answered per second",
                f"{median([r.bot.rate for r in rounds]):.0f}",
                f"{median([r.floor.rate for r in rounds]):.0f}",
                "",
                f"offered {rate:.0f}",
            )
            for n, r in enumerate(rounds, 1):
                b = r.bot
                print(
                    f"  round {n}: bot p50 {b.p(50):.1f} p90 {b.p(90):.1f} p99 {b.p(99):.1f} "
                    f"max {b.p(100):.1f} ms, {b.expired} answers too late for the emulator "
                    f"(> 15 s); floor p50 {r.floor.p(50):.1f} p99 {r.floor.p(99):.1f} ms; "
                    f"oversold {b.oversold}"
                )
                ok = ok and b.oversold == 0 and b.answered == b.presses
    if args.profile:
        from bench.profile_summary import summarize

        print()
        summarize(args.profile)
    return ok


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(0 if asyncio.run(run(parse(argv))) else 1)


if __name__ == "__main__":
    main()
