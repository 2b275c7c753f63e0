"""A deal whose minimum is not reached by the deadline: it does not go ahead; all are told."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from groupbuy.model import DealStatus
from tests.e2e.conftest import (
    World,
    answered_privately,
    become_resident,
    bot_says,
    deal_id_of,
    last_id,
    publish_one_message,
    set_up_group,
    text_of,
)

FAILED_NOTICE = "did not reach its minimum, so your order is cancelled.\nNothing is owed."


def _deal(minimum: str) -> str:
    return (
        "Title: Durian party\n"
        "Item: Durian | box | 88 | 20 | 2\n"
        "Deadline: tomorrow 20:00\n"
        f"Minimum: {minimum}\n"
        "Pickup: Gate 1\n"
        "Window: Sun 10:00-12:00"
    )


def _text(world: World, chat: int, message_id: int) -> str:
    return next(m.text or "" for m in world.emu.messages(chat) if m.message_id == message_id)


async def test_minimum_of_neighbours_not_reached(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, _deal("3 people"))
    assert "Forms at 3 neighbours (0 so far)" in text_of(post)
    deal_id = deal_id_of(post)
    join = post.keyboard[0][0][1]

    ann = await emu.add_user("Ann")
    bob = await emu.add_user("Bob")
    cid = await emu.add_user("Cid")  # joins, then cancels: not a participant any more
    for user in (ann, bob, cid):
        await emu.add_member(group, user)
    ann_order = await become_resident(world, ann, group, post.message_id, join, building="1")
    bob_order = await become_resident(world, bob, group, post.message_id, join, building="2")
    cid_order = await become_resident(world, cid, group, post.message_id, join, building="3A")
    answer = await emu.press_button(bob, group, post.message_id, data=join)
    assert answer.text == "Durian × 2 · total CN¥176.00"
    answer = await emu.press_button(cid, cid, cid_order.message_id, text="Cancel my order")
    assert answer.text == "Your order is cancelled."
    await emu.wait_until(
        lambda: "Forms at 3 neighbours (2 so far)" in _text(world, group, post.message_id),
        timeout=10,
    )

    group_before = last_id(world, group)
    await world.advance(timedelta(days=2))
    told = await bot_says(world, group, group_before, "did not reach its minimum", timeout=10)
    assert (
        "Durian party did not reach its minimum and will not go ahead. "
        "Everyone who joined has been told." in text_of(told)
    )
    await emu.wait_until(
        lambda: _text(world, group, post.message_id).startswith("❌ DID NOT FORM"), timeout=10
    )
    failed_post = next(m for m in emu.messages(group) if m.message_id == post.message_id)
    assert "The minimum was not reached, so this deal did not go ahead." in text_of(failed_post)
    assert failed_post.keyboard == []  # nothing left to press

    for user, order in ((ann, ann_order), (bob, bob_order)):
        notice = await bot_says(world, user, order.message_id, FAILED_NOTICE, timeout=10)
        assert "Durian party" in text_of(notice)
        assert "Pickup code" not in text_of(notice)
    await asyncio.sleep(0.5)  # room for a duplicate or a wrong notice to arrive
    for user in (ann, bob):
        texts = [m.text or "" for m in emu.messages(user)]
        assert sum(FAILED_NOTICE in t for t in texts) == 1
        assert not any("Pickup code" in t for t in texts)
    assert not any(FAILED_NOTICE in (m.text or "") for m in emu.messages(cid))
    assert not any("Pickup notice" in (m.text or "") for m in emu.messages(group))

    async with world.deps.uow() as uow:
        deal = await uow.deals.get(deal_id)
    assert deal is not None and deal.status is DealStatus.FAILED

    # Nothing to join, and nothing to list.
    answer = await emu.press_raw(ann, group, post.message_id, join)
    assert answer.show_alert and answer.text == "This deal is no longer open."
    reply = await answered_privately(world, olga, group, "/list")
    assert "There is no closed deal to list yet." in text_of(reply)


async def test_minimum_of_units_not_reached_then_reached(world: World) -> None:
    """'10 units' counts units, not people: 3 units fail; a second deal with 2 units forms."""
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, _deal("10 units"))
    assert "Forms at 10 units (0 so far)" in text_of(post)
    join = post.keyboard[0][0][1]
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    ann_order = await become_resident(world, ann, group, post.message_id, join)
    await emu.press_button(ann, group, post.message_id, data=join)

    group_before = last_id(world, group)
    await world.advance(timedelta(days=2))
    await bot_says(world, group, group_before, "did not reach its minimum", timeout=10)
    await bot_says(world, ann, ann_order.message_id, FAILED_NOTICE, timeout=10)

    post2 = await publish_one_message(world, olga, group, _deal("2 units"))
    join2 = post2.keyboard[0][0][1]
    answer = await emu.press_button(ann, group, post2.message_id, data=join2)
    assert answer.text == "Durian × 1 · total CN¥88.00"
    answer = await emu.press_button(ann, group, post2.message_id, data=join2)
    assert answer.text == "Durian × 2 · total CN¥176.00"
    group_before = last_id(world, group)
    ann_before = last_id(world, ann)
    await world.advance(timedelta(days=2))
    await bot_says(world, group, group_before, "Pickup notice: Durian party", timeout=10)
    pickup = await bot_says(world, ann, ann_before, "Pickup code", timeout=10)
    assert "Total: CN¥176.00" in text_of(pickup)
