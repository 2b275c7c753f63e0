"""Anonymous admins are leaders too; a handler that fails still answers, politely."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from handlers import router
from handlers.events import Incoming
from tests.e2e.conftest import (
    World,
    become_resident,
    bot_says,
    close_now,
    last_id,
    publish_one_message,
    say,
    set_up_group,
    start_payload,
    text_of,
)

DEAL = """Title: Apples
Item: Apple | kg | 8 | 30 | 3
Deadline: tomorrow 20:00
Pickup: Gate 1
Window: Sat 9:00-10:00"""


async def test_anonymous_admin_opens_a_deal_lists_and_hands_out(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    hidden = await emu.add_user("Hao")
    await emu.add_member(group, hidden)
    await emu.make_admin(group, hidden, anonymous=True)
    await world.advance(timedelta(seconds=20))  # the bot's cached admin list is rechecked
    stranger = await emu.add_user("Sam")
    await emu.add_member(group, stranger)

    # /newdeal posted as the group: the bot asks which admin it is, with a button.
    after = last_id(world, group)
    await emu.send_message(hidden, group, "/newdeal", as_anonymous_admin=True)
    ask = await bot_says(world, group, after, "which admin")
    refused = await emu.press_button(stranger, group, ask.message_id, text=ask.keyboard[0][0][0])
    assert refused.show_alert and refused.text == "Only the group's admins (leaders) can do that."
    revealed = await emu.press_button(hidden, group, ask.message_id, text=ask.keyboard[0][0][0])
    assert revealed.url is not None and start_payload(revealed.url) == f"deal_{-group}"

    # A deal (from the owner), one buyer, closed at the deadline.
    post = await publish_one_message(world, olga, group, DEAL)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    await world.advance(timedelta(days=2))
    notice = await bot_says(world, ann, 0, "Pickup code:", timeout=10)
    code = text_of(notice).rsplit(":", 1)[1].strip()

    # /pickup as the group: an anonymous admin is an admin of this group, which is enough.
    after = last_id(world, group)
    await emu.send_message(hidden, group, f"/pickup {code}", as_anonymous_admin=True)
    await bot_says(world, group, after, f"{code} picked up")

    # /list as the group: the list goes to a person, so again the bot asks who.
    after = last_id(world, group)
    await emu.send_message(hidden, group, "/list", as_anonymous_admin=True)
    ask = await bot_says(world, group, after, "which admin")
    await emu.send_message(hidden, hidden, "/start")  # Hao has a private chat with the bot
    await bot_says(world, hidden, 0)
    answer = await emu.press_button(hidden, group, ask.message_id, text=ask.keyboard[0][0][0])
    assert answer.text == "Sent to you in private chat."
    document = await emu.wait_for_message(hidden, lambda m: m.document is not None)
    assert document.document is not None
    assert document.document.file_name is not None
    assert document.document.file_name.endswith(".pdf")


async def test_a_failing_handler_still_answers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)

    async def broken(deps: object, event: Incoming) -> list[object]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(router, "handle", broken)
    answer = await emu.press_button(olga, group, post.message_id, text="Close now")
    assert answer.show_alert
    assert answer.text == "Sorry, something went wrong on our side. Please try again in a moment."
    after = last_id(world, olga)
    await emu.send_message(olga, olga, "/help")
    reply = await bot_says(world, olga, after)
    assert text_of(reply).startswith("Sorry, something went wrong")
    monkeypatch.undo()
    # The bot carries on: the same button works once the bug is gone.
    answer = await close_now(world, olga, group, post.message_id)
    assert answer.text == "Deal closed."
    await asyncio.sleep(0)


async def test_a_promoted_admin_leads_at_once_when_the_bot_is_an_admin(world: World) -> None:
    """Telegram tells an admin bot about promotions (chat_member): no waiting for the cache."""
    emu = world.emu
    _, group = await set_up_group(world)
    await emu.make_admin(group, emu.state.bot.id)  # the group made the bot an admin
    sam = await emu.add_user("Sam")
    await emu.add_member(group, sam)
    refused = await say(world, sam, group, "/newdeal", "Only the group's admins")
    assert refused.keyboard == []
    await emu.make_admin(group, sam)
    # The chat_member update is queued before Sam's next message, and its handler forgets the
    # cached admin list at once, so the message finds Sam among the admins (no clock moved).
    reply = await say(world, sam, group, "/newdeal")
    assert "Let's prepare the deal in private chat." in text_of(reply)
