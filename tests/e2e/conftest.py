"""End-to-end fixtures: the emulator on loopback and the real runtime polling it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.runtime import Runtime
from bot.settings import Settings
from groupbuy.clock import OffsetClock
from handlers.context import Deps
from sandbox.emulator import Emulator
from storage.migrate import downgrade
from tests.storage import db as pg

TOKEN = "4242:TEST-TOKEN-groupbuy"


@dataclass
class World:
    emu: Emulator
    runtime: Runtime
    clock: OffsetClock
    settings: Settings
    task: asyncio.Task[None]

    @property
    def deps(self) -> Deps:
        """The runtime's dependencies (set once it has started, which the fixture ensures)."""
        deps = self.runtime.deps
        assert deps is not None, "runtime has not started"
        return deps

    async def advance(self, delta: timedelta) -> None:
        """Move the bot's clock and the emulator's together, then let the scheduler see it."""
        self.clock.advance(delta)
        await self.emu.advance(delta.total_seconds())
        assert self.runtime.background is not None
        await self.runtime.background.sweep()
        self.runtime.background.nudge.set()

    async def stop(self) -> None:
        """The bot process stops (as on SIGTERM) and its `run()` returns."""
        await self.runtime.stop()
        await asyncio.wait_for(self.task, timeout=30)

    async def restart(self, between: Callable[[], None] | None = None) -> None:
        """Stop the bot, then (after `between`, if given) start a new one on the same
        database: a deploy, or a crash and the restart after it."""
        await self.stop()
        if between is not None:
            between()
        self.runtime, self.task = await start_runtime(self.settings, self.clock)


async def database_url(tmp_path: Path, url: str | None = None) -> str:
    """A fresh SQLite file per test; or, with E2E_DATABASE_URL (or `url`), that database emptied
    first (every test starts from no schema: the runtime migrates it as in production)."""
    url = url or os.environ.get("E2E_DATABASE_URL")
    if not url:
        return f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}"
    await asyncio.to_thread(downgrade, url, "base")  # Alembic runs its own event loop
    return url


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(tmp_path) as started:
        yield started


@pytest.fixture(scope="session")
def e2e_pg_database() -> Iterator[str]:
    """A PostgreSQL database of the e2e tests' own, made beside TEST_DATABASE_URL's."""
    if pg.PG_URL is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    url = pg.create_pg_database()
    yield url
    pg.drop_pg_database(url)


@pytest_asyncio.fixture(params=pg.SQL_BACKENDS)
async def any_world(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[World]:
    """The world on SQLite, and on PostgreSQL when TEST_DATABASE_URL names one (as CI does):
    for the tests whose point must hold on both (authority, money)."""
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("e2e_pg_database")
    async with running_world(tmp_path, url) as started:
        yield started


@contextlib.asynccontextmanager
async def running_world(
    tmp_path: Path, url: str | None = None, **overrides: Any
) -> AsyncIterator[World]:
    """`overrides`: settings other than the tests' fast defaults (Telegram's own send limits,
    say)."""
    async with Emulator(token=TOKEN, username="groupbuy_test_bot") as emu:
        values: dict[str, Any] = {
            "sweep_seconds": 0.2,
            "post_edit_interval": 0.2,
            "private_per_second": 50,
            "group_per_minute": 6000,
            "send_per_second": 500,
            **overrides,
        }
        settings = Settings(
            bot_token=TOKEN,
            database_url=await database_url(tmp_path, url),
            telegram_api_base=emu.base_url,
            payment_provider_token="284685063:TEST:groupbuy",  # the emulator plays the provider
            _env_file=None,  # type: ignore[call-arg]
            **values,
        )
        clock = OffsetClock()
        runtime, task = await start_runtime(settings, clock)
        world = World(emu, runtime, clock, settings, task)
        try:
            yield world
        finally:
            await world.stop()


async def start_runtime(
    settings: Settings, clock: OffsetClock
) -> tuple[Runtime, asyncio.Task[None]]:
    runtime = Runtime(settings, clock)
    task = asyncio.create_task(runtime.run())
    ready = asyncio.create_task(runtime.ready.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises the start-up error
    assert runtime.ready.is_set(), "runtime did not start"
    return runtime, task


# --- helpers for the e2e test files (import them from tests.e2e.conftest) -------------------

from sandbox.views import CallbackAnswer, SentMessage  # noqa: E402

SKIP = "s:0:0"  # callback data of every Skip / Keep / All buildings button


def text_of(item: SentMessage | CallbackAnswer) -> str:
    """The text (or caption) of a message, or the text of a callback answer; fails if absent."""
    assert item.text is not None, f"expected text on {item!r}"
    return item.text


def group_in(pattern: re.Pattern[str], text: str, group: int = 1) -> str:
    """Group `group` of `pattern`'s first match in `text`; fails if it does not match."""
    found = pattern.search(text)
    assert found is not None, f"{pattern.pattern!r} not found in {text!r}"
    return found.group(group)


def start_payload(url: str) -> str:
    """The ?start= payload of a deep link such as https://t.me/bot?start=setup_42."""
    from urllib.parse import parse_qs, urlparse

    return parse_qs(urlparse(url).query)["start"][0]


def last_id(world: World, chat_id: int) -> int:
    return max((m.message_id for m in world.emu.messages(chat_id)), default=0)


async def bot_says(
    world: World, chat_id: int, after: int, contains: str | None = None, timeout: float = 5.0
) -> SentMessage:
    """The first bot message in the chat after message id `after` (containing `contains`)."""
    return await world.emu.wait_for_message(
        chat_id,
        lambda m: (
            m.from_bot and m.message_id > after and (contains is None or contains in (m.text or ""))
        ),
        timeout,
    )


async def say(
    world: World, user: int, chat_id: int, text: str, contains: str | None = None
) -> SentMessage:
    """`user` writes `text` in the chat; returns the bot's first reply there."""
    after = last_id(world, chat_id)
    await world.emu.send_message(user, chat_id, text)
    return await bot_says(world, chat_id, after, contains)


async def answered_privately(
    world: World, user: int, group: int, text: str, contains: str | None = None
) -> SentMessage:
    """`user` writes `text` in the group; the bot's answer, theirs alone, in their private
    chat (handlers.router: `Send.personal`)."""
    after = last_id(world, user)
    await world.emu.send_message(user, group, text)
    return await bot_says(world, user, after, contains)


async def answer_to(world: World, user: int, group: int, text: str) -> SentMessage:
    """The bot's answer to `text` typed by `user` in the group, wherever it went: to them in
    private, or in the group for someone the bot cannot write to."""
    after_group, after_user = last_id(world, group), last_id(world, user)
    await world.emu.send_message(user, group, text)

    def answered() -> SentMessage | None:
        for chat, after in ((user, after_user), (group, after_group + 1)):
            for m in world.emu.messages(chat):
                if m.from_bot and m.message_id > after:
                    return m
        return None

    await world.emu.wait_until(lambda: answered() is not None, timeout=5)
    found = answered()
    assert found is not None
    return found


async def press_for_reply(
    world: World, user: int, chat_id: int, message_id: int, label: str, contains: str | None = None
) -> tuple[CallbackAnswer, SentMessage]:
    """Press a button by label; returns the answer and the bot's next message in the chat."""
    after = last_id(world, chat_id)
    answer = await world.emu.press_button(user, chat_id, message_id, text=label)
    return answer, await bot_says(world, chat_id, after, contains)


async def close_now(world: World, leader: int, chat: int, post_id: int) -> CallbackAnswer:
    """Close now under a deal post, then Yes under the question it asks: the answer to Yes."""
    after = last_id(world, chat)
    asked = await world.emu.press_button(leader, chat, post_id, text="Close now")
    assert asked.text is None and not asked.show_alert, asked
    question = await bot_says(world, chat, after, "Close “")
    return await world.emu.press_button(leader, chat, question.message_id, text="Yes, close it now")


async def set_up_group(
    world: World,
    *,
    owner_name: str = "Olga",
    owner_language: str = "en",
    title: str = "Sunny Garden residents",
    name: str = "Sunny Garden",
    buildings: str = "1, 2, 3A",
    announced: str | None = None,
    basic: bool = False,
    forum: bool = False,
) -> tuple[int, int]:
    """A group with the bot added and set up through the private dialog. Returns (owner, group).
    `announced`: the name the group is told (the name as typed unless given). `basic`: a basic
    group, which Telegram may later turn into a supergroup."""
    emu = world.emu
    owner = await emu.add_user(owner_name, language_code=owner_language)
    group = await emu.create_group(title, owner=owner, basic=basic, forum=forum)
    await emu.add_bot_to_group(group, owner)
    greeting = await bot_says(world, group, 0)
    (_, url) = greeting.keyboard[0][0]
    await say(world, owner, owner, f"/start {start_payload(url)}")
    await say(world, owner, owner, name)
    currency = await say(world, owner, owner, buildings)
    after = last_id(world, owner)
    await emu.press_button(owner, owner, currency.message_id, data=SKIP)
    timezone = await bot_says(world, owner, after)
    after_group = last_id(world, group)
    await emu.press_button(owner, owner, timezone.message_id, data=SKIP)
    await bot_says(world, group, after_group, announced or name)
    return owner, group


async def publish_one_message(world: World, leader: int, group: int, body: str) -> SentMessage:
    """`/newdeal` + the deal in one message; returns the deal post."""
    after = last_id(world, group)
    await world.emu.send_message(leader, group, f"/newdeal\n{body}")
    return await bot_says(world, group, after)


def deal_id_of(post: SentMessage) -> int:
    """The deal id, read from the Join button's callback data (op:deal:item)."""
    for row in post.keyboard:
        for _, data in row:
            if data.startswith("j:"):
                return int(data.split(":")[1])
    raise AssertionError(f"no join button on {post.keyboard}")


async def become_resident(
    world: World,
    user: int,
    group: int,
    post_id: int,
    join_data: str,
    *,
    building: str = "1",
    room: str = "101",
) -> SentMessage:
    """Press Join, follow the deep link, fill the profile (unit and phone skipped).

    Returns the private 'my order' message the bot shows at the end.
    """
    emu = world.emu
    answer = await emu.press_button(user, group, post_id, data=join_data)
    assert answer.url is not None, answer
    ask = await say(world, user, user, f"/start {start_payload(answer.url)}")
    unit_q = (await press_for_reply(world, user, user, ask.message_id, building))[1]
    after = last_id(world, user)
    await emu.press_button(user, user, unit_q.message_id, data=SKIP)
    await bot_says(world, user, after)  # the room question
    phone_q = await say(world, user, user, room)
    after = last_id(world, user)
    await emu.press_button(user, user, phone_q.message_id, data=SKIP)
    return await bot_says(world, user, after, "🧾")


HANDOUT_DEAL = """Title: Lychees
Item: Lychee | kg | 30 | 40 | 5
Item: Mango | box | 45.5 | 10
Deadline: tomorrow 20:00
Pickup: Gate 3
Window: Sun 8:00-9:00"""
PICKUP_CODE = re.compile(r"Pickup code: (\w+)")


async def three_buyers_closed(
    world: World,
) -> tuple[int, int, dict[str, int], dict[str, str]]:
    """Olga's deal, closed: Ann (room 101) bought a lychee and a mango, Bob (102) and Cy (103)
    a lychee each, cash at pickup. (leader, group, users by name, pickup codes by name)"""
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, HANDOUT_DEAL)
    lychee, mango = post.keyboard[0][0][1], post.keyboard[1][0][1]
    users = {}
    for name, room in (("Ann", "101"), ("Bob", "102"), ("Cy", "103")):
        users[name] = await emu.add_user(name)
        await emu.add_member(group, users[name])
        await become_resident(world, users[name], group, post.message_id, lychee, room=room)
    await emu.press_button(users["Ann"], group, post.message_id, data=mango)
    await close_now(world, olga, group, post.message_id)
    codes = {}
    for name, user in users.items():
        notice = await bot_says(world, user, 0, "Your order: Lychees", timeout=10)
        codes[name] = group_in(PICKUP_CODE, text_of(notice))
    return olga, group, users, codes


async def record_shortfall(
    world: World, leader: int, group: int, args: str, *, pro_rata: bool = False
) -> tuple[SentMessage, SentMessage]:
    """/shortfall ARGS in the group: the plan (in the leader's private chat), then applied as
    shown (by join order), or first switched to pro rata; the plan and what it says once done."""
    plan = await answered_privately(world, leader, group, f"/shortfall {args}", "Shortfall plan")
    if pro_rata:
        await world.emu.press_button(leader, leader, plan.message_id, text="⚖ Pro rata instead")
        await world.emu.wait_until(lambda: "pro rata" in text_of(_message(world, leader, plan)))
        plan = _message(world, leader, plan)
    await world.emu.press_button(leader, leader, plan.message_id, text="✅ Apply")
    await world.emu.wait_until(
        lambda: "Shortfall recorded" in text_of(_message(world, leader, plan))
    )
    return plan, _message(world, leader, plan)


def _message(world: World, chat: int, message: SentMessage) -> SentMessage:
    """The message as it is now (edited or not)."""
    found = next(m for m in world.emu.messages(chat) if m.message_id == message.message_id)
    assert found.text is not None
    return found
