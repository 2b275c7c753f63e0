"""bot.polling against the emulator's getUpdates (an update comes again until a later offset
confirms it): an update is confirmed only once its handler is done, a stop that cuts a
handler off leaves that update for the next start, and the chats take turns for the slots."""

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
    """Records what it handled; holds the updates whose text is in `hold` until released
    (`release`: all of them; `releases[text]`: that one)."""

    def __init__(self, hold: set[str]) -> None:
        self.hold = hold
        self.release = asyncio.Event()
        self.releases = {text: asyncio.Event() for text in hold}
        self.started: list[int] = []
        self.done: list[int] = []
        self.deliveries: list[delivery.Delivery | None] = []

    async def __call__(self, update: Update) -> None:
        self.started.append(update.update_id)
        self.deliveries.append(delivery.current())
        assert update.message is not None
        text = update.message.text or ""
        if text in self.hold:
            await asyncio.wait(
                [asyncio.ensure_future(e.wait()) for e in (self.release, self.releases[text])],
                return_when=asyncio.FIRST_COMPLETED,
            )
        self.done.append(update.update_id)


async def _send(emu: Emulator, user: int, *texts: str) -> list[int]:
    ids = []
    for text in texts:
        await emu.send_message(user, user, text)
        ids.append(emu.state.last_update_id)
    return ids


@contextlib.asynccontextmanager
async def polling(
    emu: Emulator, handler: Handler, drain_seconds: float = 5.0, in_flight: int = 10
) -> AsyncIterator[asyncio.Event]:
    """A poller taking updates from the emulator into `handler` until the event it yields is
    set (or the block ends); then its stop, drain and confirmation are waited for."""
    bot = Bot(TOKEN, session=emu.aiogram_session())
    stopping = asyncio.Event()
    poller = Poller(bot, 77, handler, in_flight=in_flight, timeout=1, drain_seconds=drain_seconds)
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


async def test_chats_take_turns_for_the_slots(emu: Emulator) -> None:
    """One slot: a storm in Ann's chat does not hold Bob's one update back behind all of it;
    each chat's own updates keep Telegram's order."""
    ann, bob = await emu.add_user("Ann"), await emu.add_user("Bob")
    slow, *anns = await _send(emu, ann, "slow", "a1", "a2", "a3")
    (bobs,) = await _send(emu, bob, "b1")
    handler = Handler({"slow"})
    async with polling(emu, handler, in_flight=1):
        await emu.wait_until(lambda: slow in handler.started)
        await asyncio.sleep(0.2)  # every update is taken by now, waiting for the one slot
        handler.release.set()
        await emu.wait_until(lambda: pending(emu) == [], timeout=5)
    assert handler.started == [slow, bobs, *anns]


async def test_a_stop_leaves_an_older_update_that_waited_for_its_turn(emu: Emulator) -> None:
    """Bob's update started before Ann's older second one (the chats took turns): a stop that
    cuts Bob's off must not confirm Ann's, which never ran."""
    ann, bob = await emu.add_user("Ann"), await emu.add_user("Bob")
    first, second = await _send(emu, ann, "first", "second")
    (stuck,) = await _send(emu, bob, "stuck")
    handler = Handler({"first", "stuck"})
    async with polling(emu, handler, drain_seconds=0.3, in_flight=1) as stopping:
        await emu.wait_until(lambda: first in handler.started)
        await asyncio.sleep(0.2)
        handler.releases["first"].set()
        await emu.wait_until(lambda: stuck in handler.started)
        stopping.set()  # Bob's is cut off; Ann's second never had a slot
    assert handler.done == [first]
    assert pending(emu) == [second, stuck]
