"""`/newdeal` followed by the whole deal in one message: published at once, or a clear error."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

import pytest

from groupbuy.model import Deal, DealStatus, MinimumKind
from tests.e2e.conftest import (
    SKIP,
    World,
    become_resident,
    bot_says,
    deal_id_of,
    last_id,
    press_for_reply,
    publish_one_message,
    say,
    set_up_group,
    start_payload,
    text_of,
)

NOTHING_POSTED = "Nothing was posted. Check the format with /help."

ENGLISH = """Title: Fresh milk
Description: Bright Farm, 1 L bottles, delivered Saturday morning
Item: Milk 1L | bottle | 12.50 | 100 | 4
Item: Yogurt | cup | 5 | 50
Deadline: tomorrow 20:00
Minimum: 20 people
Pickup: Property office, gate 2
Window: Sat 9:00-11:00
Buildings: 1, 2"""

CHINESE = """标题：新鲜牛奶
描述：光明牧场，周六上午送达
商品：牛奶 | 瓶 | 12.5 | 100 | 4
商品：酸奶｜杯｜5｜50
截止：明天 20:00
成团：30件
自提点：物业办公室
自提时间：周六 9:00-11:00
楼栋：1，3A"""


async def _open_deals(world: World, group: int) -> list[Deal]:
    async with world.deps.uow() as uow:
        return await uow.deals.for_community(group, [DealStatus.OPEN], 50)


async def test_one_message_publishes_directly(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    private_before = last_id(world, olga)
    post = await publish_one_message(world, olga, group, ENGLISH)
    assert text_of(post).startswith("🛒 Fresh milk")
    assert "Bright Farm, 1 L bottles, delivered Saturday morning" in text_of(post)
    assert "Milk 1L — CN¥12.50 / bottle · 100 of 100 left · max 4 per person" in text_of(post)
    assert "Yogurt — CN¥5.00 / cup · 50 of 50 left" in text_of(post)
    assert "Yogurt — CN¥5.00 / cup · 50 of 50 left · max" not in text_of(post)
    assert "0 neighbours joined · Forms at 20 neighbours (0 so far)" in text_of(post)
    assert "Pickup: Property office, gate 2, Sat 9:00-11:00" in text_of(post)
    assert "For buildings: 1, 2" in text_of(post)
    assert post.button_labels() == [
        "+1 Milk 1L",
        "−1",
        "+1 Yogurt",
        "−1",
        "🧾 My order",
        "Close now",
        "Cancel deal",
    ]
    # No dialog: one private word that it is open, with its number, deadline and link.
    done = await bot_says(world, olga, private_before)
    deal_id = deal_id_of(post)
    assert text_of(done).startswith(f"✅ “Fresh milk” is open in Sunny Garden. · #{deal_id}")
    assert "⏰ Ordering closes " in text_of(done)
    assert f"?start=o_{deal_id}" in text_of(done)
    assert f"/list {deal_id} · /payments {deal_id}" in text_of(done)
    await asyncio.sleep(0.3)
    assert last_id(world, olga) == done.message_id
    async with world.deps.uow() as uow:
        assert await uow.dialogs.get(olga) is None

    [deal] = await _open_deals(world, group)
    assert deal.id == deal_id_of(post)
    assert deal.title == "Fresh milk"
    assert (deal.minimum_kind, deal.minimum) == (MinimumKind.PARTICIPANTS, 20)
    assert deal.buildings == ("1", "2")
    assert [(i.name, i.unit, i.price, i.stock, i.limit) for i in deal.items] == [
        ("Milk 1L", "bottle", 1250, 100, 4),
        ("Yogurt", "cup", 500, 50, None),
    ]

    # The deal is only for buildings 1 and 2: a neighbour of 3A is told so after their profile.
    zoe = await emu.add_user("Zoe")
    await emu.add_member(group, zoe)
    answer = await emu.press_button(zoe, group, post.message_id, text="+1 Milk 1L")
    assert answer.url is not None
    await become_resident_expecting_error(world, zoe, answer.url, building="3A")
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    order = await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    assert "Milk 1L × 1 — CN¥12.50" in text_of(order)


async def become_resident_expecting_error(world: World, user: int, url: str, building: str) -> None:
    """Fill the profile from a Join link; the join itself must be refused for the building."""
    emu = world.emu
    ask = await say(world, user, user, f"/start {start_payload(url)}")
    _, unit_q = await press_for_reply(world, user, user, ask.message_id, building)
    after = last_id(world, user)
    await emu.press_button(user, user, unit_q.message_id, data=SKIP)
    await bot_says(world, user, after)
    phone_q = await say(world, user, user, "707")
    after = last_id(world, user)
    await emu.press_button(user, user, phone_q.message_id, data=SKIP)
    error = await bot_says(world, user, after, "⚠️")
    assert "This deal is only for buildings 1, 2." in text_of(error)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (ENGLISH.replace("Title: Fresh milk\n", ""), "Missing: Title."),
        (ENGLISH.replace("Window: Sat 9:00-11:00\n", ""), "Missing: Window."),
        (
            "\n".join(line for line in ENGLISH.splitlines() if not line.startswith("Item")),
            "Missing: Item.",
        ),
        (
            ENGLISH.replace("Item: Yogurt | cup | 5 | 50", "Item: Yogurt | cup | 5"),
            "Line 4: An item is name | unit | price | stock | limit.",
        ),
        (
            ENGLISH.replace("Item: Yogurt | cup | 5 | 50", "Item: Yogurt | cup | five | 50"),
            "Line 4: That is not a price. Send a number such as 12.50.",
        ),
        (
            ENGLISH.replace("Title: Fresh milk", "Colour: white"),
            "2 things to fix:\n• Line 1: This line is not in the deal format: start it with"
            " Title:, Item:, Deadline: and so on.\n• Missing: Title.",
        ),
        (
            ENGLISH.replace("tomorrow 20:00", "2020-01-01 20:00"),
            "Line 5: That time has already passed.",
        ),
        (
            ENGLISH.replace("tomorrow 20:00", "whenever"),
            "Line 5: I cannot read that time. Try 20:00, fri 8pm, tomorrow 18:00, in 2 hours or"
            " 12/24 18:00, with a time of day.",
        ),
        (
            ENGLISH.replace("Minimum: 20 people", "Minimum: lots"),
            "Line 6: Send a number of neighbours (20) or of units (50 units).",
        ),
        (
            ENGLISH.replace("Buildings: 1, 2", "Buildings: 1, 9"),
            "Line 9: There is no building 9 here. Buildings: 1, 2, 3A.",
        ),
    ],
    ids=[
        "no-title",
        "no-window",
        "no-item",
        "short-item",
        "bad-price",
        "unknown-line",
        "past-deadline",
        "bad-deadline",
        "bad-minimum",
        "unknown-building",
    ],
)
async def test_malformed_deal_is_explained_and_nothing_posted(
    world: World, body: str, message: str
) -> None:
    olga, group = await set_up_group(world)
    in_group, in_private = last_id(world, group), last_id(world, olga)
    await world.emu.send_message(olga, group, f"/newdeal\n{body}")
    reply = await bot_says(world, olga, in_private)  # to the leader: not the group's business
    assert reply.text == f"⚠️ {message}\n{NOTHING_POSTED}"
    assert reply.keyboard == []
    await asyncio.sleep(0.3)
    assert last_id(world, group) == in_group + 1  # the leader's message, and nothing after it
    assert await _open_deals(world, group) == []


async def test_only_leaders_may_publish(world: World) -> None:
    emu = world.emu
    _olga, group = await set_up_group(world)
    dave = await emu.add_user("Dave")
    await emu.add_member(group, dave)
    reply = await publish_one_message(world, dave, group, ENGLISH)
    assert "Only the group's admins (leaders) can do that." in text_of(reply)
    assert await _open_deals(world, group) == []


async def test_chinese_keys(world: World) -> None:
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, CHINESE)
    assert "新鲜牛奶" in text_of(post)
    assert "光明牧场，周六上午送达" in text_of(post)
    [deal] = await _open_deals(world, group)
    assert deal.title == "新鲜牛奶"
    assert deal.description == "光明牧场，周六上午送达"
    assert [(i.name, i.unit, i.price, i.stock, i.limit) for i in deal.items] == [
        ("牛奶", "瓶", 1250, 100, 4),
        ("酸奶", "杯", 500, 50, None),
    ]
    assert (deal.minimum_kind, deal.minimum) == (MinimumKind.QUANTITY, 30)
    assert deal.pickup_place == "物业办公室"
    assert deal.pickup_window == "周六 9:00-11:00"
    assert deal.buildings == ("1", "3A")
    # 明天 20:00 in the community's timezone (Asia/Shanghai, the default kept at setup).
    local = deal.deadline.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.hour, local.minute) == (20, 0)
    now_local = world.clock.now().astimezone(local.tzinfo)
    assert (local.date() - now_local.date()).days == 1
