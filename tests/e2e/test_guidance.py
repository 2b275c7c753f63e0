"""A newcomer who is lost gets an answer: /help for their role, a typo'd command named with
the list, a leader's command in private without a number gets the numbers, /profile shows what
it is about to change."""

from __future__ import annotations

from tests.e2e.conftest import (
    World,
    answered_privately,
    become_resident,
    deal_id_of,
    publish_one_message,
    say,
    set_up_group,
    text_of,
)

DEAL = """Title: Oranges
Item: Orange box | box | 50 | 20 | 3
Deadline: tomorrow 20:00
Pickup: Gate 2
Window: Sat 9:00-10:00"""


async def test_help_for_each_role_and_a_typo(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])

    leader = text_of(await say(world, olga, olga, "/help"))
    assert "/payments" in leader and "/pickup CODE" in leader and "/myorders" in leader
    resident = text_of(await say(world, ann, ann, "/help"))
    assert "/myorders" in resident and "/payments" not in resident and "/newdeal" not in resident
    in_group = text_of(await answered_privately(world, olga, group, "/help"))
    assert "/payments" in in_group  # Olga is the group's admin

    typo = text_of(await say(world, ann, ann, "/myordres"))
    assert typo.startswith("I don't know the command /myordres.") and "/myorders" in typo
    # In the group, a command the bot does not know is someone else's: no answer there.
    before = len(emu.messages(group))
    await emu.send_message(ann, group, "/weather")
    await say(world, ann, ann, "/help")  # a round trip: the group's update was handled first
    assert len(emu.messages(group)) == before + 1


async def test_a_leader_command_in_private_asks_which_deal(world: World) -> None:
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    deal = deal_id_of(post)
    for command in ("payments", "list"):
        asked = text_of(await say(world, olga, olga, f"/{command}"))
        assert asked.startswith("Which deal?") and f"/{command} {deal}" in asked
        assert f"#{deal} · Oranges · open" in asked
    assert f"#{deal}" in text_of(post)  # the number is on the post


async def test_profile_shows_the_address_before_changing_it(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1], room="1203")
    asked = text_of(await say(world, ann, ann, "/profile"))
    assert "Your address in Sunny Garden now: building 1, room 1203." in asked
    assert "unit" not in asked  # skipped: not shown as an empty part
