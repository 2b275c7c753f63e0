"""Delivery by the leader through the runtime and the emulator: a deal offering it, a buyer who
chooses it on their order card (the fee in their total, free from the deal's total), and the
leader's delivery list, a PDF of its own in walking order (building, unit, floor); the buyers the
leader delivers to are never asked to come (no slot, no reminder, no new place). Runs on SQLite
and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

from pypdf import PdfReader

from handlers.callbacks import Callback, Op
from sandbox.views import SentMessage
from tests.e2e.conftest import (
    World,
    answered_privately,
    become_resident,
    bot_says,
    close_now,
    deal_id_of,
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
Window: Sun 8:00-9:00
Delivery: 5 | free from 100"""


async def _card(world: World, user: int, message_id: int, text: str) -> SentMessage:
    def card() -> SentMessage:
        return next(m for m in world.emu.messages(user) if m.message_id == message_id)

    await world.emu.wait_until(lambda: text in (card().text or ""))
    return card()


async def test_buyers_choose_delivery_and_the_leader_gets_a_walking_list(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    assert "delivers to your door for CN¥5.00, free from CN¥100.00" in text_of(post)
    deal = deal_id_of(post)
    join = post.keyboard[0][0][1]
    cards = {}
    # Ann in building 3 room 1201, Bob in building 3 room 302, Cy in building 1: Ann and Bob
    # want delivery, Cy picks up.
    for name, building, room in (("Ann", "3A", "1201"), ("Bob", "3A", "302"), ("Cy", "1", "5")):
        user = await emu.add_user(name)
        await emu.add_member(group, user)
        card = await become_resident(
            world, user, group, post.message_id, join, building=building, room=room
        )
        cards[name] = (user, card)
    for name in ("Ann", "Bob"):
        user, card = cards[name]
        assert "🚚 Deliver to my door (+CN¥5.00)" in card.button_labels()
        await emu.press_button(user, user, card.message_id, text="🚚 Deliver to my door (+CN¥5.00)")
        shown = await _card(world, user, card.message_id, "Delivery to your door — CN¥5.00")
        assert "Total: CN¥35.00" in text_of(shown)
        assert "🏠 I will pick it up myself" in shown.button_labels()
    async with world.deps.uow() as uow:
        orders = {o.user_id: o for o in await uow.orders.for_deal(deal)}
    assert [orders[cards[n][0]].delivery for n in ("Ann", "Bob", "Cy")] == [True, True, False]

    await close_now(world, olga, group, post.message_id)
    ann = cards["Ann"][0]
    notice = await world.emu.wait_for_message(
        ann, lambda m: "Your order: Lychees" in (m.text or ""), 10
    )
    assert "The leader delivers it to your door" in text_of(notice)
    after = last_id(world, olga)
    await emu.send_message(olga, group, "/list")

    def documents() -> list[SentMessage]:
        return [m for m in emu.messages(olga) if m.message_id > after and m.document]

    await emu.wait_until(lambda: len(documents()) >= 3, timeout=15)
    pickup, delivery, table = documents()[:3]
    assert "1 order · 📍 Gate 3" in text_of(pickup)
    assert "2 orders · 📍 Delivery to the door" in text_of(delivery)
    text = "\n".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(emu.document_bytes(olga, delivery.message_id))).pages
    )
    assert "Cy" not in text and text.index("Bob") < text.index("Ann")  # floor 3 before 12
    assert table.document is not None and (table.document.file_name or "").endswith(".csv")


async def test_a_deal_with_two_pickup_points_and_delivery(any_world: World) -> None:
    """Cy collects at the office, Ann at the shop, Bob has it delivered: three PDFs, one per
    place and one for the round, and the arrival at a point tells none of the delivered."""
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    for point in ("Office | Building 1 lobby", "Shop 12 | 5 Gate Road"):
        await say(world, olga, group, f"/points {point}", "Pickup points")
    body = DEAL.replace("Pickup: Gate 3", "Pickup: Office / Shop 12")
    post = await publish_one_message(world, olga, group, body)
    join = post.keyboard[0][0][1]
    users = {}
    for name, room in (("Ann", "101"), ("Bob", "102"), ("Cy", "103")):
        user = await emu.add_user(name)
        await emu.add_member(group, user)
        card = await become_resident(world, user, group, post.message_id, join, room=room)
        users[name] = user
        if name == "Ann":
            await emu.press_button(user, user, card.message_id, text="📍 Shop 12")
        if name == "Bob":
            await emu.press_button(
                user, user, card.message_id, text="🚚 Deliver to my door (+CN¥5.00)"
            )
            await _card(world, user, card.message_id, "Delivery to your door — CN¥5.00")
    await close_now(world, olga, group, post.message_id)
    after = last_id(world, olga)
    await emu.send_message(olga, group, "/list")

    def documents() -> list[SentMessage]:
        return [m for m in emu.messages(olga) if m.message_id > after and m.document]

    await emu.wait_until(lambda: len(documents()) >= 4, timeout=15)
    office, shop, round_, _ = documents()[:4]
    assert "1 order · 📍 Office" in text_of(office)
    assert "1 order · 📍 Shop 12" in text_of(shop)
    assert "1 order · 📍 Delivery to the door" in text_of(round_)
    for message, name in ((office, "Cy"), (shop, "Ann"), (round_, "Bob")):
        pages = PdfReader(io.BytesIO(emu.document_bytes(olga, message.message_id))).pages
        text = "\n".join(page.extract_text() for page in pages)
        assert name in text and not {"Ann", "Bob", "Cy"} - {name} & set(text.split()), text


def _told(world: World, user: int, text: str) -> list[SentMessage]:
    return [m for m in world.emu.messages(user) if text in (m.text or "")]


async def test_buyers_the_leader_delivers_to_are_not_asked_to_come(any_world: World) -> None:
    """Ann books a slot, then has her order delivered: her seat is freed and she is never
    asked to come (no slot buttons, a forged one refused, no reminder, no new place); Cy,
    who picks up, is asked each time. /noshows marks Ann's order 🚚."""
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL + "\nSlots: 30 | 1")
    deal = deal_id_of(post)
    users, cards = {}, {}
    for name, room in (("Ann", "101"), ("Cy", "103")):
        user = await emu.add_user(name)
        await emu.add_member(group, user)
        cards[name] = await become_resident(
            world, user, group, post.message_id, post.keyboard[0][0][1], room=room
        )
        users[name] = user
    ann, cy = users["Ann"], users["Cy"]
    first = next(label for label in cards["Ann"].button_labels() if "08:00–08:30" in label)
    booked = await emu.press_button(ann, ann, cards["Ann"].message_id, text=first)
    assert not booked.show_alert and "08:00–08:30" in (booked.text or "")
    await emu.press_button(
        ann, ann, cards["Ann"].message_id, text="🚚 Deliver to my door (+CN¥5.00)"
    )
    card = await _card(world, ann, cards["Ann"].message_id, "Delivery to your door")
    assert not any("08:00" in label for label in card.button_labels()), card.button_labels()
    async with world.deps.uow() as uow:
        slots = await uow.slots.of_deal(deal)
        orders = {o.user_id: o for o in await uow.orders.for_deal(deal)}
    assert [s.booked for s in slots] == [0, 0] and orders[ann].slot is None
    forged = Callback(Op.BOOK_SLOT, deal, slots[0].id).pack()
    refused = await emu.press_raw(ann, ann, cards["Ann"].message_id, forged)
    assert refused.show_alert and "no pickup slot is needed" in (refused.text or "")

    await close_now(world, olga, group, post.message_id)
    await emu.wait_for_message(cy, lambda m: "Your order: Lychees" in (m.text or ""), 10)
    listed = await answered_privately(world, olga, group, "/noshows", "Still to pick up")
    assert f"🚚 <code>{orders[ann].code}</code>" in (listed.html or ""), listed.html
    assert "yours to deliver: not reminded to come" in text_of(listed)
    reminded = await emu.press_button(olga, olga, listed.message_id, text="🔔 Remind them all")
    assert reminded.text == "Reminded 1 neighbour."
    await emu.wait_until(
        lambda: bool(_told(world, cy, "Your order is waiting for you")), timeout=10
    )
    await say(world, olga, olga, f"/pickupplace #{deal} Building 3 lobby", "moved")
    await bot_says(world, cy, 0, "Place: Gate 3 → Building 3 lobby", timeout=10)
    await world.advance(timedelta(minutes=5))
    await asyncio.sleep(0.5)  # anything for Ann would be out by now
    assert not _told(world, ann, "Your order is waiting for you") and not _told(
        world, ann, "Your pickup has moved"
    )
    assert not _told(world, ann, "Book your pickup slot")
