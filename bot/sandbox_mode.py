"""`groupbuy sandbox`: the emulator, the real runtime polling it over loopback, and the page.

One process plays Telegram (``sandbox.emulator``), runs the bot exactly as production does
(``bot.runtime.Runtime``, long polling, with the emulator's clock) and serves a Telegram-like page
(``sandbox.web``) on the emulator's port. The bot's data is a SQLite file; the emulator's chats
are a JSON snapshot beside it, so a restart shows the same world.
"""

from __future__ import annotations

import bot.lean  # noqa: F401  # first: aiogram's types load lazily

# isort: split

import asyncio
import contextlib
import logging
import signal
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import mini_app
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.context import Deps
from sandbox import snapshot
from sandbox.clock import Clock
from sandbox.emulator import Emulator
from sandbox.web.app import SandboxWeb

log = logging.getLogger(__name__)
TOKEN = "424242:groupbuy-sandbox-local"
BOT_USERNAME = "groupbuy_sandbox_bot"
WEB_APP_SCRIPT = "/static/telegram-web-app.js"  # sandbox/web/static: Telegram's, played
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
SAVE_EVERY = 1.0  # seconds between snapshot checks


class EmulatorClock:
    """The bot's clock (aware UTC datetimes) reading the emulator's float clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now(), UTC)


@dataclass(frozen=True)
class Options:
    host: str = "127.0.0.1"
    port: int = 8080
    db: Path = Path("sandbox.db")
    fresh: bool = False
    empty: bool = False

    @property
    def snapshot(self) -> Path:
        return self.db.with_name(self.db.stem + ".emulator.json")


class Sandbox:
    def __init__(self, options: Options, base: Settings | None = None) -> None:
        self.options = options
        self.base = base
        self.emu: Emulator | None = None
        self.runtime: Runtime | None = None
        self.restored = False
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def url(self) -> str:
        assert self.emu is not None
        host = self.emu.host if ":" not in self.emu.host else f"[{self.emu.host}]"
        return f"http://{host}:{self.emu.port}/"

    async def start(self) -> str:
        opts = self.options
        if opts.fresh:
            for path in (opts.db, opts.snapshot, opts.db.with_name(opts.db.name + "-journal")):
                path.unlink(missing_ok=True)
        opts.db.parent.mkdir(parents=True, exist_ok=True)
        clock = snapshot.clock_of(opts.snapshot) or Clock()
        emu = Emulator(
            token=TOKEN,
            username=BOT_USERNAME,
            first_name="GroupBuy",
            clock=clock,
            host=opts.host,
            port=opts.port,
        )
        self.emu = emu
        self.restored = snapshot.restore(emu.state, opts.snapshot)
        if not self.restored and opts.db.exists() and not opts.empty:
            log.warning("%s has data but its chats are gone; --fresh starts clean", opts.db)
        SandboxWeb(emu, self.advance).install(emu.app)
        # The leaders' scanner (a Mini App) on the page's own server, with the sandbox's
        # stand-in for Telegram's script: the bot's routes, asked for its running dependencies.
        emu.app.router.add_routes(mini_app.routes(self._deps, TOKEN, WEB_APP_SCRIPT))
        await emu.start()
        runtime = Runtime(self._settings(emu), EmulatorClock(clock), serve_web=False)
        self.runtime = runtime
        run = asyncio.create_task(runtime.run())
        ready = asyncio.create_task(runtime.ready.wait())
        done, _ = await asyncio.wait({run, ready}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if run in done:
            run.result()  # raises the start-up error
        if not runtime.ready.is_set():
            raise RuntimeError("the bot did not start within 60 seconds")
        self._tasks.append(run)
        if not self.restored and not opts.empty:
            from bot.sandbox_seed import seed_demo

            await seed_demo(emu)
        self._tasks.append(asyncio.create_task(self._save_loop()))
        return self.url

    def _settings(self, emu: Emulator) -> Settings:
        host = emu.host if emu.host in LOOPBACK else "127.0.0.1"
        overrides: dict[str, Any] = {
            "bot_token": TOKEN,
            "database_url": f"sqlite+aiosqlite:///{self.options.db.resolve()}",
            "telegram_api_base": f"http://{host}:{emu.port}",
            # One person clicking: answers should feel instant; the emulator does not throttle.
            "post_edit_interval": 1.0,
            "sweep_seconds": 5.0,
            "private_per_second": 20.0,
            "group_per_minute": 600.0,
            "send_per_second": 50.0,
        }
        if emu.host in ("127.0.0.1", "localhost"):  # the scanner's: the page's own address
            overrides["public_url"] = f"http://{emu.host}:{emu.port}"
        if "payment_provider_token" in Settings.model_fields:
            overrides["payment_provider_token"] = "sandbox:TEST:provider"  # the emulator's test
        base = self.base.model_dump() if self.base is not None else {}
        return Settings.model_validate({**base, **overrides})

    def _deps(self) -> Deps:
        if self.runtime is None or self.runtime.deps is None:
            raise web.HTTPServiceUnavailable(text="the bot is starting")
        return self.runtime.deps

    async def advance(self, seconds: float) -> None:
        """Fast-forward: the emulator's clock (which the bot reads), then sweep at once."""
        assert self.emu is not None and self.runtime is not None
        await self.emu.advance(seconds)
        background = self.runtime.background
        if background is not None:
            await background.sweep()
            background.nudge.set()

    async def _save_loop(self) -> None:
        assert self.emu is not None
        st, saved = self.emu.state, -1.0
        while True:
            await asyncio.sleep(SAVE_EVERY)
            mark = float(st.events[-1]["seq"]) if st.events else 0.0
            if mark != saved:
                self.save()
                saved = mark

    def save(self) -> None:
        if self.emu is not None:
            snapshot.save(self.emu.state, self.options.snapshot)

    async def stop(self) -> None:
        for task in self._tasks[1:]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.runtime is not None:
            await self.runtime.stop()
        if self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._tasks[0], timeout=15)
        self._tasks.clear()
        self.save()
        if self.emu is not None:
            await self.emu.stop()


async def serve(options: Options, base: Settings | None = None) -> None:
    """Run until Ctrl-C or SIGTERM; the snapshot is saved on the way out."""
    if options.host not in LOOPBACK:
        print(
            f"WARNING: the sandbox listens on {options.host}: anyone who can reach this machine "
            "can use it (there is no login). Use --host 127.0.0.1 to keep it private.",
            file=sys.stderr,
            flush=True,
        )
    sandbox = Sandbox(options, base)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        print("GroupBuy sandbox: starting…", flush=True)
        url = await sandbox.start()
        what = "restored" if sandbox.restored else ("empty" if options.empty else "demo seeded")
        print(f"GroupBuy sandbox ({what}, data in {options.db}): open {url}", flush=True)
        await stop.wait()
    finally:
        await sandbox.stop()
