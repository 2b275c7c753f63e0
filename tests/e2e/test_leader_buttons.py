"""The leader's buttons on a deal post: Close now, Cancel deal (confirm / Back), and My order."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from groupbuy.model import CloseReason, DealStatus
from sandbox.views import SentMessage
from tests.e2e.conftest import (
    World,
    become_resident,
    bot_says,
    deal_id_of,
    last_id,
    publish_one_message,
    set_up_group,
    text_of,
)

DEAL = """Title: Lychees
Item: Lychee | kg | 30 | 40 | 5
Deadline: tomorrow 20:00
Pickup: Gate 3
Window: Sun 8:00-9:00"""


def _post(world: World, group: int, message_id: int) -> SentMessage:
    return next(m for m in world.emu.messages(group) if m.message_id == message_id)


async def test_close_now_asks_first_then_closes(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    join = post.keyboard[0][0][1]
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    order = await become_resident(world, ann, group, post.message_id, join)

    # 'My order' in the group: sent privately to a resident who has started the bot.
    ann_before = last_id(world, ann)
    answer = await emu.press_button(ann, group, post.message_id, text="🧾 My order")
    assert (answer.text, answer.show_alert) == ("Sent to you in private chat.", False)
    mine = await bot_says(world, ann, ann_before, "🧾")
    assert "Lychee × 1 — CN¥30.00" in text_of(mine)

    # Close now asks first: Back leaves the deal open.
    group_before = last_id(world, group)
    answer = await emu.press_button(olga, group, post.message_id, text="Close now")
    assert answer.text is None
    question = await bot_says(world, group, group_before, "Close “Lychees” now?")
    assert "every buyer gets a pickup code" in text_of(question)
    assert question.button_labels() == ["Yes, close it now", "Back"]
    await emu.press_button(olga, group, question.message_id, text="Back")
    await emu.wait_until(
        lambda: "stays open" in (_post(world, group, question.message_id).text or "")
    )
    async with world.deps.uow() as uow:
        still = await uow.deals.get(deal_id_of(post))
    assert still is not None and still.status is DealStatus.OPEN

    # A neighbour cannot say yes for the leader.
    group_before = last_id(world, group)
    await emu.press_button(olga, group, post.message_id, text="Close now")
    question = await bot_says(world, group, group_before, "Close “Lychees” now?")
    refused = await emu.press_button(ann, group, question.message_id, text="Yes, close it now")
    assert refused.show_alert and refused.text == "Only the group's admins (leaders) can do that."

    answer = await emu.press_button(olga, group, question.message_id, text="Yes, close it now")
    assert (answer.text, answer.show_alert) == ("Deal closed.", False)
    await emu.wait_until(
        lambda: "is closed" in (_post(world, group, question.message_id).text or "")
    )
    await bot_says(world, group, group_before, "Pickup notice: Lychees", timeout=10)
    notice = await bot_says(world, ann, order.message_id, "Your order: Lychees", timeout=10)
    assert "Total: CN¥30.00" in text_of(notice) and "Pickup code:" in text_of(notice)
    assert "To pay in cash at pickup: CN¥30.00" in text_of(notice)  # what to bring
    await emu.wait_until(
        lambda: (_post(world, group, post.message_id).text or "").startswith("✅ CLOSED"),
        timeout=10,
    )
    async with world.deps.uow() as uow:
        deal = await uow.deals.get(deal_id_of(post))
    assert deal is not None and deal.status is DealStatus.CLOSED
    assert deal.close_reason is CloseReason.LEADER
    # Pressing again (a stale copy of the button) is refused, and the deadline closes nothing.
    answer = await emu.press_raw(olga, group, post.message_id, post.keyboard[2][0][1])
    assert answer.show_alert and answer.text == "This deal is no longer open."
    await world.advance(timedelta(days=2))
    await asyncio.sleep(0.5)
    assert sum("Pickup notice" in (m.text or "") for m in emu.messages(group)) == 1
    assert sum("Your order" in (m.text or "") for m in emu.messages(ann)) == 1


async def test_cancel_deal_asks_first(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    join = post.keyboard[0][0][1]
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    order = await become_resident(world, ann, group, post.message_id, join)
    # Let the post show Ann's join first (see test_confirmation_survives_a_join for the race).
    await emu.wait_until(
        lambda: "1 neighbour joined" in (_post(world, group, post.message_id).text or ""),
        timeout=10,
    )

    answer = await emu.press_button(olga, group, post.message_id, text="Cancel deal")
    assert not answer.show_alert
    question = await bot_says(world, group, post.message_id, "Everyone who joined will be told")
    assert question.button_labels() == ["Yes, cancel the deal", "Back"]
    # A neighbour cannot confirm it.
    answer = await emu.press_button(ann, group, question.message_id, text="Yes, cancel the deal")
    assert (answer.text, answer.show_alert) == (
        "Only the group's admins (leaders) can do that.",
        True,
    )
    await emu.press_button(olga, group, question.message_id, text="Back")
    await emu.wait_until(
        lambda: (_post(world, group, question.message_id).text or "").endswith("stays open.")
    )
    assert _post(world, group, question.message_id).keyboard == []
    assert "Close now" in _post(world, group, post.message_id).button_labels()
    await emu.press_button(olga, group, post.message_id, text="Cancel deal")
    question = await bot_says(world, group, question.message_id, "Everyone who joined")
    group_before = last_id(world, group)
    answer = await emu.press_button(olga, group, question.message_id, text="Yes, cancel the deal")
    assert (answer.text, answer.show_alert) == ("Deal cancelled.", False)
    await emu.wait_until(
        lambda: (_post(world, group, question.message_id).text or "").endswith("is cancelled.")
    )
    told = await bot_says(world, group, group_before, "The leader cancelled Lychees.", timeout=10)
    assert told.keyboard == []
    notice = await bot_says(world, ann, order.message_id, "so your order is cancelled", timeout=10)
    assert "Nothing is owed." in text_of(notice)
    await emu.wait_until(
        lambda: (_post(world, group, post.message_id).text or "").startswith("🚫 CANCELLED"),
        timeout=10,
    )
    assert _post(world, group, post.message_id).keyboard == []
    async with world.deps.uow() as uow:
        deal = await uow.deals.get(deal_id_of(post))
    assert deal is not None and deal.status is DealStatus.CANCELLED


async def test_confirmation_survives_a_join(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    order = await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    await emu.wait_until(
        lambda: "39 of 40 left" in (_post(world, group, post.message_id).text or ""), timeout=10
    )
    await emu.press_button(olga, group, post.message_id, text="Cancel deal")
    question = await bot_says(world, group, post.message_id, "Everyone who joined will be told")
    # Meanwhile Ann adds one from her private order message: the post's counters change.
    answer = await emu.press_button(ann, ann, order.message_id, text="+1 Lychee")
    assert answer.text == "Lychee × 2 · total CN¥60.00"
    await emu.wait_until(
        lambda: "38 of 40 left" in (_post(world, group, post.message_id).text or ""), timeout=10
    )
    # The pending question keeps its buttons, and still works.
    assert _post(world, group, question.message_id).button_labels() == [
        "Yes, cancel the deal",
        "Back",
    ]
    answer = await emu.press_button(olga, group, question.message_id, text="Yes, cancel the deal")
    assert (answer.text, answer.show_alert) == ("Deal cancelled.", False)
