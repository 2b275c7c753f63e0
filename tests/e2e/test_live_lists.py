"""The leader's pickup checklist ticks as orders are handed out, by its ✓ button or by
`/pickup CODE`, and says by whom and when; the leader's /payments view follows a confirmation.
Read as the leader sees them, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

from sandbox.views import SentMessage
from tests.e2e.conftest import (
    World,
    answered_privately,
    become_resident,
    bot_says,
    last_id,
    publish_one_message,
    set_up_group,
    text_of,
)
from tests.e2e.test_live_card import card_says, labels, pay_mode, shown

DEAL = """Title: Oranges
Item: Orange box | box | 50 | 20 | 3
Deadline: tomorrow 20:00
Pickup: Gate 2
Window: Sat 9:00-10:00"""


def line_of(message: SentMessage, code: str) -> str:
    return next(line for line in (message.text or "").splitlines() if code in line)


async def test_the_checklist_ticks_by_button_and_by_command(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    join = post.keyboard[0][0][1]
    ann, bob = await emu.add_user("Ann"), await emu.add_user("Bob")
    for who in (ann, bob):
        await emu.add_member(group, who)
    await become_resident(world, ann, group, post.message_id, join)
    await become_resident(world, bob, group, post.message_id, join, room="102")
    await world.advance(timedelta(days=2))
    await bot_says(world, group, post.message_id, "Pickup notice: Oranges", timeout=10)

    after = last_id(world, olga)
    await emu.send_message(olga, group, "/list")
    checklist = await bot_says(world, olga, after, "⬜")
    codes = re.findall(r"⬜ ([A-Z0-9]{4,8})", text_of(checklist))
    assert len(codes) == 2, text_of(checklist)
    first, second = codes

    # ✓ under the list: that line shows handed out, by whom; its button goes.
    answer = await emu.press_button(olga, olga, checklist.message_id, text=f"✓ {first}")
    assert answer.text is not None and first in answer.text
    ticked = await card_says(world, olga, checklist.message_id, f"✅ {first}")
    assert "Olga" in line_of(ticked, first) and "⬜" in line_of(ticked, second)
    assert f"✓ {first}" not in labels(world, olga, checklist.message_id)
    assert f"✓ {second}" in labels(world, olga, checklist.message_id)

    # /pickup CODE in the group ticks the same list.
    await answered_privately(world, olga, group, f"/pickup {second}")
    done = await card_says(world, olga, checklist.message_id, f"✅ {second}")
    assert "⬜" not in (done.text or "")
    assert labels(world, olga, checklist.message_id) == []


async def test_the_payments_view_follows_a_confirmation(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    await pay_mode(world, olga, group, "💸 Transfer to the leader")
    post = await publish_one_message(world, olga, group, DEAL)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    card = await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    await emu.wait_until(lambda: "💸 I have paid" in labels(world, ann, card.message_id))
    await emu.press_button(ann, ann, card.message_id, text="💸 I have paid")
    await card_says(world, ann, card.message_id, "Waiting for the leader to confirm")

    after = last_id(world, olga)
    await emu.send_message(olga, group, "/payments")
    summary = await bot_says(world, olga, after, "Payments: Oranges")
    assert "Awaiting your confirmation: 1, CN¥50.00" in text_of(summary)
    claims = await bot_says(world, olga, summary.message_id, "To confirm")
    await emu.press_button(olga, olga, claims.message_id, text=claims.keyboard[0][0][0])
    now = await card_says(world, olga, summary.message_id, "Awaiting your confirmation: 0")
    assert "Paid: 1 order, CN¥50.00" in (now.text or "")
    assert shown(world, olga, summary.message_id).deleted is False
