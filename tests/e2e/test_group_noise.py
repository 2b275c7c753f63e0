"""Group noise: what the bot answers to one person's command in the group goes to that person
in private (a refusal, /help, /myorders, a leader's /pickup and /list at the table), so the
group reads deals and their notices, not a stream of answers meant for somebody else. Someone
the bot cannot write to (never started it) is still answered in the group."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.e2e.conftest import (
    World,
    become_resident,
    bot_says,
    last_id,
    publish_one_message,
    set_up_group,
    text_of,
)

DEAL = """Title: Oranges
Item: Orange box | box | 50 | 20 | 3
Deadline: tomorrow 20:00
Pickup: Gate 2
Window: Sat 9:00-10:00"""


async def quiet_in_group(world: World, group: int, since: int) -> None:
    """Nothing from the bot in the group after message `since`."""
    await asyncio.sleep(0.4)
    said = [m.text for m in world.emu.messages(group) if m.from_bot and m.message_id > since]
    assert said == []


async def test_answers_for_one_person_go_to_that_person(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    card = await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    del card

    for typed, private_answer in [
        ("/help", "Tap Join"),
        ("/myorders", "Oranges"),
        ("/payee", "Only the group's admins"),
        ("/paywindow 45", "Only the group's admins"),
        ("/list", "Only the group's admins"),
    ]:
        in_group, in_private = last_id(world, group), last_id(world, ann)
        await emu.send_message(ann, group, typed)
        said = await bot_says(world, ann, in_private)
        assert private_answer in text_of(said), (typed, text_of(said))
        await quiet_in_group(world, group, in_group)

    # At the table: the leader's /pickup and /list answers are hers, not 300 neighbours'.
    await world.advance(timedelta(days=2))
    await bot_says(world, group, post.message_id, "Pickup notice", timeout=10)
    async with world.deps.uow() as uow:
        [order] = await uow.orders.for_deal(int(post.keyboard[0][0][1].split(":")[1]))
    in_group, in_private = last_id(world, group), last_id(world, olga)
    await emu.send_message(olga, group, f"/pickup {order.code}")
    handed = await bot_says(world, olga, in_private, order.code)
    assert "Ann" in text_of(handed)
    await emu.send_message(olga, group, "/list")
    await bot_says(world, olga, handed.message_id, "Oranges")
    await quiet_in_group(world, group, in_group)

    # Zed never started the bot: it cannot write to him, so he is answered where he asked.
    zed = await emu.add_user("Zed")
    await emu.add_member(group, zed)
    in_group = last_id(world, group)
    await emu.send_message(zed, group, "/myorders")
    pointer = await bot_says(world, group, in_group + 1)
    assert "private" in text_of(pointer).lower()
    await emu.send_message(zed, group, "/paywindow 45")
    refused = await bot_says(world, group, pointer.message_id + 1)
    assert "Only the group's admins" in text_of(refused)
