"""Verified pickup (核销) at the table: the leader hands an order out by its code typed alone in
private, or by forwarding the resident's message with the code in it; the answer shows the
order and what to collect; a second try says when and by whom; nobody else's words do anything."""

from __future__ import annotations

import asyncio
import re

from sandbox.views import SentMessage
from tests.e2e.conftest import (
    World,
    answer_to,
    answered_privately,
    become_resident,
    bot_says,
    close_now,
    group_in,
    last_id,
    publish_one_message,
    say,
    set_up_group,
    text_of,
)

DEAL = """Title: Lychees
Item: Lychee | kg | 30 | 40 | 5
Item: Mango | box | 45.5 | 10
Deadline: tomorrow 20:00
Pickup: Gate 3
Window: Sun 8:00-9:00"""
CODE = re.compile(r"Pickup code: (\w+)")


def _message(world: World, chat: int, message_id: int) -> SentMessage:
    return next(m for m in world.emu.messages(chat) if m.message_id == message_id)


async def _forwarded(world: World, user: int, chat: int, message_id: int) -> str:
    """`user` forwards the message to the bot; the bot's answer there."""
    return text_of(await _answer_to_forward(world, user, chat, message_id))


async def _answer_to_forward(world: World, user: int, chat: int, message_id: int) -> SentMessage:
    after = last_id(world, user)
    await world.emu.forward_message(user, chat, message_id, user)
    return await bot_says(world, user, after)


async def test_a_code_typed_or_forwarded_hands_the_order_out_once(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    lychee, mango = post.keyboard[0][0][1], post.keyboard[1][0][1]
    ann = await emu.add_user("Ann")
    bob = await emu.add_user("Bob")
    for user, room in ((ann, "101"), (bob, "102")):
        await emu.add_member(group, user)
        await become_resident(world, user, group, post.message_id, lychee, room=room)
    await emu.press_button(ann, group, post.message_id, data=mango)
    await close_now(world, olga, group, post.message_id)
    codes = {}
    for user in (ann, bob):
        notice = await bot_says(world, user, 0, "Your order: Lychees", timeout=10)
        codes[user] = group_in(CODE, text_of(notice))
    dave = await emu.add_user("Dave")  # a neighbour who leads nothing
    await emu.add_member(group, dave)
    await say(world, dave, dave, "/start")
    mallory, _ = await set_up_group(world, owner_name="Mallory", title="Other compound")

    # Ann tells the leader her code in the group; the leader forwards it to the bot.
    await emu.send_message(ann, group, f"Hi Olga, I'm at the gate, my code is {codes[ann]}")
    said = last_id(world, group)
    # Others forwarding it change nothing: a neighbour gets the help, another group's
    # leader is told no order of his has that code.
    assert "Tap Join (or +/−) under a deal in the group." in await _forwarded(
        world, dave, group, said
    )
    async with world.deps.uow() as uow:
        order = await uow.orders.by_code(group, codes[ann])
    assert order is not None and order.picked_up_at is None
    await emu.add_member(group, mallory)
    refused = await _forwarded(world, mallory, group, said)
    assert f"No order has the code {codes[ann]}." in refused

    answer = await _answer_to_forward(world, olga, group, said)
    handed = text_of(answer)
    assert f"{codes[ann]} picked up: Ann, Lychees." in handed
    assert "• Lychee × 1 kg" in handed and "• Mango × 1 box" in handed
    assert "Collect CN¥75.50" in handed  # cash at pickup: what the leader takes
    # Partial pickup: the mangoes are not in yet; Ann takes the lychees now, the mango later.
    assert answer.button_labels() == ["⏳ Lychee later", "⏳ Mango later"]
    toast = await emu.press_button(olga, olga, answer.message_id, text="⏳ Mango later")
    assert (toast.text, toast.show_alert) == ("Mango is held back for later.", False)
    await emu.wait_until(
        lambda: "⏳ later" in (_message(world, olga, answer.message_id).text or "")
    )
    partly = _message(world, olga, answer.message_id)
    assert "• Mango × 1 box — ⏳ later" in (partly.text or "")
    assert "• Lychee × 1 kg\n" in (partly.text or "") + "\n"
    assert "Collect CN¥75.50" in (partly.text or "")  # the cash taken, still said
    assert partly.button_labels() == []  # the lychees must go now: nothing else to hold back
    # Holding back the last line too (a stale screen) is refused: that is no pickup.
    stale = await emu.press_raw(olga, olga, answer.message_id, answer.keyboard[0][0][1])
    assert stale.show_alert and stale.text is not None and "must go now" in stale.text
    # Later, the code again hands out the rest, once; the money was taken the first time.
    rest = await say(world, olga, olga, codes[ann])
    assert f"{codes[ann]}: the rest handed out to Ann, Lychees." in text_of(rest)
    assert "• Mango × 1 box" in text_of(rest) and "Lychee" not in text_of(rest).split(".", 1)[1]
    assert "Collect" not in text_of(rest)
    again = await _forwarded(world, olga, group, said)
    assert re.search(rf"{codes[ann]} was already picked up at .+, handed out by Olga\.", again)

    # Bob's code typed alone, as he reads it out: the same as /pickup.
    typed = await say(world, olga, olga, codes[bob].lower())
    assert f"{codes[bob]} picked up: Bob, Lychees." in text_of(typed)
    assert "Collect CN¥30.00" in text_of(typed) and "Mango" not in text_of(typed)

    # Dave typing a code to the bot is no handout: he gets the help.
    help_ = await say(world, dave, dave, codes[ann])
    assert "Tap Join (or +/−) under a deal in the group." in text_of(help_)
    async with world.deps.uow() as uow:
        picked = {o.code: o.picked_up_by for o in await uow.orders.for_deal(order.deal_id)}
    assert picked == {codes[ann]: olga, codes[bob]: olga}

    # A message with two codes: the leader is asked which.
    await emu.send_message(bob, group, f"Codes: {codes[ann]} and {codes[bob]}")
    which = await _forwarded(world, olga, group, last_id(world, group))
    assert f"several pickup codes: {codes[ann]}, {codes[bob]}" in which


async def test_no_shows_are_listed_and_reminded_at_most_once_an_hour(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    lychee, mango = post.keyboard[0][0][1], post.keyboard[1][0][1]
    names = {"Ann": "101", "Bob": "102", "Cy": "103"}
    users = {}
    for name, room in names.items():
        users[name] = await emu.add_user(name)
        await emu.add_member(group, users[name])
        await become_resident(world, users[name], group, post.message_id, lychee, room=room)
    ann, bob, cy = users.values()
    await emu.press_button(ann, group, post.message_id, data=mango)
    await close_now(world, olga, group, post.message_id)
    codes = {}
    for name, user in users.items():
        notice = await bot_says(world, user, 0, "Your order: Lychees", timeout=10)
        codes[name] = group_in(CODE, text_of(notice))
    # Cy has his; Ann took the lychees and left the mango for later; Bob never came.
    await say(world, olga, olga, codes["Cy"], "picked up")
    handed = await say(world, olga, olga, codes["Ann"], "picked up")
    await emu.press_button(olga, olga, handed.message_id, text="⏳ Mango later")

    refused = await answer_to(world, bob, group, "/noshows")
    assert "Only the group's admins" in text_of(refused)
    listed = await answered_privately(world, olga, group, "/noshows", "Still to pick up")
    text = text_of(listed)
    assert "2 orders are still waiting." in text
    assert f"⬜ {codes['Bob']} · 1-102 · Bob" in text
    assert f"⏳ {codes['Ann']} · 1-101 · Ann" in text
    assert codes["Cy"] not in text
    assert listed.button_labels() == ["🔔 Remind them all"]
    answer = await emu.press_button(olga, olga, listed.message_id, text="🔔 Remind them all")
    assert (answer.text, answer.show_alert) == ("Reminded 2 neighbours.", False)
    for user, what in ((ann, "Mango × 1"), (bob, "Lychee × 1")):
        reminder = await bot_says(world, user, 0, "Your order is waiting for you", timeout=10)
        assert what in text_of(reminder)
        assert "Pick them up at Gate 3, Sun 8:00-9:00." in text_of(reminder)
    again = await emu.press_button(olga, olga, listed.message_id, text="🔔 Remind them all")
    assert again.text == "Already reminded within the last hour."
    await asyncio.sleep(0.5)  # a duplicate would be out by now
    for user in (ann, bob):
        reminders = [m for m in emu.messages(user) if "is waiting for you" in (m.text or "")]
        assert len(reminders) == 1
    assert not any("is waiting for you" in (m.text or "") for m in emu.messages(cy))
