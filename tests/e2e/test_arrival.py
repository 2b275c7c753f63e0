"""The goods are here (到货通知): the leader's "Goods arrived" under the closed post asks first,
then tells each buyer still to pick up, once, with their code and what to bring."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from sandbox.views import SentMessage
from tests.e2e.conftest import (
    World,
    answer_to,
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
Deadline: tomorrow 20:00
Pickup: Gate 3
Window: Sun 8:00-9:00"""
CODE = re.compile(r"Pickup code: (\w+)")
LEADERS_ONLY = "Only the group's admins (leaders) can do that."


def _message(world: World, chat: int, message_id: int) -> SentMessage:
    return next(m for m in world.emu.messages(chat) if m.message_id == message_id)


def _told(world: World, chat: int, text: str) -> list[SentMessage]:
    return [m for m in world.emu.messages(chat) if m.from_bot and text in (m.text or "")]


async def test_goods_arrived_tells_each_buyer_still_to_pick_up_once(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    join = post.keyboard[0][0][1]
    buyers = {}
    for n, name in enumerate(("Ann", "Bob", "Carol")):
        user = await emu.add_user(name)
        await emu.add_member(group, user)
        await become_resident(world, user, group, post.message_id, join, room=f"10{n}")
        buyers[name] = user
    ann, bob, carol = buyers.values()
    answer = await close_now(world, olga, group, post.message_id)
    assert answer.text == "Deal closed."
    codes = {}
    for name, user in buyers.items():
        notice = await bot_says(world, user, 0, "Your order: Lychees", timeout=10)
        codes[name] = group_in(CODE, text_of(notice))
    await emu.wait_until(
        lambda: "🚚 Goods arrived" in _message(world, group, post.message_id).button_labels(),
        timeout=10,
    )
    # Carol came early: handed out before the goods were announced, she is not told.
    await say(world, olga, olga, f"/pickup {codes['Carol']}", "picked up")

    # Only a leader may say it.
    refused = await emu.press_button(ann, group, post.message_id, text="🚚 Goods arrived")
    assert (refused.text, refused.show_alert) == (LEADERS_ONLY, True)
    # It asks first; "Not yet" tells nobody.
    after = last_id(world, group)
    asked = await emu.press_button(olga, group, post.message_id, text="🚚 Goods arrived")
    assert asked.text is None and not asked.show_alert
    question = await bot_says(world, group, after, "Tell the 2 buyers of “Lychees”")
    assert question.button_labels() == ["Yes, tell them", "Not yet"]
    await emu.press_button(olga, group, question.message_id, text="Not yet")
    await emu.wait_until(
        lambda: "Nobody was told" in (_message(world, group, question.message_id).text or "")
    )
    assert not _told(world, ann, "Your goods are here")

    after = last_id(world, group)
    await emu.press_button(olga, group, post.message_id, text="🚚 Goods arrived")
    question = await bot_says(world, group, after, "Tell the 2 buyers")
    refused = await emu.press_button(bob, group, question.message_id, text="Yes, tell them")
    assert (refused.text, refused.show_alert) == (LEADERS_ONLY, True)
    answer = await emu.press_button(olga, group, question.message_id, text="Yes, tell them")
    assert (answer.text, answer.show_alert) == ("Buyers are being told.", False)
    await emu.wait_until(
        lambda: (
            "2 buyers are being told" in (_message(world, group, question.message_id).text or "")
        )
    )
    for name in ("Ann", "Bob"):
        notice = await bot_says(world, buyers[name], 0, "Your goods are here: Lychees", timeout=10)
        text = text_of(notice)
        assert f"Pickup code: {codes[name]}" in text
        assert "Lychee × 1" in text
        assert "Pick them up at Gate 3, Sun 8:00-9:00." in text
        assert "To pay in cash at pickup: CN¥30.00" in text  # what to bring
    await bot_says(world, group, after, "The goods are here: Lychees", timeout=10)

    # Said once: a second press, on the post or on the old question, says when and by whom.
    again = await emu.press_button(olga, group, post.message_id, text="🚚 Goods arrived")
    assert again.show_alert and again.text is not None
    assert again.text.startswith("Buyers were told the goods are here at ")
    assert again.text.endswith("(Olga).")
    yes = question.keyboard[0][0][1]  # the question's button, pressed again on a stale screen
    stale = await emu.press_raw(olga, group, question.message_id, yes)
    assert stale.show_alert and stale.text == again.text
    await world.advance(timedelta(minutes=5))
    await asyncio.sleep(0.5)  # a duplicate would be out by now
    assert len(_told(world, ann, "Your goods are here")) == 1
    assert len(_told(world, bob, "Your goods are here")) == 1
    assert _told(world, carol, "Your goods are here") == []
    assert len(_told(world, group, "The goods are here")) == 1


async def test_moving_the_pickup_after_the_close_tells_each_buyer_once(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    join = post.keyboard[0][0][1]
    ann = await emu.add_user("Ann")
    bob = await emu.add_user("Bob")
    for n, user in enumerate((ann, bob)):
        await emu.add_member(group, user)
        await become_resident(world, user, group, post.message_id, join, room=f"20{n}")
    await close_now(world, olga, group, post.message_id)
    code = group_in(CODE, text_of(await bot_says(world, ann, 0, "Your order", timeout=10)))
    await bot_says(world, bob, 0, "Your order", timeout=10)

    # A neighbour may not; a time already past is refused and changes nothing.
    refused = await answer_to(world, bob, group, "/pickuptime tomorrow 18:00-19:00")
    assert LEADERS_ONLY in text_of(refused)
    past = await say(world, olga, olga, f"/pickuptime #{_deal_id(post)} 2020-01-01 10:00-11:00")
    assert "That time is already past" in text_of(past)
    usage = await say(world, olga, olga, "/pickuptime tomorrow 18:00")  # which deal?
    assert "/pickuptime #12 Sat 18:00-19:00" in text_of(usage)

    # In the group: its newest closed deal; the leader is answered in private.
    after_group = last_id(world, group)
    await emu.send_message(olga, group, "/pickuptime tomorrow 18:00-19:00")
    done = await bot_says(world, olga, past.message_id, "pickup moved", timeout=10)
    assert "2 buyers still to pick up are being told" in text_of(done)
    for user in (ann, bob):
        moved = await bot_says(world, user, 0, "Your pickup has moved: Lychees", timeout=10)
        assert "Time: Sun 8:00-9:00 → tomorrow 18:00-19:00" in text_of(moved)
        assert "Place:" not in text_of(moved)  # the place did not change
    assert f"Pickup code: {code}" in text_of(_told(world, ann, "Your pickup has moved")[0])
    await bot_says(world, group, after_group, "Pickup moved: Lychees", timeout=10)
    await emu.wait_until(
        lambda: "tomorrow 18:00-19:00" in (_message(world, group, post.message_id).text or ""),
        timeout=10,
    )

    # Ann picks up; the place then moves: only Bob is told, once.
    await say(world, olga, olga, code, "picked up")
    await say(world, olga, olga, f"/pickupplace #{_deal_id(post)} Building 3 lobby", "moved")
    moved = await bot_says(world, bob, 0, "Place: Gate 3 → Building 3 lobby", timeout=10)
    assert "Time:" not in text_of(moved)
    await world.advance(timedelta(minutes=5))
    await asyncio.sleep(0.5)  # a duplicate would be out by now
    assert len(_told(world, ann, "Your pickup has moved")) == 1
    assert len(_told(world, bob, "Your pickup has moved")) == 2
    assert len(_told(world, group, "Pickup moved")) == 2


def _deal_id(post: SentMessage) -> int:
    return int(post.keyboard[0][0][1].split(":")[1])
