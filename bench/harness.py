"""What every benchmark shares: the emulator with a press load generator in its own process, the
bot processes (the real runtime and the bare floor bot), seeding, statistics and the report.

Process layout of a run (2 cores):

* this process: the benchmark program, the Telegram Bot API emulator (``LoadEmulator``) on
  loopback, and the load generator, which enqueues callback updates straight into the emulator's
  state and timestamps the bot's ``answerCallbackQuery`` as it arrives, so the client side costs
  no HTTP and is not the bottleneck;
* a child process: either ``python -m bot.cli run`` (the real runtime, configured only through
  the environment, exactly as deployed) or ``bench/bare_bot.py`` (the floor: a bare aiogram bot
  that only answers each press), polling the emulator over loopback.

Seeding (residents, deals, orders) goes through the project's own storage (migrations,
repositories, ``groupbuy.deals.open_deal``) and, for large volumes, bulk INSERTs into the same
tables, before the bot starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import platform
import random
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.members import CachedMembers
from bot.settings import Settings
from groupbuy.clock import SystemClock
from groupbuy.deals import open_deal
from groupbuy.model import Community, DealSpec, DealStats, ItemSpec, MinimumKind, Resident, User
from handlers.context import Config, Deps, KnownPeople
from handlers.deal_post import new_post
from messages.render import Renderer
from sandbox import render
from sandbox.emulator import Emulator
from sandbox.state import CallbackRec, MemberRec, RequestLogEntry
from storage.engine import make_sessions
from storage.migrate import upgrade
from storage.tables import ItemRow, OrderLineRow, OrderRow, ResidentRow, UserRow
from storage.unit_of_work import SqlUnitOfWorkFactory

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "424242:BENCH-TOKEN-groupbuy"
BOT_USERNAME = "groupbuy_bench_bot"
PG_ADMIN_URL = (
    os.environ.get("BENCH_PG_URL")
    or os.environ.get("TEST_DATABASE_URL")
    or "postgresql+asyncpg://root@127.0.0.1:5432/test"
)
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


# --- the emulator with a load generator ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PressSpec:
    """One button press, rendered before the clock starts (the payload is the update's JSON)."""

    query_id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    payload: dict[str, Any]


@dataclass
class AnswerRecord:
    at: float  # perf_counter when the bot's answerCallbackQuery reached the emulator
    ok: bool
    alert: bool
    text: str | None


class LoadEmulator(Emulator):
    """The sandbox emulator plus: presses injected straight into its state, and the time each
    press's answer arrives. Everything runs in the emulator's own event loop."""

    def __init__(self) -> None:
        super().__init__(token=TOKEN, username=BOT_USERNAME, first_name="GroupBuy Bench")
        self.pressed: dict[str, float] = {}
        self.answers: dict[str, AnswerRecord] = {}
        self._expect = 0
        self._all_answered = asyncio.Event()
        self.polling = asyncio.Event()  # set when a bot's getUpdates arrives
        self._user_json: dict[int, dict[str, Any]] = {}
        self._message_json: dict[tuple[int, int], dict[str, Any]] = {}

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["method"].lower() == "getupdates":
            self.polling.set()
        return await super()._handle_api(request)

    def _log(self, method: str, params: dict[str, Any], error: str | None) -> None:
        if method == "answerCallbackQuery":
            qid = str(params.get("callback_query_id"))
            if qid in self.pressed and qid not in self.answers:
                self.answers[qid] = AnswerRecord(
                    time.perf_counter(),
                    error is None,
                    bool(params.get("show_alert")),
                    params.get("text"),
                )
                if len(self.answers) >= self._expect:
                    self._all_answered.set()
        super()._log(method, params, error)

    # -- presses --
    def press(self, user_id: int, chat_id: int, message_id: int, data: str) -> PressSpec:
        st = self.state
        user = self._user_json.get(user_id)
        if user is None:
            user = self._user_json[user_id] = render.dump(render.user(st.users[user_id]))
        message = self._message_json.get((chat_id, message_id))
        if message is None:
            rec = st.find_message(chat_id, message_id)
            assert rec is not None, (chat_id, message_id)
            message = render.dump(render.message(st, rec))
            self._message_json[(chat_id, message_id)] = message
        qid = st.new_id("bq")
        payload = {
            "id": qid,
            "from": user,
            "chat_instance": str(abs(chat_id)),
            "message": message,
            "data": data,
        }
        return PressSpec(qid, user_id, chat_id, message_id, data, payload)

    def expect(self, count: int) -> None:
        """Start counting answers afresh; `answered()` fires after `count` presses got one."""
        self.pressed.clear()
        self.answers.clear()
        self._expect = count
        self._all_answered = asyncio.Event()

    def push(self, press: PressSpec) -> None:
        st = self.state
        st.callbacks[press.query_id] = CallbackRec(
            press.query_id,
            press.user_id,
            press.chat_id,
            press.message_id,
            press.data,
            st.clock.now(),
        )
        self.pressed[press.query_id] = time.perf_counter()
        st.push_update("callback_query", press.payload)

    def burst(self, presses: Sequence[PressSpec]) -> None:
        for p in presses:
            self.push(p)

    async def offer(self, presses: Sequence[PressSpec], rate: float) -> None:
        """Presses at a steady rate (by absolute schedule, so sleep jitter does not drift)."""
        start = time.perf_counter()
        for i, p in enumerate(presses):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self.push(p)

    async def answered(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._all_answered.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def latencies(self) -> list[float]:
        """Seconds from each press to its answer (answered presses only)."""
        return [a.at - self.pressed[q] for q, a in self.answers.items()]

    def log_since(self, index: int) -> list[RequestLogEntry]:
        return self.state.requests_log[index:]


# --- processes ----------------------------------------------------------------------------------


class BotProcess:
    """A bot in a child process of its own, polling the emulator."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self, emu: LoadEmulator, timeout: float = 60.0) -> None:
        emu.polling.clear()
        log = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, env=self.env, cwd=self.workdir, stdout=log, stderr=log
        )
        log.close()
        waiter = asyncio.create_task(emu.polling.wait())
        died = asyncio.create_task(self.proc.wait())
        done, _ = await asyncio.wait(
            {waiter, died}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        waiter.cancel()
        died.cancel()
        if waiter not in done:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} did not start polling:\n{tail}")
        await asyncio.sleep(0.2)  # its first long poll is in; let aiogram settle

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far (/proc/<pid>/stat)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def status(self, key: str) -> int:
        """A /proc/<pid>/status figure in kB (VmHWM: peak resident set; VmRSS: now)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def groupbuy_process(
    workdir: Path, emu: LoadEmulator, database_url: str, **settings: str | float
) -> BotProcess:
    """`groupbuy run`, configured through the environment as in production."""
    env = _base_env()
    env.update(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=emu.base_url,
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
    )
    env.update({k.upper(): str(v) for k, v in settings.items()})
    return BotProcess("groupbuy", [sys.executable, "-m", "bot.cli", "run"], env, workdir)


def bare_process(
    workdir: Path, emu: LoadEmulator, log_level: str = "WARNING", kind: str = "fair"
) -> BotProcess:
    """The floor bot (bench/bare_bot.py): `fair` has the bot's generic speed-ups and its
    in-flight limit, `stock` is aiogram as it comes."""
    env = _base_env()
    argv = [
        sys.executable,
        str(ROOT / "bench" / "bare_bot.py"),
        TOKEN,
        emu.base_url,
        log_level,
        kind,
        str(Settings().updates_in_flight),
    ]
    return BotProcess(f"bare-{kind}", argv, env, workdir)


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env["PYTHONPATH"] = str(ROOT)
    return env


# --- databases ----------------------------------------------------------------------------------


@dataclass
class Database:
    url: str
    kind: str  # sqlite | postgresql
    _drop: str | None = None

    @property
    def label(self) -> str:
        return "SQLite" if self.kind == "sqlite" else "PostgreSQL"


async def _admin(sql: str, url: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def new_database(kind: str, workdir: Path, name: str) -> Database:
    """A fresh database migrated to head: a SQLite file, or a new PostgreSQL database."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / (name + '.db')}"
        await asyncio.to_thread(upgrade, url)
        return Database(url, kind)
    base = make_url(PG_ADMIN_URL)
    db_name = f"groupbuy_bench_{os.getpid()}_{secrets.token_hex(3)}"
    await _admin(f'CREATE DATABASE "{db_name}"', PG_ADMIN_URL)
    url = base.set(database=db_name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade, url)
    return Database(url, kind, db_name)


async def drop_database(db: Database) -> None:
    if db._drop is not None:
        await _admin(f'DROP DATABASE IF EXISTS "{db._drop}" WITH (FORCE)', PG_ADMIN_URL)


# --- seeding ------------------------------------------------------------------------------------


async def no_one(chat_id: int, user_id: int) -> bool:
    """Nobody is a member of any group (tests/deps.py uses these stand-ins too)."""
    return False


class NoLeaders:
    async def is_leader(self, chat_id: int, user_id: int) -> bool:
        return False

    def known(self, chat_id: int, user_id: int) -> bool | None:
        return False

    def note(self, chat_id: int, user_id: int, admin: bool) -> None:
        pass

    def forget(self, chat_id: int) -> None:
        pass


def deps_for(engine: AsyncEngine) -> Deps:
    clock = SystemClock()
    return Deps(
        uow=SqlUnitOfWorkFactory(make_sessions(engine)),
        clock=clock,
        texts=Renderer(),
        leaders=NoLeaders(),
        config=Config(bot_username=BOT_USERNAME),
        people=KnownPeople(clock),
        members=CachedMembers(no_one, clock),
    )


@dataclass(frozen=True, slots=True)
class DealPost:
    deal_id: int
    item_id: int
    chat_id: int
    message_id: int
    stock: int
    limit: int | None


@dataclass
class World:
    """A compound's group with the bot in it, a leader, residents with profiles, and deals."""

    group: int
    leader: int
    residents: list[int]
    posts: list[DealPost] = field(default_factory=list)


BUILDINGS = ("1", "2", "3", "5", "6", "7", "8", "9", "10", "11", "12", "3A")


async def seed_people(emu: LoadEmulator, deps: Deps, residents: int) -> World:
    """The group in the emulator and in the database: everyone has started the bot and has a
    profile, so a Join press is a join (no deep link into private chat)."""
    st = emu.state
    leader = await emu.add_user("Leader", username="bench_leader")
    people = [await emu.add_user(f"N{n}", language_code="en") for n in range(residents)]
    for uid in (leader, *people):
        st.users[uid].started_bot = True
    group = await emu.create_group("Bench Garden residents", owner=leader, members=people)
    st.chats[group].members[st.bot.id] = MemberRec(st.bot.id, "administrator")
    async with deps.uow() as uow:
        await uow.communities.save(
            Community(group, "Bench Garden residents", "Bench Garden", BUILDINGS, configured=True)
        )
        await uow.users.seen(User(leader, "Leader", username="bench_leader", started=True))
        for n, uid in enumerate(people):
            await uow.users.seen(User(uid, f"N{n}", language_code="en", started=True))
            await uow.users.save_resident(
                Resident(
                    group,
                    uid,
                    BUILDINGS[n % len(BUILDINGS)],
                    str(1 + n % 4),
                    f"{1 + n % 30}{1 + n % 4:02d}",
                )
            )
        await uow.commit()
    return World(group, leader, people)


def deal_spec(n: int, stock: int, limit: int | None, deadline: datetime) -> DealSpec:
    return DealSpec(
        title=f"Bench deal {n}: fresh milk",
        description="Bright Farm, 1 L bottles",
        items=(ItemSpec("Milk 1L", "bottle", 1250, stock, limit),),
        deadline=deadline,
        pickup_place="Property office, gate 2",
        pickup_window="Sat 9:00-11:00",
        minimum_kind=MinimumKind.NONE,
    )


async def open_deals(
    emu: LoadEmulator,
    deps: Deps,
    world: World,
    stocks: Sequence[tuple[int, int | None]],
    *,
    post: bool = True,
) -> list[DealPost]:
    """Open deals with `open_deal`; post each in the group (through the emulator's Bot API, as
    the bot would) and record the post, so presses on it are presses on a real message."""
    from aiogram import Bot
    from aiogram.client.default import DefaultBotProperties
    from aiogram.enums import ParseMode

    from bot.telegram import markup

    now = datetime.now(UTC)
    deadline = now + timedelta(days=2)
    posts: list[DealPost] = []
    async with deps.uow() as uow:
        community = await uow.communities.get(world.group)
        assert community is not None
        deals = [
            await open_deal(
                uow,
                community,
                world.leader,
                deal_spec(n, stock, limit, deadline),
                now,
                timedelta(hours=1),
            )
            for n, (stock, limit) in enumerate(stocks)
        ]
        await uow.commit()
    if not post:
        return [
            DealPost(d.id, d.items[0].id, world.group, 0, s, lim)
            for d, (s, lim) in zip(deals, stocks, strict=True)
        ]
    bot = Bot(
        TOKEN,
        session=emu.aiogram_session(),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    try:
        for deal, (stock, limit) in zip(deals, stocks, strict=True):
            (send,) = await new_post(deps, deal, community, DealStats(0, 0))
            sent = await bot.send_message(
                world.group, send.text, reply_markup=markup(send.keyboard)
            )
            async with deps.uow() as uow:
                await uow.deals.set_post(deal.id, world.group, sent.message_id)
                await uow.commit()
            posts.append(
                DealPost(deal.id, deal.items[0].id, world.group, sent.message_id, stock, limit)
            )
    finally:
        await bot.session.close()
    world.posts.extend(posts)
    return posts


def code_for(n: int) -> str:
    """A distinct 5-character pickup code in the project's alphabet for every n < 31**5."""
    base = len(CODE_ALPHABET)
    k = (n * 7_919) % base**5  # 7919 is prime to 31: a permutation of the code space
    return "".join(CODE_ALPHABET[(k // base**i) % base] for i in range(5))


async def bulk_users(
    engine: AsyncEngine, community_id: int, first_id: int, count: int
) -> list[int]:
    """Users who started the bot, with profiles, by bulk INSERT (for 10k–100k)."""
    ids = list(range(first_id, first_id + count))
    async with engine.begin() as conn:
        for chunk in _chunks(ids, 5000):
            await conn.execute(
                insert(UserRow),
                [
                    {
                        "id": u,
                        "first_name": f"Resident {u % 100000}",
                        "last_name": None,
                        "username": None,
                        "language_code": "en",
                        "locale": None,
                        "started": True,
                    }
                    for u in chunk
                ],
            )
            await conn.execute(
                insert(ResidentRow),
                [
                    {
                        "community_id": community_id,
                        "user_id": u,
                        "building": BUILDINGS[u % len(BUILDINGS)],
                        "unit": str(1 + u % 4),
                        "room": f"{1 + u % 30}{1 + u % 4:02d}",
                        "phone": f"138{u % 100000000:08d}" if u % 2 else None,
                    }
                    for u in chunk
                ],
            )
    return ids


async def bulk_orders(
    engine: AsyncEngine,
    deal_id: int,
    community_id: int,
    users: Sequence[int],
    items: Sequence[int],
) -> int:
    """One order per user in a deal, 1–3 lines each, by bulk INSERT; items' `sold` follows.
    Returns the number of units."""
    now = datetime.now(UTC)
    rng = random.Random(deal_id)
    sold: Counter[int] = Counter()
    async with engine.begin() as conn:
        first = (await conn.execute(select(func.coalesce(func.max(OrderRow.id), 0)))).scalar_one()
        next_id = int(first) + 1
        for chunk_start in range(0, len(users), 5000):
            chunk = users[chunk_start : chunk_start + 5000]
            order_rows = []
            line_rows = []
            for uid in chunk:
                oid = next_id
                code = code_for(oid)  # order ids are unique, so codes are unique everywhere
                next_id += 1
                order_rows.append(
                    {
                        "id": oid,
                        "deal_id": deal_id,
                        "community_id": community_id,
                        "user_id": uid,
                        "code": code,
                        "created_at": now,
                        "picked_up_at": None,
                    }
                )
                for item in rng.sample(list(items), rng.randint(1, min(3, len(items)))):
                    q = rng.randint(1, 3)
                    sold[item] += q
                    line_rows.append({"order_id": oid, "item_id": item, "quantity": q})
            await conn.execute(insert(OrderRow), order_rows)
            await conn.execute(insert(OrderLineRow), line_rows)
        for item, q in sold.items():
            await conn.execute(
                update(ItemRow).where(ItemRow.id == item).values(sold=ItemRow.sold + q)
            )
    return sum(sold.values())


def _chunks(seq: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


async def stock_check(engine: AsyncEngine, deal_ids: Sequence[int]) -> tuple[int, int, int]:
    """(units sold by the items' counters, oversold units, counter/order-line mismatches).

    Oversold: units over stock, by the counter or by the sum of order lines."""
    async with engine.connect() as conn:
        items = (
            await conn.execute(
                select(ItemRow.id, ItemRow.stock, ItemRow.sold).where(ItemRow.deal_id.in_(deal_ids))
            )
        ).all()
        lines = dict(
            (
                await conn.execute(
                    select(OrderLineRow.item_id, func.sum(OrderLineRow.quantity))
                    .where(OrderLineRow.item_id.in_([i.id for i in items]))
                    .group_by(OrderLineRow.item_id)
                )
            ).all()
        )
    sold = sum(i.sold for i in items)
    over = sum(max(0, i.sold - i.stock, int(lines.get(i.id, 0)) - i.stock) for i in items)
    mismatch = sum(1 for i in items if int(lines.get(i.id, 0)) != i.sold)
    return sold, over, mismatch


# --- statistics ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def growth_exponent(sizes: Sequence[float], times: Sequence[float]) -> float:
    """Least-squares slope of log(time) on log(size): 1.0 is linear."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(max(t, 1e-9)) for t in times]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def max_in_window(times: Sequence[float], window: float) -> int:
    best, start = 0, 0
    ordered = sorted(times)
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


# --- the report ---------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def header(title: str, quick: bool) -> None:
    print(f"# {title}{' (quick mode: small sizes, figures not comparable)' if quick else ''}")
    print(f"# machine: {machine()}")
    print(f"# started: {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")


def row(
    name: str, value: str, floor: str = "", ratio: str = "", target: str = "", verdict: str = ""
) -> None:
    print(f"  {name:<34} {value:>14} {floor:>14} {ratio:>8}  {target:<22} {verdict}")


def table_head() -> None:
    row("figure", "value", "floor", "ratio", "target", "")
    print("  " + "-" * 104)


def verdict(ok: bool, how: str = "") -> str:
    return ("met" if ok else "MISSED") + (f" ({how})" if how else "")


def workdir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=f"groupbuy-bench-{prefix}-")
