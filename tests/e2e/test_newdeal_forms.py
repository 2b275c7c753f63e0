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
    answers += ["2", "Gate 2", "Sat 9:00-10:00", None, None]
    for answer in answers:
        asked = next(m for m in reversed(emu.messages(olga)) if m.from_bot)
        after = last_id(world, olga)
        if answer is None:
            await emu.press_button(olga, olga, asked.message_id, data=SKIP)
        elif answer == "continue":
            await emu.press_button(olga, olga, asked.message_id, text="Continue")
        else:
            await emu.send_message(olga, olga, answer)
        reply = await bot_says(world, olga, after)
        if answer == "fri 8pm":  # the deadline as understood, under the next question
            assert "⏰ Ordering closes Fri " in text_of(reply) and ", 20:00." in text_of(reply)
    preview = reply
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
