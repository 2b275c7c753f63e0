"""The bot in a process of its own (`python -m bot.cli run`, configured by environment as in
production) polling the emulator over HTTP, on SQLite and on PostgreSQL: a rig for the tests of
faults (a deploy's SIGTERM, a crash's SIGKILL, a Bot API on a bad day)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.harness import (
    BotProcess,
    Database,
    LoadEmulator,
    deps_for,
    drop_database,
    groupbuy_process,
    new_database,
)
from handlers.context import Deps
from storage.engine import make_engine
from tests.storage import db as pg

PROVIDER_TOKEN = "284685063:TEST:groupbuy"  # the emulator plays the provider


class FaultEmulator(LoadEmulator):
    """The load emulator, plus: a signal sent to the bot at a chosen moment of its polling."""

    def __init__(self) -> None:
        super().__init__()
        self.bot_pid: int | None = None
        self.signal_when_payments_taken: int | None = None  # the signal to send then
        self.at_signal: Callable[[], Awaitable[object]] | None = None  # looks at the bot then
        self._payments_handed_out = False

    async def _handle_api(self, request: web.Request) -> web.Response:
        polling = request.match_info["method"].lower() == "getupdates"
        if polling and self._payments_handed_out and self.signal_when_payments_taken:
            # The bot asks again right after taking a batch: its handlers have just started.
            assert self.bot_pid is not None
            os.kill(self.bot_pid, self.signal_when_payments_taken)
            self.signal_when_payments_taken = None
            if self.at_signal is not None:
                await self.at_signal()
        response = await super()._handle_api(request)
        body = response.body
        if polling and isinstance(body, bytes) and b"successful_payment" in body:
            self._payments_handed_out = True
        return response


@pytest_asyncio.fixture(params=pg.SQL_BACKENDS)
async def database(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    if request.param == "postgresql" and pg.PG_URL is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    db = await new_database(request.param, tmp_path, "faults")
    try:
        yield db
    finally:
        await drop_database(db)


@dataclass
class Rig:
    """The emulator, the database, the bot processes started on it (stopped at the end)."""

    tmp: Path
    database: Database
    emu: FaultEmulator
    engine: AsyncEngine
    procs: list[BotProcess] = field(default_factory=list)

    @property
    def deps(self) -> Deps:
        return deps_for(self.engine)

    async def start(self, **settings: Any) -> BotProcess:
        """`groupbuy run` in a process of its own, once it polls."""
        proc = groupbuy_process(
            self.tmp,
            self.emu,
            self.database.url,
            payment_provider_token=PROVIDER_TOKEN,
            **settings,
        )
        await proc.start(self.emu)
        self.emu.bot_pid = proc.pid
        self.procs.append(proc)
        return proc


@pytest_asyncio.fixture
async def rig(tmp_path: Path, database: Database) -> AsyncIterator[Rig]:
    emu = FaultEmulator()
    await emu.start()
    engine = make_engine(database.url)
    started = Rig(tmp_path, database, emu, engine)
    try:
        yield started
    finally:
        for proc in started.procs:
            await proc.stop()
        await engine.dispose()
        await emu.stop()
