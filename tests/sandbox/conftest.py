"""Fixtures: a fresh emulator per test and a real aiogram Bot talking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from aiogram import Bot

from sandbox.emulator import Emulator

TOKEN = "4242:TEST-TOKEN"
BOT_USERNAME = "groupbuy_test_bot"


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(token=TOKEN, username=BOT_USERNAME, first_name="GroupBuy") as e:
        yield e


@pytest_asyncio.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    b = Bot(emu.token, session=emu.aiogram_session())
    yield b
    await b.session.close()
