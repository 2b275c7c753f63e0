"""Start-up against a Bot API that is not there yet: one clear line per try, a growing pause, and
the bot carries on once it is answered; a token Telegram refuses ends it with what to do."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.reach import TokenRefused, reach
from sandbox.emulator import Emulator


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    emulator = Emulator(token="42:TEST", bot_id=42, username="groupbuy_test_bot")
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


async def test_a_bot_api_on_a_bad_day_is_tried_again_until_it_answers(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    emu.faults.inject("server_error", "getMe", count=2, code=502)
    bot = Bot(emu.token, session=emu.aiogram_session())
    try:
        with caplog.at_level(logging.WARNING, logger="bot.reach"):
            me = await reach(bot, "http://emulator", asyncio.Event(), first_pause=0.01)
    finally:
        await bot.session.close()
    assert me is not None and me.username == "groupbuy_test_bot"
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.reach"]
    assert len(lines) == 2, lines
    assert all("cannot reach the Bot API at http://emulator" in line for line in lines)
    assert all(r.exc_info is None for r in caplog.records)  # a line, not a traceback


async def test_an_unreachable_address_is_one_line_a_try_and_a_stop_ends_the_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = "http://127.0.0.1:1"  # nothing listens on port 1
    bot = Bot("42:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(base)))
    stopping = asyncio.Event()
    try:
        with caplog.at_level(logging.WARNING, logger="bot.reach"):
            task = asyncio.create_task(reach(bot, base, stopping, first_pause=0.01))
            while not caplog.records:
                await asyncio.sleep(0.01)
            stopping.set()
            assert await asyncio.wait_for(task, 5) is None
    finally:
        await bot.session.close()
    line = caplog.records[0].getMessage()
    assert line.startswith(f"cannot reach the Bot API at {base} (")
    assert "Cannot connect to host 127.0.0.1:1" in line and "HTTP Client says" not in line


async def test_a_refused_token_is_not_waited_for(emu: Emulator) -> None:
    bot = Bot("4242:WRONG", session=emu.aiogram_session())
    try:
        with pytest.raises(TokenRefused, match="refused BOT_TOKEN") as refused:
            await reach(bot, "http://emulator", asyncio.Event(), first_pause=0.01)
    finally:
        await bot.session.close()
    assert "@BotFather" in str(refused.value)
