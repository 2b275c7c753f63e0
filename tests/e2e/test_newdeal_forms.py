"""Opening a deal as leaders type it: deadlines in the forms people use, echoed back as the
date and time understood, in English and Chinese; every mistake of a one-message deal at once,
with its line, to the leader alone; the dialog's preview showing the group's payment mode, and
its Edit step changing a field or an item before anything is posted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from groupbuy.model import DealStatus
from messages.formatting import when
from sandbox.views import SentMessage
from tests.e2e.conftest import (
    SKIP,
    World,
    bot_says,
    deal_id_of,
    last_id,
    say,
    set_up_group,
    start_payload,
    text_of,
)
from tests.e2e.test_live_card import pay_mode

SHANGHAI = ZoneInfo("Asia/Shanghai")
BODY = """Title: Oranges
Item: Orange box | box | 50 | 20 | 3
Deadline: {deadline}
Pickup: Gate 2
Window: Sat 9:00-10:00"""
BODY_ZH = """标题：橙子
商品：橙子 | 箱 | 50 | 20 | 3
截止：{deadline}
自提点：2号门
自提时间：周六 9:00-10:00"""


async def to_sunday_afternoon(world: World) -> datetime:
    """Both clocks to the next Sunday, 15:30:00 in Shanghai (the groups' timezone)."""
    now = world.clock.now().astimezone(SHANGHAI)
    day = now.date() + timedelta(days=(6 - now.weekday()) % 7 or 7)
    sunday = datetime(day.year, day.month, day.day, 15, 30, tzinfo=SHANGHAI)
    await world.advance(sunday - now)
    return sunday


async def closes(world: World, leader: int, group: int, body: str) -> str:
    """The deal typed in one message; the leader's private word that it is open."""
    after = last_id(world, leader)
    await world.emu.send_message(leader, group, f"/newdeal\n{body}")
    return text_of(await bot_says(world, leader, after, "#"))


async def test_deadlines_as_typed_are_echoed_in_both_languages(world: World) -> None:
    olga, group = await set_up_group(world)
    wei, zh_group = await set_up_group(
        world, owner_name="Wei", owner_language="zh-hans", title="阳光花园", name="阳光花园"
    )
    sunday = await to_sunday_afternoon(world)

    def at(days: int, hour: int, minute: int = 0) -> datetime:
        return sunday.replace(hour=hour, minute=minute) + timedelta(days=days)

    saturday = at(6, 20)
    forms = [
        ("Friday 20:00", at(5, 20)),
        ("fri 8pm", at(5, 20)),
        ("tomorrow 18:00", at(1, 18)),
        ("周五 20:00", at(5, 20)),
        ("明天下午6点", at(1, 18)),
        (f"{saturday.month}/{saturday.day} 20:00", saturday),
        ("in 2 hours", at(0, 17, 30)),
        ("2小时后", at(0, 17, 30)),
    ]
    for typed, meant in forms:
        said = await closes(world, olga, group, BODY.format(deadline=typed))
        echo = when(meant.astimezone(UTC), "Asia/Shanghai", "en")
        assert f"⏰ Ordering closes {echo}." in said, (typed, said)
        said = await closes(world, wei, zh_group, BODY_ZH.format(deadline=typed))
        echo = when(meant.astimezone(UTC), "Asia/Shanghai", "zh_Hans")
        assert f"⏰ 截单时间：{echo}。" in said, (typed, said)
    async with world.deps.uow() as uow:
        opened = await uow.deals.for_community(group, [DealStatus.OPEN], 50)
    deadlines = sorted(d.deadline.replace(second=0, microsecond=0) for d in opened)
    assert deadlines == sorted(meant.astimezone(UTC) for _, meant in forms)

    # A day without a time, and words that name no time: the reason and the forms that work.
    for typed in ("Friday", "周五", "when the boxes arrive"):
        after = last_id(world, olga)
        await world.emu.send_message(olga, group, "/newdeal\n" + BODY.format(deadline=typed))
        refused = text_of(await bot_says(world, olga, after))
        assert refused.startswith("⚠️ Line 3: I cannot read that time. Try 20:00, fri 8pm")
        assert "Nothing was posted" in refused


async def test_every_mistake_at_once_to_the_leader_alone(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    body = """Title: Oranges
Colour: orange
Item: Orange box | box | fifty | 20 | 3
Item: Lemon | bag
Deadline: someday
Minimum: lots
Pickup: Gate 2"""
    in_group, in_private = last_id(world, group), last_id(world, olga)
    await emu.send_message(olga, group, f"/newdeal\n{body}")
    told = text_of(await bot_says(world, olga, in_private))
    assert told == (
        "⚠️ 6 things to fix:\n"
        "• Line 2: This line is not in the deal format: start it with Title:, Item:, Deadline:"
        " and so on.\n"
        "• Line 3: That is not a price. Send a number such as 12.50.\n"
        "• Line 4: An item is name | unit | price | stock | limit.\n"
        "• Line 5: I cannot read that time. Try 20:00, fri 8pm, tomorrow 18:00, in 2 hours or"
        " 12/24 18:00, with a time of day.\n"
        "• Line 6: Send a number of neighbours (20) or of units (50 units).\n"
        "• Missing: Window.\n"
        "Nothing was posted. Check the format with /help."
    )
    await asyncio.sleep(0.3)
    assert last_id(world, group) == in_group + 1  # only the leader's own message

    # An admin who never opened the bot's private chat is answered where they wrote.
    await emu.make_admin(group, emu.state.bot.id)  # Telegram then tells the bot of new admins
    nina = await emu.add_user("Nina")
    await emu.add_member(group, nina)
    await emu.make_admin(group, nina)
    after = last_id(world, group)
    await emu.send_message(nina, group, "/newdeal\nTitle: Oranges")
    answer = await bot_says(world, group, after + 1)
    assert text_of(answer).startswith("⚠️ 4 things to fix:") and "Missing: Deadline." in (
        text_of(answer)
    )


async def test_the_preview_shows_the_mode_and_edit_changes_a_field_and_an_item(
    world: World,
) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    await pay_mode(world, olga, group, "💸 Transfer to the leader")
    cont = await say(world, olga, group, "/newdeal", "private chat")
    await say(world, olga, olga, f"/start {start_payload(cont.keyboard[0][0][1])}", "called")
    answers = ["Oranges", None, "Orange box", "box", "50", "20", None, "continue", "fri 8pm"]
    reply = await answer_dialog(world, olga, answers)
    # The deadline as understood, under the next question.
    assert "⏰ Ordering closes Fri " in text_of(reply) and ", 20:00." in text_of(reply)
    preview = await answer_dialog(
        world, olga, ["2", "Gate 2", "Sat 9:00-10:00", None, None, None, None]
    )
    assert "Pay the leader by transfer · 0 paid" in text_of(preview)  # not "cash at pickup"
    assert "Pay in cash" not in text_of(preview)

    # Edit: the title, then the item (typed again in full), each back to a fresh preview.
    after = last_id(world, olga)
    await emu.press_button(olga, olga, preview.message_id, text="✏️ Edit")
    menu = await bot_says(world, olga, after, "What do you want to change?")
    assert menu.button_labels()[:2] == ["Title", "Description"]
    assert menu.button_labels()[-1] == "✏️ Orange box"
    after = last_id(world, olga)
    await emu.press_button(olga, olga, menu.message_id, text="Title")
    await bot_says(world, olga, after, "called")
    preview = await say(world, olga, olga, "Blood oranges", "Preview")
    assert "Blood oranges" in text_of(preview) and "Orange box — CN¥50.00" in text_of(preview)
    after = last_id(world, olga)
    await emu.press_button(olga, olga, menu.message_id, text="✏️ Orange box")
    await bot_says(world, olga, after, "name?")
    for typed in ("Blood orange box", "box", "45", "30"):
        await say(world, olga, olga, typed)
    asked = next(m for m in reversed(emu.messages(olga)) if m.from_bot)
    after = last_id(world, olga)
    await emu.press_button(olga, olga, asked.message_id, data=SKIP)  # no limit now
    preview = await bot_says(world, olga, after, "Preview")
    assert "Blood orange box — CN¥45.00 / box · 30 of 30 left" in text_of(preview)
    assert "max 3 per person" not in text_of(preview)

    # A typed answer is not taken while the preview waits for a button.
    refused = await say(world, olga, olga, "Publish it")
    assert "Please use the buttons above." in text_of(refused)

    group_before = last_id(world, group)
    after = last_id(world, olga)
    await emu.press_button(olga, olga, preview.message_id, text="✅ Publish")
    done = await bot_says(world, olga, after, "is open in")
    post = await bot_says(world, group, group_before, "Blood oranges")
    assert f"#{deal_id_of(post)}" in text_of(done)
    assert "Blood orange box — CN¥45.00 / box · 30 of 30 left" in text_of(post)
    # The edit menu of a published deal is out of date.
    stale = await emu.press_button(olga, olga, menu.message_id, text="Title")
    assert stale.show_alert and stale.text == "This button is out of date."


async def answer_dialog(world: World, leader: int, answers: list[str | None]) -> SentMessage:
    """The private dialog's questions answered in turn (None: Skip, "continue": Continue);
    the bot's last reply."""
    emu = world.emu
    reply = None
    for answer in answers:
        asked = next(m for m in reversed(emu.messages(leader)) if m.from_bot)
        after = last_id(world, leader)
        if answer is None:
            await emu.press_button(leader, leader, asked.message_id, data=SKIP)
        elif answer == "continue":
            await emu.press_button(leader, leader, asked.message_id, text="Continue")
        else:
            await emu.send_message(leader, leader, answer)
        reply = await bot_says(world, leader, after)
    assert reply is not None
    return reply


async def test_the_dialog_asks_for_delivery_and_slots(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    cont = await say(world, olga, group, "/newdeal", "private chat")
    await say(world, olga, olga, f"/start {start_payload(cont.keyboard[0][0][1])}", "called")
    answers = ["Oranges", None, "Orange box", "box", "50", "20", None, "continue", "fri 8pm"]
    await answer_dialog(world, olga, [*answers, "2", "Gate 2"])
    asked = await say(world, olga, olga, "Sat 9:00-10:00", "Do you deliver")
    # Bad answers: the reason, and the same question waits.
    wrong = await say(world, olga, olga, "lots")
    assert "That is not a price" in text_of(wrong)
    asked = await say(world, olga, olga, "5 | free from 100", "Cut the pickup (Sat 9:00-10:00)")
    wrong = await say(world, olga, olga, "as people come")
    assert "Write the slots as window | minutes per slot | seats per slot" in text_of(wrong)
    asked = await say(world, olga, olga, "30 | 25", "Send a photo")
    after = last_id(world, olga)
    await emu.press_button(olga, olga, asked.message_id, data=SKIP)
    asked = await bot_says(world, olga, after, "Which buildings")
    after = last_id(world, olga)
    await emu.press_button(olga, olga, asked.message_id, data=SKIP)
    preview = await bot_says(world, olga, after, "Preview")
    assert "The leader delivers to your door for CN¥5.00, free from CN¥100.00." in text_of(preview)
    shown = "2 pickup slots of 30 minutes, 25 seats each, booked by the buyers: Sat "
    assert shown in text_of(preview) and ", 09:00–10:00" in text_of(preview)

    # Edit the slots: Skip takes them away, new ones come back, each to a fresh preview.
    async def edit_slots(answer: str | None) -> str:
        after = last_id(world, olga)
        await emu.press_button(olga, olga, preview.message_id, text="✏️ Edit")
        menu = await bot_says(world, olga, after, "What do you want to change?")
        assert "Delivery" in menu.button_labels() and "Slots" in menu.button_labels()
        after = last_id(world, olga)
        await emu.press_button(olga, olga, menu.message_id, text="Slots")
        asked = await bot_says(world, olga, after, "into slots")
        after = last_id(world, olga)
        if answer is None:
            await emu.press_button(olga, olga, asked.message_id, data=SKIP)
        else:
            await emu.send_message(olga, olga, answer)
        return text_of(await bot_says(world, olga, after, "Preview"))

    assert "pickup slots of" not in await edit_slots(None)
    shown = await edit_slots("20 | 10")
    assert "3 pickup slots of 20 minutes, 10 seats each" in shown, shown

    group_before = last_id(world, group)
    after = last_id(world, olga)
    await emu.press_button(olga, olga, preview.message_id, text="✅ Publish")
    await bot_says(world, olga, after, "is open in")
    post = await bot_says(world, group, group_before, "Oranges")
    assert "The leader delivers to your door for CN¥5.00, free from CN¥100.00." in text_of(post)
    async with world.deps.uow() as uow:
        deal = await uow.deals.get(deal_id_of(post))
        assert deal is not None
        slots = await uow.slots.of_deal(deal.id)
    assert (deal.delivery_fee, deal.delivery_free_from) == (500, 10000)
    assert [(s.ends_at - s.starts_at, s.capacity, s.booked) for s in slots] == [
        (timedelta(minutes=20), 10, 0)
    ] * 3
    local = slots[0].starts_at.astimezone(SHANGHAI)
    assert (local.weekday(), local.hour, local.minute) == (5, 9, 0)  # Saturday 9:00


async def test_one_message_slots_cut_the_window_or_say_why_not(world: World) -> None:
    olga, group = await set_up_group(world)
    body = BODY.format(deadline="fri 8pm")
    said = await closes(world, olga, group, body + "\n时段：30 | 5")
    deal_id = int(said.split("#")[1].split()[0].rstrip("."))
    async with world.deps.uow() as uow:
        slots = await uow.slots.of_deal(deal_id)
    assert [(s.ends_at - s.starts_at, s.capacity) for s in slots] == [
        (timedelta(minutes=30), 5)
    ] * 2
    # A window in words has nothing to cut: that line's reason, nothing posted.
    after = last_id(world, olga)
    wordy = body.replace("Sat 9:00-10:00", "weekend mornings") + "\nSlots: 30 | 5"
    await world.emu.send_message(olga, group, f"/newdeal\n{wordy}")
    refused = text_of(await bot_says(world, olga, after))
    assert "Line 6: The pickup window “weekend mornings” has no start and end time" in refused
    assert "Nothing was posted" in refused
