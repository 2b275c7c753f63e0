"""A resident's order card in private stays true to the order: changed from the group, paid,
confirmed, closed, failed; and a newer card replaces the older one. Read as the resident sees
it, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from sandbox.views import SentMessage
from storage.tables import LiveMessageRow as L
from tests.e2e.conftest import (
    World,
    become_resident,
    bot_says,
    last_id,
    publish_one_message,
    say,
    set_up_group,
    text_of,
)

DEAL = """Title: Oranges
Item: Orange box | box | 50 | 20 | 3
Deadline: tomorrow 20:00
Minimum: 2 people
Pickup: Gate 2
Window: Sat 9:00-10:00"""


def shown(world: World, chat: int, message_id: int) -> SentMessage:
    return next(
        m for m in world.emu.messages(chat, include_deleted=True) if m.message_id == message_id
    )


def labels(world: World, chat: int, message_id: int) -> list[str]:
    return shown(world, chat, message_id).button_labels()


async def card_says(world: World, chat: int, message_id: int, *words: str) -> SentMessage:
    """Wait until the card shows every one of `words`; the card then."""

    def current() -> bool:
        text = shown(world, chat, message_id).text or ""
        return all(word in text for word in words)

    try:
        await world.emu.wait_until(current, timeout=10)
    except TimeoutError:
        raise AssertionError(f"{words} not in {shown(world, chat, message_id).text!r}") from None
    return shown(world, chat, message_id)


async def settled(world: World, chat: int, message_id: int) -> None:
    """Until the card is recorded and shows what it should (the refresher has caught up): a
    change made after this is seen only if it marks the card stale, not by a redraw already
    due."""
    for _ in range(200):
        async with world.deps.uow() as uow:
            kept = await uow.live.stale(100)
            recorded = await uow._session.scalar(  # type: ignore[attr-defined]
                select(L.id).where(L.chat_id == chat, L.message_id == message_id)
            )
        if recorded is not None and not kept:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the card was not recorded, or is still stale")


async def pay_mode(world: World, leader: int, group: int, label: str) -> None:
    choose = await say(world, leader, group, "/paymode", "How do neighbours pay")
    await world.emu.press_button(leader, group, choose.message_id, text=label)
    await world.emu.wait_until(lambda: shown(world, group, choose.message_id).keyboard == [])


async def test_the_card_follows_the_group_a_payment_and_the_close(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    await pay_mode(world, olga, group, "💸 Transfer to the leader")
    post = await publish_one_message(world, olga, group, DEAL)
    join = post.keyboard[0][0][1]
    ann, bob = await emu.add_user("Ann"), await emu.add_user("Bob")
    for who in (ann, bob):
        await emu.add_member(group, who)
    card = await become_resident(world, ann, group, post.message_id, join)
    await become_resident(world, bob, group, post.message_id, join)
    assert "Orange box × 1 — CN¥50.00" in text_of(card)

    # +1 pressed on the group's post: the private card says so, without a new message.
    await settled(world, ann, card.message_id)
    before = last_id(world, ann)
    await emu.press_button(ann, group, post.message_id, text="🛒 Join +1")
    await card_says(world, ann, card.message_id, "Orange box × 2 — CN¥100.00", "CN¥100.00.")
    assert last_id(world, ann) == before

    # "I have paid", then the leader confirms it from /payments.
    await emu.wait_until(
        lambda: "💸 I have paid" in shown(world, ann, card.message_id).button_labels()
    )
    await emu.press_button(ann, ann, card.message_id, text="💸 I have paid")
    await card_says(world, ann, card.message_id, "Waiting for the leader to confirm")
    await settled(world, ann, card.message_id)
    after = last_id(world, olga)
    await emu.send_message(olga, group, "/payments")
    summary = await bot_says(world, olga, after, "Payments: Oranges")
    claims = await bot_says(world, olga, summary.message_id, "To confirm")
    await emu.press_button(olga, olga, claims.message_id, text=claims.keyboard[0][0][0])
    paid = await card_says(world, ann, card.message_id, "Paid: CN¥100.00")
    assert "💸 I have paid" not in paid.button_labels()

    # The deadline passes: the card shows the pickup code and no buttons to change it.
    await settled(world, ann, card.message_id)
    await world.advance(timedelta(days=2))
    closed = await card_says(world, ann, card.message_id, "Pickup code:")
    assert closed.keyboard == []


async def test_a_failed_deal_shows_on_the_card(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    card = await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    assert "+1 Orange box" in shown(world, ann, card.message_id).button_labels()
    await settled(world, ann, card.message_id)
    await world.advance(timedelta(days=2))  # one neighbour of the two needed
    gone = await card_says(world, ann, card.message_id, "This deal is no longer open.")
    assert gone.keyboard == []


async def test_a_newer_card_replaces_the_older_one(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    first = await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    after = last_id(world, ann)
    await emu.press_button(ann, group, post.message_id, text="🧾 My order")
    second = await bot_says(world, ann, after, "🧾")
    await emu.wait_until(lambda: shown(world, ann, first.message_id).deleted)
    # The card kept current is the newer one.
    await settled(world, ann, second.message_id)
    await emu.press_button(ann, group, post.message_id, text="🛒 Join +1")
    await card_says(world, ann, second.message_id, "Orange box × 2")
    assert [m.message_id for m in emu.messages(ann) if "🧾" in (m.text or "")] == [
        second.message_id
    ]
