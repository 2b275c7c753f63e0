"""bot.polling against the emulator's getUpdates (an update comes again until a later offset
confirms it): an update is confirmed only once its handler is done, and a stop that cuts a
handler off leaves that update for the next start."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest_asyncio
from aiogram import Bot
from aiogram.types import Update

from bot.polling import Poller
from groupbuy import delivery
from sandbox.emulator import Emulator

TOKEN = "4242:TEST-TOKEN-polling"


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(token=TOKEN, username="polling_test_bot") as started:
        yield started


def pending(emu: Emulator) -> list[int]:
    """The update ids Telegram still holds (not confirmed by the bot)."""
    return [u[0] for u in emu.state.updates]


class Handler:
    """Records what it handled; holds the updates whose text is in `hold` until released."""

    def __init__(self, hold: set[str]) -> None:
        self.hold = hold
        self.release = asyncio.Event()
        self.started: list[int] = []
        self.done: list[int] = []
        self.deliveries: list[delivery.Delivery | None] = []

    async def __call__(self, update: Update) -> None:
        self.started.append(update.update_id)
        self.deliveries.append(delivery.current())
        assert update.message is not None
        if update.message.text in self.hold:
            await self.release.wait()
        self.done.append(update.update_id)


async def _send(emu: Emulator, user: int, *texts: str) -> list[int]:
    ids = []
    for text in texts:
        await emu.send_message(user, user, text)
        ids.append(emu.state.last_update_id)
    return ids


@contextlib.asynccontextmanager
async def polling(
    emu: Emulator, handler: Handler, drain_seconds: float = 5.0
) -> AsyncIterator[asyncio.Event]:
    """A poller taking updates from the emulator into `handler` until the event it yields is
    set (or the block ends); then its stop, drain and confirmation are waited for."""
    bot = Bot(TOKEN, session=emu.aiogram_session())
    stopping = asyncio.Event()
    poller = Poller(bot, 77, handler, in_flight=10, timeout=1, drain_seconds=drain_seconds)
    task = asyncio.create_task(poller.run(stopping))
    try:
        yield stopping
    finally:
        stopping.set()
        await asyncio.wait_for(task, 10)
        await bot.session.close()


async def test_an_update_is_confirmed_only_once_it_was_handled(emu: Emulator) -> None:
    ann = await emu.add_user("Ann")
    first, slow, third = await _send(emu, ann, "first", "slow", "third")
    handler = Handler({"slow"})
    async with polling(emu, handler):
        await emu.wait_until(lambda: slow in handler.started and third in handler.done)
        await asyncio.sleep(0.3)  # a few getUpdates go by
        # The first is confirmed; the slow one holds the offset, so the third is not yet.
        assert pending(emu) == [slow, third]
        assert handler.done == [first, third]
        handler.release.set()
        await emu.wait_until(lambda: pending(emu) == [], timeout=5)
        assert sorted(handler.done) == [first, slow, third]  # each once
        assert [d.update_id for d in handler.deliveries if d] == handler.started
        assert {d.bot_id for d in handler.deliveries if d} == {77}


async def test_a_stop_waits_for_handlers_and_leaves_what_it_cut_off(emu: Emulator) -> None:
    ann = await emu.add_user("Ann")
    first, stuck, third = await _send(emu, ann, "first", "stuck", "third")
    handler = Handler({"stuck"})
    async with polling(emu, handler, drain_seconds=0.5) as stopping:
        await emu.wait_until(lambda: third in handler.done and stuck in handler.started)
        stopping.set()  # the stuck handler is cut off after drain_seconds
    assert handler.done == [first, third]
    # Telegram holds the one that was cut off (and what came after it) for the next start.
    assert pending(emu) == [stuck, third]

    again = Handler(set())
    async with polling(emu, again):
        await emu.wait_until(lambda: pending(emu) == [], timeout=5)
        assert again.done == [stuck, third]


async def test_a_failing_telegram_is_asked_again(emu: Emulator) -> None:
    ann = await emu.add_user("Ann")
    await emu.inject_flood("getUpdates", 2, 1)  # two 429s, then it answers
    (only,) = await _send(emu, ann, "hello")
    handler = Handler(set())
    async with polling(emu, handler):
        await emu.wait_until(lambda: pending(emu) == [], timeout=15)
        assert handler.done == [only]
