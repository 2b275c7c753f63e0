"""The truck brought less (/shortfall) through the runtime and the emulator: the leader says what
arrived of two items at once, sees the plan by join order, switches it to pro rata and applies
it; each buyer cut gets one message with what they get, a buyer who paid is owed the rest, and
the ledger holds. Nothing changes before the press; a plan dropped or replaced does nothing;
bad input gets the reason. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from groupbuy.model import RefundReason, RefundStatus
from sandbox.views import SentMessage
from tests.e2e.conftest import (
    World,
    answered_privately,
    bot_says,
    close_now,
    deal_id_of,
    last_id,
    publish_one_message,
    record_shortfall,
    set_up_group,
    text_of,
)
from tests.e2e.test_cases import _card, _confirm_payment
from tests.e2e.test_live_card import pay_mode
from tests.e2e.test_tiers import _buyers

DEAL = """Title: Breakfast
Item: Milk | bottle | 5 | 30 | 6
Item: Eggs | box | 10 | 30 | 6
Deadline: tomorrow 20:00
Pickup: Gate 2
Window: Sat 9:00-10:00"""


async def _order(world: World, user: int, card: SentMessage, milk: int, eggs: int) -> None:
    """On top of the first bottle the join took."""
    for label, times in (("+1 Milk", milk - 1), ("+1 Eggs", eggs)):
        for _ in range(times):
            await world.emu.press_button(user, user, card.message_id, text=label)


async def _closed_deal(world: World) -> tuple[int, int, int, dict[str, int]]:
    """Ann (milk 3, eggs 2), Bob (2, 2, paid the leader), Cy (1, 4), closed."""
    olga, group = await set_up_group(world)
    await pay_mode(world, olga, group, "💸 Transfer to the leader")
    post = await publish_one_message(world, olga, group, DEAL)
    buyers = await _buyers(world, group, post, "Ann", "Bob", "Cy")
    for name, (milk, eggs) in {"Ann": (3, 2), "Bob": (2, 2), "Cy": (1, 4)}.items():
        user, card = buyers[name]
        await _order(world, user, card, milk, eggs)
    bob, bob_card = buyers["Bob"]
    await world.emu.wait_until(
        lambda: "💸 I have paid" in _card(world, bob, bob_card).button_labels(), timeout=10
    )
    await world.emu.press_button(bob, bob, bob_card.message_id, text="💸 I have paid")
    await _confirm_payment(world, olga, group, "Breakfast")
    await close_now(world, olga, group, post.message_id)
    await bot_says(world, group, post.message_id, "Pickup notice", timeout=10)
    return olga, group, deal_id_of(post), {n: u for n, (u, _) in buyers.items()}


async def _quantities(world: World, deal: int) -> dict[int, tuple[int, int]]:
    async with world.deps.uow() as uow:
        found = await uow.deals.get(deal)
        orders = await uow.orders.for_deal(deal)
    assert found is not None
    milk, eggs = (i.id for i in found.items)
    return {o.user_id: (o.quantity(milk), o.quantity(eggs)) for o in orders}


async def test_two_items_short_shared_pro_rata(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group, deal, users = await _closed_deal(world)
    ann, bob, cy = users["Ann"], users["Bob"], users["Cy"]
    before = await _quantities(world, deal)
    assert before == {ann: (3, 2), bob: (2, 2), cy: (1, 4)}

    # By join order first: Cy and then Bob lose their milk, Cy her eggs. Nothing changes yet.
    plan = await answered_privately(
        world, olga, group, "/shortfall Milk 3, Eggs 4", "Shortfall plan"
    )
    shown = text_of(plan)
    assert "By join order: the last to join lose units first." in shown
    assert "Milk: 3 units fewer" in shown and "Eggs: 4 units fewer" in shown
    assert "Cy" in shown and "1 → 0" in shown and "2 → 0" in shown and "4 → 0" in shown
    assert await _quantities(world, deal) == before

    after = {user: last_id(world, user) for user in (ann, bob, cy)}
    plan, done = await record_shortfall(world, olga, group, "Milk 3, Eggs 4", pro_rata=True)
    # Pro rata: milk 3 of 6, eggs 4 of 8. Ann 1.5 and Cy 0.5 bottles tie for the bottle left
    # over, and Ann joined first.
    assert "Shared pro rata" in text_of(plan)
    assert "3 orders reduced" in text_of(done)
    assert await _quantities(world, deal) == {ann: (2, 1), bob: (1, 1), cy: (0, 2)}
    for user, lines in ((ann, "Milk × 2"), (bob, "Milk × 1"), (cy, "Eggs × 2")):
        told = await bot_says(world, user, after[user], "your order was reduced", timeout=10)
        assert lines in text_of(told)
        cut = [m for m in emu.messages(user) if "your order was reduced" in (m.text or "")]
        assert len(cut) == 1  # one message for both items
    # Bob paid 30 for two bottles and two boxes; he keeps one of each, worth 15.
    owed = await bot_says(world, bob, after[bob], "A refund of CN¥15.00", timeout=10)
    assert "Fewer goods arrived than were ordered." in text_of(owed)
    async with world.deps.uow() as uow:
        closed = await uow.deals.get(deal)
        refunds = await uow.payments.refunds_for_deal(deal)
        held = await uow.payments.held_by_order(deal)
        bob_order = await uow.orders.of_user(deal, bob)
    assert closed is not None and bob_order is not None
    assert [(r.amount, r.reason, r.status) for r in refunds] == [
        (1500, RefundReason.SHORTFALL, RefundStatus.OWED)
    ]
    assert held[bob_order.id] == bob_order.amount(closed) == 1500
    assert [i.sold for i in closed.items] == [3, 4]

    # The plan's Apply, pressed again (a redelivered press), does nothing twice.
    apply = plan.keyboard[0][0][1]
    again = await emu.press_raw(olga, olga, plan.message_id, apply)
    assert again.show_alert and again.text == "This button is out of date."
    assert await _quantities(world, deal) == {ann: (2, 1), bob: (1, 1), cy: (0, 2)}


async def test_a_plan_dropped_or_replaced_changes_nothing(world: World) -> None:
    emu = world.emu
    olga, group, deal, _ = await _closed_deal(world)
    before = await _quantities(world, deal)
    first = await answered_privately(world, olga, group, "/shortfall 1 5", "Shortfall plan")
    second = await answered_privately(world, olga, group, "/shortfall 2 7", "Shortfall plan")
    stale = await emu.press_button(olga, olga, first.message_id, text="✅ Apply")
    assert stale.show_alert and stale.text == "This button is out of date."
    await emu.press_button(olga, olga, second.message_id, text="✖ Drop it")
    await emu.wait_until(lambda: "Dropped: nothing changed." in text_of(_card(world, olga, second)))
    assert await _quantities(world, deal) == before
    async with world.deps.uow() as uow:
        assert await uow.payments.refunds_for_deal(deal) == []


async def test_bad_shortfalls_get_the_reason(world: World) -> None:
    olga, group, deal, _ = await _closed_deal(world)
    before = await _quantities(world, deal)
    for args, reason in (
        ("Milk 6", "6 × Milk were sold: write how many arrived if that is fewer."),
        ("Milk 9", "6 × Milk were sold"),
        ("Tea 1", "That item is not in this deal."),
        ("3 1", "That item is not in this deal."),
        ("Milk", "Send /shortfall with what arrived"),
        ("", "Send /shortfall with what arrived"),
        ("Milk lots", "Send /shortfall with what arrived"),
    ):
        reply = await answered_privately(world, olga, group, f"/shortfall {args}".strip())
        assert reason in text_of(reply), (args, text_of(reply))
    assert await _quantities(world, deal) == before
