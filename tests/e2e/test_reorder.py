"""One-tap reorder (一键复购) through the runtime and the emulator: 'Order again' under a pickup
notice, with nothing open, offers to tell the buyer; the next deal with the same item (its name
written another way) tells them once, and one tap orders the same quantity there, twice pressed
or not. An item sold out is refused with the reason. /myorders carries the button too. Runs on
SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from groupbuy.model import DealStatus
from sandbox.views import SentMessage
from tests.e2e.conftest import (
    World,
    bot_says,
    close_now,
    deal_id_of,
    last_id,
    publish_one_message,
    say,
    set_up_group,
    text_of,
)
from tests.e2e.test_tiers import _buyers


def _deal(title: str, item: str, stock: int = 30) -> str:
    return f"""Title: {title}
Item: {item} | bottle | 5 | {stock} | 6
Item: Bread | loaf | 8 | 20
Deadline: tomorrow 20:00
Pickup: Gate 2
Window: Sat 9:00-10:00"""


async def _bought_and_closed(world: World) -> tuple[int, int, int, int, SentMessage]:
    """Ann buys two bottles of milk; the deal closes; her pickup notice."""
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, _deal("Milk week 1", "Milk 1L"))
    ann, card = (await _buyers(world, group, post, "Ann"))["Ann"]
    await world.emu.press_button(ann, ann, card.message_id, text="+1 Milk 1L")
    after = last_id(world, ann)
    await close_now(world, olga, group, post.message_id)
    notice = await bot_says(world, ann, after, "Pickup code", timeout=10)
    return olga, group, ann, deal_id_of(post), notice


async def _quantity(world: World, deal: int, user: int) -> dict[str, int]:
    async with world.deps.uow() as uow:
        found = await uow.deals.get(deal)
        order = await uow.orders.of_user(deal, user)
    assert found is not None
    return {i.name: order.quantity(i.id) for i in found.items} if order else {}


async def test_told_when_open_again_then_one_tap(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group, ann, first, notice = await _bought_and_closed(world)
    assert "🔁 Order again" in notice.button_labels()

    # Nothing open yet: she asks to be told.
    after = last_id(world, ann)
    await emu.press_button(ann, ann, notice.message_id, text="🔁 Order again")
    none = await bot_says(world, ann, after, "No deal open in your group", timeout=10)
    await emu.press_button(ann, ann, none.message_id, text="🔔 Tell me when it opens")
    await emu.wait_until(
        lambda: "I will tell you when" in text_of(_now(world, ann, none)), timeout=10
    )

    # The leader opens next week's milk, the name written another way: she is told, once.
    after = last_id(world, ann)
    post = await publish_one_message(world, olga, group, _deal("Milk week 2", "milk  1l"))
    second = deal_id_of(post)
    told = await bot_says(world, ann, after, "What you bought before is open again", timeout=10)
    assert "Milk week 2" in text_of(told)
    after = last_id(world, ann)
    await emu.press_button(ann, ann, told.message_id, text="🔁 Order again")
    done = await bot_says(world, ann, after, "Ordered again in Milk week 2", timeout=10)
    assert "milk 1l × 2" in text_of(done) and "Bread" not in text_of(done)
    assert await _quantity(world, second, ann) == {"milk 1l": 2, "Bread": 0}
    # Pressed again (or the pickup notice's button): still two, not four.
    await emu.press_button(ann, ann, notice.message_id, text="🔁 Order again")
    await emu.press_button(ann, ann, told.message_id, text="🔁 Order again")
    await bot_says(world, ann, done.message_id, "Ordered again in Milk week 2", timeout=10)
    assert await _quantity(world, second, ann) == {"milk 1l": 2, "Bread": 0}
    # The wish was used up: nobody waits any more, so a third deal with milk tells nobody.
    async with world.deps.uow() as uow:
        assert await uow.orders.watchers(group) == []
        first_deal = await uow.deals.get(first)
    assert first_deal is not None and first_deal.status is DealStatus.CLOSED


async def test_a_sold_out_item_is_refused_with_the_reason(world: World) -> None:
    emu = world.emu
    olga, group, ann, _, notice = await _bought_and_closed(world)
    post = await publish_one_message(world, olga, group, _deal("Milk week 2", "Milk 1L", 1))
    after = last_id(world, ann)
    await emu.press_button(ann, ann, notice.message_id, text="🔁 Order again")
    done = await bot_says(world, ann, after, "Ordered again in Milk week 2", timeout=10)
    assert "Milk 1L:" in text_of(done) and "Nothing was ordered." in text_of(done)
    assert await _quantity(world, deal_id_of(post), ann) == {}


async def test_my_orders_carries_order_again(world: World) -> None:
    emu = world.emu
    olga, group, ann, first, _ = await _bought_and_closed(world)
    listed = await say(world, ann, ann, "/myorders")
    assert "🔁 Again: Milk week 1" in listed.button_labels()
    post = await publish_one_message(world, olga, group, _deal("Milk week 2", "Milk 1L"))
    after = last_id(world, ann)
    await emu.press_button(ann, ann, listed.message_id, text="🔁 Again: Milk week 1")
    await bot_says(world, ann, after, "Ordered again in Milk week 2", timeout=10)
    assert await _quantity(world, deal_id_of(post), ann) == {"Milk 1L": 2, "Bread": 0}
    # Someone who never bought there has nothing to order again.
    bob = await emu.add_user("Bob")
    await emu.add_member(group, bob)
    hello = await say(world, bob, bob, "/start")
    refused = await emu.press_raw(bob, bob, hello.message_id, f"e:{first}:0")
    # (Refused as a stranger, or, once the group says he is a member, as having bought nothing.)
    assert refused.show_alert and refused.text in (
        "There is nothing in that order to order again.",
        f"Deal #{first} is not open to you: only members of its group can use it. If you are"
        " one, press its button in the group.",
    )


def _now(world: World, chat: int, message: SentMessage) -> SentMessage:
    return next(m for m in world.emu.messages(chat) if m.message_id == message.message_id)
