"""End-to-end fixtures: the emulator on loopback and the real runtime polling it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest_asyncio

from bot.runtime import Runtime
from bot.settings import Settings
from groupbuy.clock import OffsetClock
from sandbox.emulator import Emulator

TOKEN = "4242:TEST-TOKEN-groupbuy"


@dataclass
class World:
    emu: Emulator
    runtime: Runtime
    clock: OffsetClock

    async def advance(self, delta: timedelta) -> None:
        """Move the bot's clock and the emulator's together, then let the scheduler see it."""
        self.clock.advance(delta)
        await self.emu.advance(delta.total_seconds())
        assert self.runtime.background is not None
        await self.runtime.background.sweep()
        self.runtime.background.nudge.set()


def database_url(tmp_path: Path) -> str:
    return os.environ.get("E2E_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}"


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with Emulator(token=TOKEN, username="groupbuy_test_bot") as emu:
        settings = Settings(
            bot_token=TOKEN,
            database_url=database_url(tmp_path),
            telegram_api_base=emu.base_url,
            sweep_seconds=0.2,
            post_edit_interval=0.2,
            private_per_second=50,
            group_per_minute=6000,
            send_per_second=500,
            _env_file=None,  # type: ignore[call-arg]
        )
        clock = OffsetClock()
        runtime = Runtime(settings, clock)
        task = asyncio.create_task(runtime.run())
        ready = asyncio.create_task(runtime.ready.wait())
        done, _ = await asyncio.wait({task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raises the start-up error
        assert runtime.ready.is_set(), "runtime did not start"
        try:
            yield World(emu, runtime, clock)
        finally:
            await runtime.stop()
            await asyncio.wait_for(task, timeout=15)
