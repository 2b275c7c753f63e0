"""The join world shared by figures 1, 2, 5 and 6: one compound's group, residents, ten deal posts,
presses on their Join/+1 buttons, served by the floor (bare bot) and by the real runtime in turn.

Each round builds a fresh world (emulator, database, posts), then serves the same load twice in
its own processes: first the bare aiogram bot, then `groupbuy run`. Pairs measured seconds apart
keep the ratio honest on a noisy machine; figures are medians over rounds.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import (
    BotProcess,
    Database,
    LoadEmulator,
    PressSpec,
    World,
    bare_process,
    bulk_orders,
    deps_for,
    drop_database,
    groupbuy_process,
    max_in_window,
    new_database,
    open_deals,
    percentile,
    seed_people,
    stock_check,
)
from handlers.callbacks import Callback, Op
from storage.engine import make_engine

DEALS = 10


@dataclass(frozen=True)
class Shape:
    residents: int
    presses_each: int = 3
    limited_stock: int = 150  # deals 0 and 1 sell out halfway through
    open_stock: int = 100_000
    # heavy: the database also holds this many more open deals (without posts) and orders
    extra_deals: int = 0
    extra_orders: int = 0


FULL = Shape(residents=1000)
QUICK = Shape(residents=100, limited_stock=15)


@dataclass
class Served:
    """What one bot did with one load."""

    presses: int
    answered: int
    answered_ok: int
    accepted: int  # toasts (the join went through), late or not; alerts: sold out, limit, ...
    seconds: float  # first press to last answer
    latencies: list[float]
    peak_rss_kb: int = 0
    rss_at_start_kb: int = 0  # after start-up, before the load
    calls: Counter[str] = field(default_factory=Counter)
    group_edits_per_minute: int = 0
    group_actions_per_minute: int = 0
    sold: int = 0
    oversold: int = 0
    mismatched_items: int = 0
    expired: int = 0
    refusals: Counter[str] = field(default_factory=Counter)  # alert texts, by count
    refused: int = 0  # alerts answered in time: sold out, over the limit, ... (not joins)
    cpu_seconds: float = 0.0  # the bot process's CPU time from the first press to the last answer
    emulator_cpu_seconds: float = 0.0  # this process's (emulator and load generator), same span

    @property
    def cpu_ms_per_press(self) -> float:
        return 1000 * self.cpu_seconds / self.presses if self.presses else 0.0

    @property
    def busy(self) -> float:
        """Share of one core the bot used while serving the load."""
        return self.cpu_seconds / self.seconds if self.seconds > 0 else 0.0

    @property
    def emulator_busy(self) -> float:
        return self.emulator_cpu_seconds / self.seconds if self.seconds > 0 else 0.0

    @property
    def rate(self) -> float:
        """Answers per second, in time or not (what the bot got through)."""
        return self.answered / self.seconds if self.seconds > 0 else 0.0

    @property
    def joins(self) -> int:
        """What a resident counts: the join went through and its answer reached Telegram in
        time (an answer after 15 s is refused as too old: a spinning button, no toast). The
        floor joins nobody; for it this is every press answered in time."""
        return self.answered_ok - self.refused

    @property
    def join_rate(self) -> float:
        return self.joins / self.seconds if self.seconds > 0 else 0.0

    @property
    def late(self) -> int:
        """Answers Telegram refused as too old, and presses never answered: failures."""
        return self.expired + (self.presses - self.answered)

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000  # ms


@dataclass
class Round:
    floor: Served  # the fair floor (bench/bare_bot.py)
    bot: Served
    stock: Served | None = None  # aiogram as it comes, when asked for (--stock-floor)


def stocks(shape: Shape) -> list[tuple[int, int | None]]:
    """Deals 0-1: limited stock (sell out); 2-3: one per person; the rest: plenty."""
    out: list[tuple[int, int | None]] = []
    for n in range(DEALS):
        if n < 2:
            out.append((shape.limited_stock, None))
        elif n < 4:
            out.append((shape.open_stock, 1))
        else:
            out.append((shape.open_stock, None))
    return out


def presses(emu: LoadEmulator, world: World, shape: Shape, seed: int) -> list[PressSpec]:
    """Each resident presses Join then +1 on one deal and Join on another (shuffled)."""
    out: list[PressSpec] = []
    for r, uid in enumerate(world.residents):
        first = world.posts[r % DEALS]
        second = world.posts[(r + 3) % DEALS]
        for k in range(shape.presses_each):
            post = first if k < 2 else second
            data = Callback(Op.JOIN, post.deal_id, post.item_id).pack()
            out.append(emu.press(uid, post.chat_id, post.message_id, data))
    rng = random.Random(seed)
    rng.shuffle(out)
    return out


async def build_world(emu: LoadEmulator, db: Database, shape: Shape) -> World:
    engine = make_engine(db.url)
    try:
        deps = deps_for(engine)
        world = await seed_people(emu, deps, shape.residents)
        if shape.extra_deals:
            extra = await open_deals(
                emu, deps, world, [(10**6, None)] * shape.extra_deals, post=False
            )
            per_deal = shape.extra_orders // shape.extra_deals
            for n, deal in enumerate(extra):
                users = [world.residents[(n + k) % len(world.residents)] for k in range(per_deal)]
                await bulk_orders(engine, deal.deal_id, world.group, users, [deal.item_id])
        await open_deals(emu, deps, world, stocks(shape))
    finally:
        await engine.dispose()
    return world


async def serve(
    emu: LoadEmulator,
    proc: BotProcess,
    load: list[PressSpec],
    *,
    rate: float | None,
    timeout: float,
    settle: float,
    world: World,
    profile: Path | None = None,
) -> Served:
    emu.state.updates.clear()  # nothing left over from the previous bot
    await proc.start(emu)
    rss_at_start = proc.status("VmRSS")
    spy = _py_spy(proc, profile) if profile else None
    log_start = len(emu.state.requests_log)
    wall_start = emu.clock.now()
    emu.expect(len(load))
    cpu0 = proc.cpu_seconds()
    own_cpu0 = time.process_time()
    t0 = time.perf_counter()
    if rate is None:
        emu.burst(load)
    else:
        await emu.offer(load, rate)
    await emu.answered(timeout)
    cpu = proc.cpu_seconds() - cpu0
    own_cpu = time.process_time() - own_cpu0
    answers = list(emu.answers.values())
    t_last = max((a.at for a in answers), default=t0)
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        await asyncio.to_thread(spy.wait, 60)
    await asyncio.sleep(settle)  # the coalesced post edits that follow a burst
    peak = proc.status("VmHWM")
    await proc.stop()
    calls = Counter(
        e.method for e in emu.log_since(log_start) if e.method.lower() not in ("getupdates",)
    )
    actions = [t for t, _ in emu.flood.actions.get(world.group, []) if t >= wall_start]
    edits = [
        t for t, k in emu.flood.actions.get(world.group, []) if t >= wall_start and k == "edit"
    ]
    return Served(
        presses=len(load),
        answered=len(answers),
        answered_ok=sum(a.ok for a in answers),
        accepted=sum(1 for a in answers if not a.alert),
        seconds=t_last - t0,
        latencies=emu.latencies(),
        peak_rss_kb=peak,
        rss_at_start_kb=rss_at_start,
        calls=calls,
        group_edits_per_minute=max_in_window(edits, 60.0),
        group_actions_per_minute=max_in_window(actions, 60.0),
        expired=sum(1 for a in answers if not a.ok),
        refusals=Counter(a.text or "" for a in answers if a.alert),
        refused=sum(1 for a in answers if a.alert and a.ok),
        cpu_seconds=cpu,
        emulator_cpu_seconds=own_cpu,
    )


def _py_spy_path() -> str:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else (shutil.which("py-spy") or "py-spy")


def _py_spy(proc: BotProcess, out: Path) -> subprocess.Popen[bytes]:
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            _py_spy_path(),
            "record",
            "--pid",
            str(proc.pid),
            "--rate",
            "250",
            "--format",
            "raw",
            "--threads",
            "--nonblocking",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def one_round(
    db_kind: str,
    shape: Shape,
    workdir: Path,
    n: int,
    *,
    rate: float | None,
    timeout: float,
    settings: dict[str, str | float],
    profile: Path | None = None,
    stock_floor: bool = False,
) -> Round:
    emu = LoadEmulator()
    await emu.start()
    db = await new_database(db_kind, workdir, f"joins-{db_kind}-{n}")
    try:
        world = await build_world(emu, db, shape)
        bot_load = presses(emu, world, shape, seed=n)
        stock = None
        if stock_floor:
            stock = await serve(
                emu,
                bare_process(workdir, emu, kind="stock"),
                presses(emu, world, shape, seed=n),
                rate=rate,
                timeout=timeout,
                settle=0.2,
                world=world,
            )
        floor = await serve(
            emu,
            bare_process(workdir, emu),
            presses(emu, world, shape, seed=n),
            rate=rate,
            timeout=timeout,
            settle=0.2,
            world=world,
        )
        interval = float(settings.get("post_edit_interval", 6.0))
        bot = await serve(
            emu,
            groupbuy_process(workdir, emu, db.url, **settings),
            bot_load,
            rate=rate,
            timeout=timeout,
            settle=interval + 1.5,
            world=world,
            profile=profile,
        )
        engine = make_engine(db.url)
        try:
            bot.sold, bot.oversold, bot.mismatched_items = await stock_check(
                engine, [p.deal_id for p in world.posts]
            )
        finally:
            await engine.dispose()
        return Round(floor, bot, stock)
    finally:
        await emu.stop()
        await drop_database(db)


async def floor_capacity(db_kind: str, shape: Shape, workdir: Path, n: int) -> float:
    """What the fair floor answers per second in a burst of `shape`'s presses, on this machine
    now: the latency benchmark offers its load as fractions of it."""
    emu = LoadEmulator()
    await emu.start()
    db = await new_database(db_kind, workdir, f"capacity-{db_kind}-{n}")
    try:
        world = await build_world(emu, db, shape)
        floor = await serve(
            emu,
            bare_process(workdir, emu),
            presses(emu, world, shape, seed=n),
            rate=None,
            timeout=120.0,
            settle=0.2,
            world=world,
        )
        return floor.join_rate
    finally:
        await emu.stop()
        await drop_database(db)
