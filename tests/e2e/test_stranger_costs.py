"""What a stranger costs: Telegram calls and database rows, while Telegram is in trouble.

Eve is in no group. She presses forged buttons, opens links and sends commands naming fifty deal
ids: A's and B's deals (groups that work), C's deal (a group the bot was removed from) and ids
that do not exist, while Telegram answers every admin and member lookup with 429. She makes the
bot ask Telegram about a group at most once per 15 s, changes no row of any table (the update
record aside, which is the bot's own bookkeeping), and reads the same refusal for a deal that
does not exist as for one that is not hers. Runs on SQLite and, with TEST_DATABASE_URL, on
PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from handlers.callbacks import Callback, Op
from storage.tables import Base
from tests.e2e.conftest import (
    World,
    answer_to,
    deal_id_of,
    publish_one_message,
    say,
    set_up_group,
)
from tests.e2e.test_hostile import DEAL_B, Scene, _scene

LOOKUPS = ("getChatAdministrators", "getChatMember")
DEAL_IDS = range(1, 51)


async def rows(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the update record, in a stable order."""
    engine = create_async_engine(world.settings.database_url)
    try:
        async with engine.connect() as conn:
            found = {}
            for table in Base.metadata.sorted_tables:
                if table.name == "handled_updates":
                    continue
                result = await conn.execute(select(table).order_by(*table.primary_key.columns))
                found[table.name] = [tuple(r) for r in result]
            return found
    finally:
        await engine.dispose()


def lookups_by_group(world: World, since: int) -> Counter[int]:
    return Counter(
        int(e.params["chat_id"])
        for e in world.emu.state.requests_log[since:]
        if e.method in LOOKUPS
    )


async def _left_group(world: World) -> tuple[int, int]:
    """Group C, with a deal, then the bot removed from it. Returns (group, deal)."""
    carl, group_c = await set_up_group(
        world, owner_name="Carl", title="Left compound", name="Left", buildings="9"
    )
    post = await publish_one_message(world, carl, group_c, DEAL_B.replace("Durian", "Mango"))
    await world.emu.remove_bot_from_group(group_c, carl)
    await world.emu.wait_until(lambda: not world.emu.state.updates, timeout=10)
    return group_c, deal_id_of(post)


async def _play(world: World, s: Scene) -> list[str]:
    """Eve's 200 attempts: presses in her private chat, links and commands, over 50 ids.
    Returns what she was told, in order."""
    emu, eve = world.emu, s.eve
    told: list[str] = []
    ops = (Op.JOIN, Op.MINE, Op.CANCEL_ORDER, Op.CLOSE, Op.LIST, Op.CLAIM_PAID, Op.REMIND_UNPAID)
    for n, deal_id in enumerate(DEAL_IDS):
        op = ops[n % len(ops)]
        for _ in range(2):  # pressed twice, as an impatient thumb does
            answer = await emu.press_raw(eve, eve, s.eve_msg, Callback(op, deal_id, 1).pack())
            told.append(answer.text or "")
        link = ("j_{}_1", "o_{}", "l_{}")[n % 3].format(deal_id)
        told.append((await say(world, eve, eve, f"/start {link}")).text or "")
        command = ("/list {}", "/payments {}", "/shortfall 1 1 {}")[n % 3].format(deal_id)
        told.append((await say(world, eve, eve, command)).text or "")
    return told


async def _play_in_group(world: World, s: Scene, sam: int) -> list[str]:
    """Sam, a member of group B but no admin, tries its leader buttons and commands there,
    naming the same fifty ids: 200 attempts. Returns what he was told."""
    emu, group = world.emu, s.group_b
    told: list[str] = []
    ops = (Op.CLOSE, Op.CANCEL_DEAL, Op.LIST, Op.REMIND_UNPAID, Op.PICKED)
    for n, deal_id in enumerate(DEAL_IDS):
        for op in (ops[n % len(ops)], ops[(n + 1) % len(ops)]):
            answer = await emu.press_raw(sam, group, s.post_b, Callback(op, deal_id, 1).pack())
            told.append(answer.text or "")
        command = ("/list {}", "/payments {}", "/shortfall 1 1 {}", "/paywindow 45")[n % 4]
        told.append((await answer_to(world, sam, group, command.format(deal_id))).text or "")
        told.append((await answer_to(world, sam, group, f"/paymode {deal_id}")).text or "")
    return told


async def test_a_stranger_costs_one_lookup_per_group_per_15s_and_no_row(any_world: World) -> None:
    world = any_world
    s = await _scene(world)
    _, deal_c = await _left_group(world)
    assert {s.deal_a, s.deal_b, deal_c} <= set(DEAL_IDS)
    emu = world.emu
    sam = await emu.add_user("Sam")
    await emu.add_member(s.group_b, sam)
    await say(world, sam, sam, "/start")  # known to the bot: his own row exists before
    await emu.wait_until(lambda: not emu.state.updates, timeout=10)
    await asyncio.sleep(0.5)
    for method in LOOKUPS:
        await emu.inject_fault("flood", method, count=None, retry_after=2)
    before = await rows(world)

    # Eve, in no group, costs no lookup at all: nothing ties her to any group.
    start = len(emu.state.requests_log)
    told = await _play(world, s)
    assert lookups_by_group(world, start) == Counter()
    # Sam is in B: his tries there make B be asked about, at most once per 15 s of the clock.
    for _ in range(3):
        await world.advance(timedelta(seconds=15))
        start = len(emu.state.requests_log)
        told += await _play_in_group(world, s, sam)  # well within 15 s of the clock
        asked = lookups_by_group(world, start)
        assert asked == Counter({s.group_b: 1}), asked

    await emu.wait_until(lambda: not emu.state.updates, timeout=15)
    await asyncio.sleep(0.5)
    assert await rows(world) == before
    assert not any(t.startswith("Sorry, something went wrong") for t in told), told
    # Told the true reasons: B's last list of admins (which stands while Telegram cannot be
    # asked) does not have Sam, the deal is not B's, or not open to Eve.
    assert any("Only the group's admins" in t for t in told)
    assert any("is not one of this group's deals" in t for t in told)
    assert any("is not open to you" in t for t in told)


async def test_not_found_and_not_yours_read_the_same(any_world: World) -> None:
    """Whatever Eve names, a deal that exists in a group she is not in or one that does not
    exist, she reads the same words (but for the number she typed): ids cannot be told apart
    by their refusals."""
    world = any_world
    s = await _scene(world)
    emu, eve = world.emu, s.eve
    missing = 999

    def same(real: str | None, fake: str | None) -> bool:
        return (real or "").replace(f"#{s.deal_a}", "#N") == (fake or "").replace(
            f"#{missing}", "#N"
        )

    ops = (Op.JOIN, Op.MINE, Op.CANCEL_ORDER, Op.CLOSE, Op.LIST, Op.PICKED, Op.CLAIM_PAID)
    for op in ops:
        real = await emu.press_raw(eve, eve, s.eve_msg, Callback(op, s.deal_a, 1).pack())
        fake = await emu.press_raw(eve, eve, s.eve_msg, Callback(op, missing, 1).pack())
        assert same(real.text, fake.text) and real.show_alert == fake.show_alert, op
    for pattern in ("j_{}_1", "o_{}", "l_{}", "/list {}", "/payments {}", "/shortfall 1 1 {}"):
        command = pattern if pattern.startswith("/") else "/start " + pattern
        said = await say(world, eve, eve, command.format(s.deal_a))
        told = await say(world, eve, eve, command.format(missing))
        assert same(said.text, told.text), (pattern, said.text, told.text)
    # Mallory, in his own group, names A's deal and a missing one: the same again.
    for op in (Op.JOIN, Op.MINE, Op.CLOSE, Op.LIST, Op.PICKED):
        data = Callback(op, s.deal_a, 1).pack(), Callback(op, missing, 1).pack()
        real = await emu.press_raw(s.mallory, s.group_b, s.post_b, data[0])
        fake = await emu.press_raw(s.mallory, s.group_b, s.post_b, data[1])
        assert same(real.text, fake.text) and real.show_alert == fake.show_alert, op
    for pattern in ("/list {}", "/payments {}", "/shortfall 1 1 {}"):
        said = await answer_to(world, s.mallory, s.group_b, pattern.format(s.deal_a))
        told = await answer_to(world, s.mallory, s.group_b, pattern.format(missing))
        assert same(said.text, told.text), (pattern, said.text, told.text)
