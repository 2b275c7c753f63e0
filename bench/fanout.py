"""Figure 4: fan-out of pickup notices to 1,000 buyers, against the configured send limit.

A deal with 1,000 buyers (residents who started the bot) is open in the group; the bot
(`groupbuy run`, its own process) serves the emulator. The leader presses "Close now"; the close
writes the group's pickup notice and one private notice per buyer to the outbox, and the bot's
background sender delivers them within SEND_PER_SECOND. The emulator's request log gives the time
of every sendMessage and sendPhoto (a buyer's pickup notice is a photo of its pickup pass).
Printed: the achieved rate of private notices as a fraction of the limit (target >= 0.9), and
whether every buyer got exactly one notice (nothing lost, nothing duplicated), checked in the
emulator and in the outbox table.

    .venv/bin/python -m bench.fanout                    # 1,000 buyers at the default 25/s
    .venv/bin/python -m bench.fanout --send-per-second 200   # the sender's own ceiling
    .venv/bin/python -m bench.fanout --quick            # 50 buyers
    .venv/bin/python -m bench.fanout --notice arrival   # "Goods arrived" (到货通知) to 1,000
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from bench.harness import (
    DealPost,
    LoadEmulator,
    World,
    bulk_orders,
    deps_for,
    drop_database,
    groupbuy_process,
    header,
    max_in_window,
    median,
    new_database,
    open_deals,
    row,
    seed_people,
    table_head,
    verdict,
    workdir,
)
from handlers.callbacks import Callback, Op
from storage.engine import make_engine
from storage.tables import OutboxRow

TARGET = 0.9

SENDS = ("sendMessage", "sendPhoto")  # the group's notice; each buyer's, with its QR


async def _press(emu: LoadEmulator, user: int, chat: int, message_id: int, cb: Callback) -> float:
    """The press, answered; when it was made (the emulator's clock)."""
    press = emu.press(user, chat, message_id, cb.pack())
    emu.expect(1)
    pressed_at = emu.clock.now()
    emu.push(press)
    assert await emu.answered(30), f"{cb.op.name} was not answered"
    return pressed_at


def _delivered(emu: LoadEmulator, since: int) -> set[int]:
    """The chats a notice went to since the log's entry `since`."""
    return {int(e.params["chat_id"]) for e in emu.log_since(since) if e.method in SENDS and e.ok}


async def _arrived(
    emu: LoadEmulator, world: World, post: DealPost, buyers: int
) -> tuple[int, float]:
    """The deal closed and every pickup notice out (they are not what is measured); then the
    leader's "Goods arrived", confirmed: where the request log starts, and when it was pressed."""
    start = len(emu.state.requests_log)
    on_post = (world.leader, world.group, post.message_id)
    await _press(emu, *on_post, Callback(Op.CONFIRM_CLOSE, post.deal_id))
    deadline = time.monotonic() + buyers / 5 + 60
    while not set(world.residents) <= _delivered(emu, start):
        assert time.monotonic() < deadline, "the pickup notices did not all go out"
        await asyncio.sleep(0.25)

    def last_in_group() -> int:
        ours = [m for m in emu.state.messages.get(world.group, []) if m.from_id == emu.state.bot.id]
        return max((m.message_id for m in ours), default=0)

    before = last_in_group()
    await _press(emu, *on_post, Callback(Op.ARRIVED, post.deal_id))
    await emu.state.wait_until(lambda: last_in_group() > before, 10)  # "Tell the N buyers?"
    question = last_in_group()
    log_start = len(emu.state.requests_log)
    confirm = Callback(Op.CONFIRM_ARRIVED, post.deal_id)
    return log_start, await _press(emu, world.leader, world.group, question, confirm)


async def one_round(
    kind: str, buyers: int, limit: float, tmp: Path, n: int, notice: str = "pickup"
) -> dict[str, float]:
    emu = LoadEmulator()
    await emu.start()
    db = await new_database(kind, tmp, f"fanout-{kind}-{n}")
    proc = groupbuy_process(tmp, emu, db.url, send_per_second=limit, sweep_seconds=1.0)
    try:
        engine = make_engine(db.url)
        try:
            deps = deps_for(engine)
            world = await seed_people(emu, deps, buyers)
            (post,) = await open_deals(emu, deps, world, [(10 * buyers, None)])
            await bulk_orders(engine, post.deal_id, world.group, world.residents, [post.item_id])
        finally:
            await engine.dispose()
        await proc.start(emu)
        if notice == "arrival":
            log_start, pressed_at = await _arrived(emu, world, post, buyers)
        else:
            log_start = len(emu.state.requests_log)
            close = Callback(Op.CONFIRM_CLOSE, post.deal_id)
            pressed_at = await _press(emu, world.leader, world.group, post.message_id, close)
        wanted = set(world.residents)
        deadline = time.monotonic() + buyers / limit * 3 + 30
        # Every buyer, and the group's one line (paced by the group's own limit).
        while time.monotonic() < deadline and not wanted | {world.group} <= _delivered(
            emu, log_start
        ):
            await asyncio.sleep(0.25)
        await asyncio.sleep(2.0)  # anything duplicated late would show now
        sends = [e for e in emu.log_since(log_start) if e.method in SENDS]
        private = [e for e in sends if e.params.get("chat_id") in wanted and e.ok]
        times = sorted(e.time for e in private)
        per_chat = Counter(e.params.get("chat_id") for e in private)
        # What each buyer's chat shows of this notice (an arrival notice is text: the pickup
        # notice before it, a photo, is not counted).
        in_chats = Counter(
            uid
            for uid in wanted
            for m in emu.state.messages.get(uid, [])
            if m.from_id == emu.state.bot.id and (notice == "pickup" or m.photo is None)
        )
        group_notices = sum(1 for e in sends if e.params.get("chat_id") == world.group and e.ok)
        failed = sum(1 for e in sends if not e.ok)
        await proc.stop()
        engine = make_engine(db.url)
        try:
            async with engine.connect() as conn:
                outbox = dict(
                    (
                        await conn.execute(
                            select(OutboxRow.done, func.count()).group_by(OutboxRow.done)
                        )
                    ).all()
                )
                errors = (
                    await conn.execute(
                        select(func.count())
                        .select_from(OutboxRow)
                        .where(OutboxRow.error.is_not(None))
                    )
                ).scalar_one()
        finally:
            await engine.dispose()
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        return {
            "max_per_second": max_in_window(times, 1.0),
            "rate": (len(times) - 1) / span if span > 0 else 0.0,
            "rate_from_close": len(times) / (times[-1] - pressed_at) if times else 0.0,
            "first_after_close": times[0] - pressed_at if times else float("nan"),
            "delivered": len(per_chat),
            "lost": len(wanted - set(per_chat)),
            "duplicated": sum(c - 1 for c in per_chat.values() if c > 1)
            + sum(c - 1 for c in in_chats.values() if c > 1),
            "group_notices": group_notices,
            "failed_calls": failed,
            "outbox_done": outbox.get(True, 0),
            "outbox_pending": outbox.get(False, 0),
            "outbox_errors": errors,
            "peak_rss_kb": 0,
        }
    finally:
        await proc.stop()
        await emu.stop()
        await drop_database(db)


async def run(args: argparse.Namespace) -> bool:
    buyers = args.buyers or (50 if args.quick else 1000)
    repeats = args.repeats or 1
    header("fan-out (figure 4)", args.quick)
    with workdir("fanout") as tmp:
        rounds = [
            await one_round(args.db, buyers, args.send_per_second, Path(tmp), n, args.notice)
            for n in range(repeats)
        ]
    m = {k: median([r[k] for r in rounds]) for k in rounds[0]}
    limit = args.send_per_second
    what = {
        "pickup": "pickup notices to {n} buyers after 'Close now'",
        "arrival": "arrival notices to {n} buyers after 'Goods arrived'",
    }[args.notice].format(n=buyers)
    print(f"\nFigure 4: {what}, SEND_PER_SECOND={limit:g}, {args.db}, {repeats} round(s), medians")
    table_head()
    frac = m["rate"] / limit
    row(
        "private notices per second",
        f"{m['rate']:.1f}",
        f"{limit:g}",
        f"{frac:.2f}",
        f">= {TARGET} x limit",
        verdict(frac >= TARGET),
    )
    row(
        "  counted from the press",
        f"{m['rate_from_close']:.1f}",
        f"{limit:g}",
        f"{m['rate_from_close'] / limit:.2f}",
    )
    row(
        "most sends in any 1 s window",
        f"{m['max_per_second']:.0f}",
        "",
        "",
        "<= 30 (Telegram)",
        verdict(m["max_per_second"] <= 30),
    )
    row("first notice after the press, s", f"{m['first_after_close']:.2f}")
    lost, dup = max(r["lost"] for r in rounds), max(r["duplicated"] for r in rounds)
    row("buyers notified", f"{m['delivered']:.0f}/{buyers}", "", "", "all", verdict(lost == 0))
    row("lost / duplicated", f"{lost:.0f} / {dup:.0f}", "", "", "0 / 0", verdict(lost == dup == 0))
    row(
        "group notices",
        f"{m['group_notices']:.0f}",
        "",
        "",
        "1",
        verdict(m["group_notices"] == 1),
    )
    row(
        "outbox done / pending / errors",
        f"{m['outbox_done']:.0f}/{m['outbox_pending']:.0f}/{m['outbox_errors']:.0f}",
        "",
        "",
        f"{(buyers + 1) * (2 if args.notice == 'arrival' else 1)}/0/0",
    )
    row("failed Bot API sends", f"{m['failed_calls']:.0f}", "", "", "0")
    return lost == 0 and dup == 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--buyers", type=int)
    parser.add_argument("--send-per-second", type=float, default=25.0)
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument(
        "--notice",
        choices=("pickup", "arrival"),
        default="pickup",
        help="the close's pickup notices, or the arrival notices of 'Goods arrived' after it",
    )
    raise SystemExit(0 if asyncio.run(run(parser.parse_args(argv))) else 1)


if __name__ == "__main__":
    main()
