"""Tiered prices (阶梯价) through the runtime and the emulator: the post shows how many more units
reach the next tier and every unit's price falls for everyone when it is reached (and rises again
when neighbours leave); the close fixes it, and whoever paid the leader at a dearer tier is owed
the difference, one message each. A mode that takes the money at joining refuses tiers. Runs on
SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from groupbuy.model import DealStatus, RefundReason, RefundStatus
from sandbox.views import SentMessage
from tests.e2e.conftest import (
    World,
    become_resident,
    bot_says,
    close_now,
    deal_id_of,
    last_id,
    publish_one_message,
    record_shortfall,
    say,
    set_up_group,
    start_payload,
    text_of,
)
from tests.e2e.test_live_card import pay_mode
from tests.e2e.test_newdeal_forms import answer_dialog

DEAL = """Title: Milk
Item: Milk | bottle | 10; 8 from 3; 6 from 5 | 10 | 4
Deadline: tomorrow 20:00
Pickup: Gate 2
Window: Sat 9:00-10:00"""


def _post(world: World, group: int, message_id: int) -> str:
    return next(m for m in world.emu.messages(group) if m.message_id == message_id).text or ""


async def _shows(world: World, group: int, post: SentMessage, *texts: str) -> None:
    await world.emu.wait_until(
        lambda: all(t in _post(world, group, post.message_id) for t in texts), timeout=10
    )


async def _buyers(
    world: World, group: int, post: SentMessage, *names: str
) -> dict[str, tuple[int, SentMessage]]:
    """Each joins with one unit (their first press), through the profile; their order card."""
    found = {}
    for n, name in enumerate(names):
        user = await world.emu.add_user(name)
        await world.emu.add_member(group, user)
        card = await become_resident(
            world, user, group, post.message_id, post.keyboard[0][0][1], room=str(101 + n)
        )
        found[name] = (user, card)
    return found


async def test_the_price_follows_the_tier_and_the_close_fixes_it(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    assert "Milk — CN¥10.00 / bottle" in text_of(post)
    assert "📉 3 more: CN¥8.00 each" in text_of(post)
    deal = deal_id_of(post)
    buyers = await _buyers(world, group, post, "Ann", "Bob")
    await _shows(world, group, post, "📉 1 more: CN¥8.00 each")
    ann, ann_card = buyers["Ann"]
    # Ann's second bottle reaches the tier: every bottle costs 8 now, hers and Bob's.
    answer = await emu.press_button(ann, ann, ann_card.message_id, text="+1 Milk")
    assert answer.text == "Milk × 2 · total CN¥16.00"
    await _shows(world, group, post, "Milk — CN¥8.00 / bottle", "📉 2 more: CN¥6.00 each")
    cy = await _buyers(world, group, post, "Cy")
    cy_id, cy_card = cy["Cy"]
    answer = await emu.press_button(cy_id, cy_id, cy_card.message_id, text="+1 Milk")
    assert answer.text == "Milk × 2 · total CN¥12.00"  # five bottles: the lowest tier
    await _shows(world, group, post, "Milk — CN¥6.00 / bottle", "📉 lowest tier price")
    # Cy changes her mind: four bottles, and back to 8 for everyone.
    answer = await emu.press_button(cy_id, cy_id, cy_card.message_id, text="−1")
    assert answer.text == "Milk × 1 · total CN¥8.00"
    await _shows(world, group, post, "Milk — CN¥8.00 / bottle", "📉 1 more: CN¥6.00 each")

    await close_now(world, olga, group, post.message_id)
    await _shows(world, group, post, "CLOSED", "Milk — CN¥8.00 / bottle")
    assert "📉" not in _post(world, group, post.message_id)  # the price is fixed
    async with world.deps.uow() as uow:
        closed = await uow.deals.get(deal)
        orders = await uow.orders.for_deal(deal)
        refunds = await uow.payments.refunds_for_deal(deal)
    assert closed is not None
    assert sorted(o.amount(closed) for o in orders) == [800, 800, 1600]
    assert refunds == []  # nobody paid before the close: nothing to give back

    # The truck brings two bottles fewer: the last orders lose theirs, and the price the close
    # fixed stays (fewer units delivered do not make Ann's dearer).
    await record_shortfall(world, olga, group, "Milk 2")
    async with world.deps.uow() as uow:
        cut = await uow.deals.get(deal)
        orders = await uow.orders.for_deal(deal)
    assert cut is not None and cut.items[0].sold == 2 and cut.items[0].unit_price == 800
    assert [o.amount(cut) for o in orders if o.active] == [1600]


async def test_paid_at_a_dearer_tier_the_difference_is_owed_back(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    await pay_mode(world, olga, group, "💸 Transfer to the leader")
    post = await publish_one_message(world, olga, group, DEAL)
    deal = deal_id_of(post)
    buyers = await _buyers(world, group, post, "Ann")
    ann, card = buyers["Ann"]
    answer = await emu.press_button(ann, ann, card.message_id, text="+1 Milk")
    assert answer.text == "Milk × 2 · total CN¥20.00"
    # Ann pays the leader 20 for two bottles at 10; the leader confirms.
    await emu.wait_until(
        lambda: (
            "💸 I have paid"
            in next(m for m in emu.messages(ann) if m.message_id == card.message_id).button_labels()
        )
    )
    await emu.press_button(ann, ann, card.message_id, text="💸 I have paid")
    after = last_id(world, olga)
    await emu.send_message(olga, group, "/payments")
    summary = await bot_says(world, olga, after, "Payments: Milk")
    claims = await bot_says(world, olga, summary.message_id, "To confirm")
    code = text_of(claims).split("\n")[1].split(" ")[0]
    confirmed = await emu.press_button(olga, olga, claims.message_id, text=f"✓ {code} paid")
    assert confirmed.text == "Payment confirmed."

    # Bob's bottle reaches the tier of 8: Ann's two are worth 16 now; the close fixes it.
    await _buyers(world, group, post, "Bob")
    await _shows(world, group, post, "Milk — CN¥8.00 / bottle")
    after = last_id(world, ann)
    await close_now(world, olga, group, post.message_id)
    owed = await bot_says(world, ann, after, "A refund of CN¥4.00 for Milk", timeout=10)
    assert "The deal closed at a lower price tier than the one you paid for." in text_of(owed)
    async with world.deps.uow() as uow:
        closed = await uow.deals.get(deal)
        orders = await uow.orders.for_deal(deal)
        refunds = await uow.payments.refunds_for_deal(deal)
        held = await uow.payments.held_by_order(deal)
    assert closed is not None
    assert [(r.amount, r.reason, r.status) for r in refunds] == [
        (400, RefundReason.TIER, RefundStatus.OWED)
    ]
    # The ledger: what Ann's order holds is what it is worth at the final tier.
    ann_order = next(o for o in orders if o.user_id == ann)
    assert held[ann_order.id] == ann_order.amount(closed) == 1600


async def test_a_mode_paid_at_joining_refuses_tiers(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    await pay_mode(world, olga, group, "⭐ Telegram Stars")
    after = last_id(world, olga)
    await emu.send_message(olga, group, f"/newdeal\n{DEAL}")
    refused = text_of(await bot_says(world, olga, after))
    assert "Tier prices work when neighbours pay the leader (cash or transfer)" in refused
    assert "Nothing was posted" in refused
    async with world.deps.uow() as uow:
        assert await uow.deals.for_community(group, list(DealStatus), 10) == []


async def test_the_dialog_takes_tiers_with_the_price(world: World) -> None:
    olga, group = await set_up_group(world)
    cont = await say(world, olga, group, "/newdeal", "private chat")
    await say(world, olga, olga, f"/start {start_payload(cont.keyboard[0][0][1])}", "called")
    await answer_dialog(world, olga, ["Milk", None, "Milk", "bottle"])
    wrong = await say(world, olga, olga, "10; 8 from 3; 9 from 5")
    assert "must start at more units than the one before and cost less" in text_of(wrong)
    await say(world, olga, olga, "10; 满3件8; 6 from 5", "How many units")
    wrong = await say(world, olga, olga, "4")
    assert "A tier from 5 units can never be reached with a stock of 4." in text_of(wrong)
    await say(world, olga, olga, "10", "At most how many per person")
    preview = await answer_dialog(
        world,
        olga,
        [None, "continue", "tomorrow 20:00", None, "Gate 2", "Sat 9:00-10:00"] + [None] * 4,
    )
    assert "Milk — CN¥10.00 / bottle" in text_of(preview)
    assert "📉 3 more: CN¥8.00 each" in text_of(preview)
