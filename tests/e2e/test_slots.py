"""Pickup slots through the runtime and the emulator: a leader cuts the pickup into slots after
the close, every buyer is asked to book one, two neighbours race for the last seat (one gets
it, the other is told the next slot with room), the leader sees the load, and each buyer is
reminded once before their slot. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.e2e.conftest import (
    World,
    answered_privately,
    bot_says,
    last_id,
    text_of,
    three_buyers_closed,
)

FIRST, SECOND = "08:00–08:30", "08:30–09:00"


async def _slot_start(world: World, deal_id: int) -> list[timedelta]:
    """How long until each of the deal's slots starts, by the bot's clock."""
    async with world.deps.uow() as uow:
        slots = await uow.slots.of_deal(deal_id)
    return [s.starts_at - world.clock.now() for s in slots]


async def test_buyers_book_slots_the_last_seat_once_and_are_reminded(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group, users, _ = await three_buyers_closed(world)
    before = {name: last_id(world, user) for name, user in users.items()}
    # Bad input: a reason, nothing set.
    wrong = await answered_privately(world, olga, group, "/slots Sun 9:00-8:00 | 30 | 1")
    assert "must end after it starts" in text_of(wrong)
    done = await answered_privately(world, olga, group, "/slots Sun 8:00-9:00 | 30 | 1")
    assert "Set. 3 buyers without a slot were asked to book one." in text_of(done)
    assert f"{FIRST} — 0 of 1 booked" in text_of(done)

    asked = {}
    for name, user in users.items():
        asked[name] = await bot_says(world, user, before[name], "Book your pickup slot")
        labels = asked[name].button_labels()
        assert any(FIRST in label and "1 left" in label for label in labels), labels
    ann, bob, cy = users["Ann"], users["Bob"], users["Cy"]

    def first_of(name: str) -> str:
        [data] = [d for row in asked[name].keyboard for label, d in row if FIRST in label]
        return data

    # Ann and Bob press the first slot's button at the same moment: one seat, one of them.
    answers = await asyncio.gather(
        emu.press_raw(ann, ann, asked["Ann"].message_id, first_of("Ann")),
        emu.press_raw(bob, bob, asked["Bob"].message_id, first_of("Bob")),
    )
    won = [a for a in answers if not a.show_alert]
    lost = [a for a in answers if a.show_alert]
    assert len(won) == 1 and len(lost) == 1, answers
    assert won[0].text is not None and FIRST in won[0].text
    assert lost[0].text is not None and "was just taken up" in lost[0].text
    assert "08:30" in lost[0].text.split("The next with room:")[1]
    winner, loser = (ann, bob) if answers[0] is won[0] else (bob, ann)

    # Cy takes the second; the loser then finds no room anywhere.
    second = next(d for row in asked["Cy"].keyboard for label, d in row if SECOND in label)
    taken = await emu.press_raw(cy, cy, asked["Cy"].message_id, second)
    assert not taken.show_alert and SECOND in (taken.text or "")
    loser_name = "Ann" if loser == ann else "Bob"
    again = await emu.press_raw(loser, loser, asked[loser_name].message_id, second)
    assert again.show_alert and "no other has room" in (again.text or "")

    # The leader sees the load.
    load = await answered_privately(world, olga, group, "/slots")
    assert f"{FIRST} — 1 of 1 booked · full" in text_of(load)
    assert f"{SECOND} — 1 of 1 booked · full" in text_of(load)
    assert "1 order has no slot yet." in text_of(load)
    async with world.deps.uow() as uow:
        slots = await uow.slots.of_deal(int(text_of(load).split("#")[1].split()[0]))
    assert [s.booked for s in slots] == [1, 1]

    # Half an hour before each slot, its buyer is reminded, once.
    marks = {who: last_id(world, who) for who in (winner, loser, cy)}
    first_start, second_start = await _slot_start(world, slots[0].deal_id)
    await world.advance(first_start - timedelta(minutes=29))
    reminder = await bot_says(world, winner, marks[winner], "Your pickup slot starts soon")
    assert FIRST in text_of(reminder)
    await world.advance(second_start - first_start)
    await bot_says(world, cy, marks[cy], "Your pickup slot starts soon")
    await world.advance(timedelta(minutes=5))
    await asyncio.sleep(0.5)
    for who in (winner, loser, cy):
        told = [
            m
            for m in emu.messages(who)
            if m.message_id > marks[who] and "starts soon" in (m.text or "")
        ]
        assert len(told) == (0 if who == loser else 1), (who, told)
