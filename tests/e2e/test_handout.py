"""Verified pickup (核销) at the table: the leader hands an order out by its code typed alone in
private, or by forwarding the resident's message with the code in it; the answer shows the
order and what to collect; a second try says when and by whom; nobody else's words do anything."""

from __future__ import annotations

import asyncio
import io
import re

import zxingcpp
from PIL import Image

from sandbox.views import SentMessage
from tests.e2e.conftest import (
    HANDOUT_DEAL,
    PICKUP_CODE,
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
    three_buyers_closed,
)

DEAL = HANDOUT_DEAL
CODE = PICKUP_CODE


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
    olga, group, users, codes = await three_buyers_closed(world)
    ann, bob, cy = users.values()
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
    assert listed.button_labels() == [
        "🔔 Remind them all",
        f"⋯ {codes['Ann']} · Ann",
        f"⋯ {codes['Bob']} · Bob",
    ]
    answer = await emu.press_button(olga, olga, listed.message_id, text="🔔 Remind them all")
    assert (answer.text, answer.show_alert) == ("Reminded 2 neighbours.", False)
    for user, what in ((ann, "Mango × 1"), (bob, "Lychee × 1")):
        reminder = await bot_says(world, user, 0, "Your order is waiting for you", timeout=10)
        assert what in text_of(reminder)
        assert "Pick them up at Gate 3, Sun 8:00-9:00." in text_of(reminder)
    # Ann has her lychees: she is reminded of the mango alone.
    ann_reminder = await bot_says(world, ann, 0, "Your order is waiting for you")
    assert "Lychee ×" not in text_of(ann_reminder)
    again = await emu.press_button(olga, olga, listed.message_id, text="🔔 Remind them all")
    assert again.text == "Already reminded within the last hour."
    await asyncio.sleep(0.5)  # a duplicate would be out by now
    for user in (ann, bob):
        reminders = [m for m in emu.messages(user) if "is waiting for you" in (m.text or "")]
        assert len(reminders) == 1
    assert not any("is waiting for you" in (m.text or "") for m in emu.messages(cy))


async def test_no_shows_are_kept_refunded_or_given_up_order_by_order(world: World) -> None:
    """After the window: Bob (nothing paid) is kept for the next pickup and hears its new time;
    Ann took her lychees and paid cash for all, so her mango is refunded; Cy (nothing paid)
    never comes and his goods go to the leader's spare. (Strangers: tests/e2e/test_hostile.py.)"""
    emu = world.emu
    olga, group, users, codes = await three_buyers_closed(world)
    ann, bob, cy = users.values()
    handed = await say(world, olga, olga, codes["Ann"], "picked up")
    assert "Collect CN¥75.50" in text_of(handed)
    await emu.press_button(olga, olga, handed.message_id, text="⏳ Mango later")
    listed = await answered_privately(world, olga, group, "/noshows", "Still to pick up")
    assert "3 orders are still waiting." in text_of(listed)

    # Bob: kept for the next pickup, then told its new time with everyone still waiting.
    await emu.press_button(olga, olga, listed.message_id, text=f"⋯ {codes['Bob']} · Bob")
    menu = await bot_says(world, olga, listed.message_id, f"Not picked up: {codes['Bob']}")
    assert "Nothing paid yet." in text_of(menu)
    assert "building 1, room 102\n• Lychee × 1\n" in text_of(menu)
    assert menu.button_labels() == ["✖ Not collected", "➡️ Keep for next pickup"]
    kept = await emu.press_button(olga, olga, menu.message_id, text="➡️ Keep for next pickup")
    assert kept.text == "Recorded."
    await _edited(world, olga, menu.message_id, f"{codes['Bob']} is kept for the next pickup.")
    told = await bot_says(world, bob, 0, "Your order is kept for you", timeout=10)
    assert "keeps it for the next pickup" in text_of(told)
    await answered_privately(world, olga, group, "/pickuptime Sat 10:00-11:00", "moved")
    moved = await bot_says(world, bob, told.message_id, "Sat 10:00-11:00", timeout=10)
    assert codes["Bob"] in text_of(moved)
    # Kept once: the button is not offered again, and a stale one is refused.
    again = await emu.press_raw(olga, olga, menu.message_id, menu_data(menu, 1))
    assert again.show_alert and "already kept for the next pickup" in (again.text or "")

    # Ann: paid in full at the table, the mango never collected: it is refunded.
    await emu.press_button(olga, olga, listed.message_id, text=f"⋯ {codes['Ann']} · Ann")
    menu = await bot_says(world, olga, listed.message_id, f"Not picked up: {codes['Ann']}")
    assert "Handed out in part" in text_of(menu) and "Paid: CN¥75.50" in text_of(menu)
    assert menu.button_labels() == ["↩️ Refund CN¥75.50", "➡️ Keep for next pickup"]
    await emu.press_button(olga, olga, menu.message_id, text="↩️ Refund CN¥75.50")
    done = await _edited(world, olga, menu.message_id, "is refunded")
    assert f"{codes['Ann']} is refunded." in done and "Mango × 1" in done
    assert "Send CN¥45.50 back to the buyer" in done
    refund = await bot_says(world, ann, 0, "A refund of CN¥45.50", timeout=10)
    assert "Nobody came for the goods" in text_of(refund)

    # Cy: nothing paid, never came: not collected, the lychee is the leader's spare.
    await emu.press_button(olga, olga, listed.message_id, text=f"⋯ {codes['Cy']} · Cy")
    menu = await bot_says(world, olga, listed.message_id, f"Not picked up: {codes['Cy']}")
    data = menu_data(menu, 0)
    await emu.press_button(olga, olga, menu.message_id, text="✖ Not collected")
    done = await _edited(world, olga, menu.message_id, "not collected.")
    assert f"{codes['Cy']} is marked not collected." in done
    assert "Spare with you (not collected): Lychee × 1, Mango × 1" in done
    gone = await bot_says(world, cy, 0, "Your order was not collected", timeout=10)
    assert "Nothing is owed." in text_of(gone)
    # A second press: what was decided, and nothing twice.
    twice = await emu.press_raw(olga, olga, menu.message_id, data)
    assert "already marked not collected" in (twice.text or "")

    relisted = await answered_privately(world, olga, group, "/noshows", "Still to pick up")
    text = text_of(relisted)
    assert "1 order is still waiting." in text and f"➡️ {codes['Bob']}" in text
    assert "Spare with you (not collected): Lychee × 1, Mango × 1" in text
    await asyncio.sleep(0.5)  # a duplicate would be out by now
    for user, said in ((cy, "Your order was not collected"), (ann, "A refund of")):
        assert len([m for m in emu.messages(user) if said in (m.text or "")]) == 1


async def _edited(world: World, chat: int, message_id: int, says: str) -> str:
    """The message's text once an edit has put `says` in it."""
    await world.emu.wait_until(lambda: says in text_of(_message(world, chat, message_id)))
    return text_of(_message(world, chat, message_id))


def menu_data(message: SentMessage, row: int) -> str:
    data = message.keyboard[row][0][1]
    assert data is not None
    return data


async def test_the_pickup_pass_qr_is_scanned_at_the_table_and_a_forged_one_refused(
    world: World,
) -> None:
    """The pickup notice is a photo of the order's pass; the leader's scanner reads it and the
    text handed to the bot hands the order out. A pass changed in any way, or another group's,
    changes nothing."""
    emu = world.emu
    olga, group, users, codes = await three_buyers_closed(world)
    notice = await bot_says(world, users["Bob"], 0, "Your order: Lychees")
    assert notice.photo is not None  # the notice is the pass's caption: one message
    assert f"Pickup code: {codes['Bob']}" in text_of(notice)
    image = Image.open(io.BytesIO(emu.photo_bytes(users["Bob"], notice.message_id)))
    [scanned] = [found.text for found in zxingcpp.read_barcodes(image)]
    assert scanned.startswith(f"GB1.{group}.{codes['Bob']}.")

    # Made up: another order's code, or the community changed, under Bob's signature.
    head, signature = scanned.rsplit(".", 1)
    forged = [
        scanned.replace(codes["Bob"], codes["Cy"]),
        scanned.replace(str(group), str(group - 1)),
        f"{head}.{signature[::-1]}",
    ]
    for text in forged:
        refused = await say(world, olga, olga, text)
        assert "not one I made" in text_of(refused), text
    # Another group's leader, with a real pass of this group: not theirs to hand out.
    pat, _ = await set_up_group(world, owner_name="Pat", title="Other Court", name="Other")
    elsewhere = await say(world, pat, pat, scanned)
    assert "an order of another group" in text_of(elsewhere)
    # Bob sends his own pass: he leads nothing, so it is just words (the help), not a pickup.
    await say(world, users["Bob"], users["Bob"], scanned)
    relisted = await answered_privately(world, olga, group, "/noshows", "Still to pick up")
    assert "3 orders are still waiting." in text_of(relisted)

    handed = await say(world, olga, olga, scanned, "picked up")
    assert f"{codes['Bob']}" in text_of(handed) and "Lychee × 1" in text_of(handed)
    again = await say(world, olga, olga, f"/pickup {scanned}")
    assert "already picked up" in text_of(again)
