"""Figure 1 (and 6): the join burst through the real runtime and the emulator, beside the floor.

1,000 residents press Join/+1 3,000 times at once on 10 open deals (two with limited stock that
sells out, two with a limit of one per person). The presses are put into the emulator's update
queue all at once; the bot in its own process polls them over loopback. Printed: presses answered
per second (the bare aiogram bot's in the same run is the floor), oversold units (from the
database), Bot API calls per press, and deal-post edits per group per minute (emulator counters).

    .venv/bin/python -m bench.join_burst                 # figure 1, SQLite, 3 rounds
    .venv/bin/python -m bench.join_burst --db sqlite,postgresql   # figure 6, side by side
    .venv/bin/python -m bench.join_burst --profile /tmp/burst.txt # + py-spy of the bot process
    .venv/bin/python -m bench.join_burst --quick         # 100 residents, seconds
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bench.harness import header, median, row, table_head, verdict, workdir
from bench.joins import FULL, QUICK, Round, Served, Shape, one_round
from bench.profile_summary import summarize

# Successful joins per second, as a share of the fair floor's answers per second (issue 13).
TARGET_RATIO = {"SQLite": 0.6, "PostgreSQL": 0.5}
TARGET_CALLS = 1.2
TARGET_EDITS = 20


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one round")
    parser.add_argument("--repeats", type=int, default=None, help="rounds (default 3, quick 1)")
    parser.add_argument(
        "--db", default="sqlite", help="sqlite, postgresql or both, comma-separated"
    )
    parser.add_argument("--profile", type=Path, help="py-spy the bot in round 1 (raw stacks here)")
    parser.add_argument("--post-edit-interval", type=float, help="POST_EDIT_INTERVAL (6; quick 1)")
    parser.add_argument(
        "--stock-floor",
        action="store_true",
        help="also serve the load with aiogram as it comes (the floor before issue 13)",
    )
    return parser.parse_args(argv)


def calls_per_press(s: Served) -> tuple[float, str]:
    """Bot API calls the presses cost (answers and post edits) per press, and the breakdown.

    Notices that a sold-out close owes its buyers (sendMessage and sendPhoto from the outbox) are
    the close's cost, not the presses'; they are shown beside, not counted."""
    per_press = {
        m: c
        for m, c in s.calls.items()
        if m not in ("getMe", "deleteWebhook", "sendMessage", "sendPhoto", "getChatAdministrators")
    }
    total = sum(per_press.values())
    parts = ", ".join(f"{m} {c / s.presses:.3f}" for m, c in sorted(s.calls.items()))
    return (total / s.presses if s.presses else 0.0), parts


def report(label: str, shape: Shape, rounds: list[Round]) -> bool:
    floors = [r.floor for r in rounds]
    bots = [r.bot for r in rounds]
    total = shape.residents * shape.presses_each
    target = TARGET_RATIO[label]
    print(
        f"\nFigure 1: join burst, {shape.residents} residents, {total} presses at once on "
        f"10 deals, {label}, {len(rounds)} round(s), medians; ratios taken within each round"
    )
    table_head()
    # What a resident counts: a join that went through, answered while Telegram still took the
    # answer. The fair floor answers every press (it joins nobody), so refusals count nothing
    # for the bot and a refusal's cheapness cannot lift its figure.
    ratio = median([r.bot.join_rate / r.floor.join_rate for r in rounds if r.floor.join_rate])
    late = max(s.late for s in bots)
    row(
        "joins per second (joined, in time)",
        f"{median([s.join_rate for s in bots]):.0f}",
        f"{median([s.join_rate for s in floors]):.0f}",
        f"{ratio:.2f}",
        f">= {target} x fair floor",
        verdict(ratio >= target, f"{ratio / target:.2f} of target"),
    )
    row(
        "  presses answered per second",
        f"{median([s.rate for s in bots]):.0f}",
        f"{median([s.rate for s in floors]):.0f}",
        f"{median([r.bot.rate / r.floor.rate for r in rounds if r.floor.rate]):.2f}",
    )
    stocks = [r.stock for r in rounds if r.stock is not None]
    if stocks:
        row(
            "  stock aiogram floor, answered/s",
            "",
            f"{median([s.rate for s in stocks]):.0f}",
            f"{median([r.floor.rate / r.stock.rate for r in rounds if r.stock]):.2f} fair/stock",
        )
    row(
        "joins / refused / too late (median)",
        f"{median([s.joins for s in bots]):.0f} / {median([s.refused for s in bots]):.0f} / "
        f"{median([s.late for s in bots]):.0f}",
        f"{median([s.joins for s in floors]):.0f} / 0 / {median([s.late for s in floors]):.0f}",
        "",
        "0 too late",
        verdict(late == 0),
    )
    over = max(s.oversold for s in bots)
    mismatch = max(s.mismatched_items for s in bots)
    row("oversold units", str(over), "", "", "0", verdict(over == 0 and mismatch == 0))
    calls = median([calls_per_press(s)[0] for s in bots])
    f_calls = median([calls_per_press(s)[0] for s in floors])
    row(
        "Bot API calls per join",
        f"{calls:.3f}",
        f"{f_calls:.3f}",
        f"{calls / f_calls:.2f}" if f_calls else "",
        f"<= {TARGET_CALLS}",
        verdict(calls <= TARGET_CALLS),
    )
    edits = max(s.group_edits_per_minute for s in bots)
    acts = max(s.group_actions_per_minute for s in bots)
    row(
        "post edits / group / minute (max)",
        str(edits),
        "",
        "",
        f"<= {TARGET_EDITS}",
        verdict(edits <= TARGET_EDITS),
    )
    row(
        "  all sends+edits / group / minute",
        str(acts),
        "",
        "",
        f"<= {TARGET_EDITS}",
        verdict(acts <= TARGET_EDITS),
    )
    row(
        "p50 / p99 press->answer in burst ms",
        f"{median([s.p(50) for s in bots]):.0f} / {median([s.p(99) for s in bots]):.0f}",
        f"{median([s.p(50) for s in floors]):.0f} / {median([s.p(99) for s in floors]):.0f}",
    )
    row(
        "bot CPU per press ms (share of a core)",
        f"{median([s.cpu_ms_per_press for s in bots]):.2f} ({median([s.busy for s in bots]):.0%})",
        f"{median([s.cpu_ms_per_press for s in floors]):.2f} "
        f"({median([s.busy for s in floors]):.0%})",
    )
    row(
        "  emulator process, share of a core",
        f"{median([s.emulator_busy for s in bots]):.0%}",
        f"{median([s.emulator_busy for s in floors]):.0%}",
    )
    row(
        "peak RSS of the bot process MB",
        f"{median([s.peak_rss_kb for s in bots]) / 1024:.0f}",
        f"{median([s.peak_rss_kb for s in floors]) / 1024:.0f}",
    )
    for n, r in enumerate(rounds, 1):
        b = r.bot
        _, parts = calls_per_press(b)
        print(
            f"  round {n}: bot {b.join_rate:.0f} joins/s ({b.rate:.0f} answers/s) over "
            f"{b.seconds:.2f} s, floor {r.floor.rate:.0f}/s over {r.floor.seconds:.2f} s "
            f"(ratio {b.join_rate / r.floor.join_rate if r.floor.join_rate else 0:.2f}); "
            f"answered {b.answered}/{b.presses}, {b.expired} too late for Telegram; "
            f"{b.joins} joins in time, units sold in the database {b.sold}, {b.refused} "
            f"refused (sold out, limit); calls per press: {parts}"
        )
        reasons = "; ".join(f"{c} x {t!r}" for t, c in b.refusals.most_common(5))
        print(f"    refusals: {reasons}")
    consistent = all(r.bot.accepted == r.bot.sold for r in rounds)
    if not consistent:
        print("  WARNING: accepted toasts differ from units sold in the database")
    return over == 0 and mismatch == 0 and all(r.bot.answered == r.bot.presses for r in rounds)


async def run(args: argparse.Namespace) -> bool:
    shape = QUICK if args.quick else FULL
    repeats = args.repeats or (1 if args.quick else 3)
    header("join burst (figures 1 and 6)", args.quick)
    interval = args.post_edit_interval or (1.0 if args.quick else 6.0)
    settings: dict[str, str | float] = {"post_edit_interval": interval}
    ok = True
    results: dict[str, list[Round]] = {}
    with workdir("burst") as tmp:
        for kind in args.db.split(","):
            rounds = []
            for n in range(repeats):
                profile = args.profile if (n == 0 and kind == args.db.split(",")[0]) else None
                rounds.append(
                    await one_round(
                        kind,
                        shape,
                        Path(tmp),
                        n,
                        rate=None,
                        timeout=120.0,
                        settings=settings,
                        profile=profile,
                        stock_floor=args.stock_floor,
                    )
                )
            label = "SQLite" if kind == "sqlite" else "PostgreSQL"
            results[label] = rounds
            ok = report(label, shape, rounds) and ok
    if len(results) > 1:
        print("\nFigure 6: runtimes and stores side by side (join burst, medians)")
        row("runtime / store", "joins/s", "floor", "ratio", "calls/join", "p99 ms")
        for label, rounds in results.items():
            row(
                f"aiogram / {label}",
                f"{median([r.bot.join_rate for r in rounds]):.0f}",
                f"{median([r.floor.join_rate for r in rounds]):.0f}",
                f"{median([r.bot.join_rate / r.floor.join_rate for r in rounds]):.2f}",
                f"{median([calls_per_press(r.bot)[0] for r in rounds]):.3f}",
                f"{median([r.bot.p(99) for r in rounds]):.0f}",
            )
        print("  python-telegram-bot: not built yet (no runtime to measure)")
    if args.profile:
        print()
        summarize(args.profile)
    return ok


def main(argv: list[str] | None = None) -> None:
    ok = asyncio.run(run(parse(argv)))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
