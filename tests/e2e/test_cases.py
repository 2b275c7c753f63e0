"""Whole cases (整箱) through the runtime and the emulator: the post says how many more units fill
the case; at the close a last case not full is cut, the latest orders first, each buyer told and
refunded what they paid for the units cut; or counted full within the tolerance (the leader takes
the spare); or the deal stays open a few hours to fill it. Runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from groupbuy.model import DealStatus, RefundReason, RefundStatus
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
    start_payload,
    text_of,
)
from tests.e2e.test_live_card import pay_mode
from tests.e2e.test_newdeal_forms import answer_dialog
from tests.e2e.test_tiers import _buyers, _post, _shows


def _deal(cases: str, stock: str = "4 cases of 6") -> str:
    return f"""Title: Milk
Item: Milk | bottle | 5 | {stock} | 6
Deadline: tomorrow 20:00
Pickup: Gate 2
Window: Sat 9:00-10:00
{cases}"""


async def _press(world: World, user: int, card: SentMessage, times: int) -> None:
    for _ in range(times):
        await world.emu.press_button(user, user, card.message_id, text="+1 Milk")


async def test_round_down_cuts_the_latest_orders_first(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    await pay_mode(world, olga, group, "💸 Transfer to the leader")
    post = await publish_one_message(world, olga, group, _deal("Cases: round down"))
    assert "📦 cases of 6" in text_of(post)
    assert "Cases not filled are cut at the close, latest orders first." in text_of(post)
    deal = deal_id_of(post)
    buyers = await _buyers(world, group, post, "Ann", "Bob", "Cy")
    (ann, ann_card), (bob, bob_card) = buyers["Ann"], buyers["Bob"]
    await _press(world, ann, ann_card, 4)  # Ann 5, Bob 1, Cy 1: one case and one more
    await _shows(world, group, post, "📦 5 more to a full case")
    await _press(world, bob, bob_card, 1)  # Bob 2: eight bottles, two beyond the case
    await _shows(world, group, post, "📦 4 more to a full case")
    # Bob pays the leader for his two bottles; the leader confirms.
    await emu.wait_until(
        lambda: "💸 I have paid" in _card(world, bob, bob_card).button_labels(), timeout=10
    )
    await emu.press_button(bob, bob, bob_card.message_id, text="💸 I have paid")
    await _confirm_payment(world, olga, group)

    cy = buyers["Cy"][0]
    after = {user: last_id(world, user) for user in (ann, bob, cy)}
    await close_now(world, olga, group, post.message_id)
    # Two bottles go: Cy's one (the latest order), then one of Bob's; Ann keeps her five.
    told_cy = await bot_says(world, cy, after[cy], "comes by the case", timeout=10)
    assert "Nothing is left in your order." in text_of(told_cy)
    told_bob = await bot_says(world, bob, after[bob], "comes by the case", timeout=10)
    assert "Milk × 1 — CN¥5.00" in text_of(told_bob)
    owed = await bot_says(world, bob, after[bob], "A refund of CN¥5.00 for Milk", timeout=10)
    assert "the units beyond the last full case were cut" in text_of(owed)
    await _shows(world, group, post, "CLOSED", "📦 1 case")
    assert "spare" not in _post(world, group, post.message_id)
    async with world.deps.uow() as uow:
        closed = await uow.deals.get(deal)
        orders = await uow.orders.for_deal(deal)
        refunds = await uow.payments.refunds_for_deal(deal)
        held = await uow.payments.held_by_order(deal)
    assert closed is not None and closed.status is DealStatus.CLOSED
    assert closed.items[0].sold == 6
    assert {o.user_id: o.quantity(closed.items[0].id) for o in orders} == {ann: 5, bob: 1}
    assert [(r.amount, r.reason, r.status) for r in refunds] == [
        (500, RefundReason.CASE, RefundStatus.OWED)
    ]
    bob_order = next(o for o in orders if o.user_id == bob)
    assert held[bob_order.id] == bob_order.amount(closed) == 500  # the ledger holds
    # Cy has nothing to collect, so no pickup notice; Ann's says five bottles.
    assert not any("Pickup code" in (m.text or "") for m in emu.messages(cy))
    pickup = await bot_says(world, ann, after[ann], "Pickup code", timeout=10)
    assert "Milk × 5" in text_of(pickup)


def _card(world: World, user: int, card: SentMessage) -> SentMessage:
    return next(m for m in world.emu.messages(user) if m.message_id == card.message_id)


async def _confirm_payment(world: World, leader: int, group: int, title: str = "Milk") -> None:
    after = last_id(world, leader)
    await world.emu.send_message(leader, group, "/payments")
    summary = await bot_says(world, leader, after, f"Payments: {title}")
    claims = await bot_says(world, leader, summary.message_id, "To confirm")
    code = text_of(claims).split("\n")[1].split(" ")[0]
    confirmed = await world.emu.press_button(
        leader, leader, claims.message_id, text=f"✓ {code} paid"
    )
    assert confirmed.text == "Payment confirmed."


async def test_a_nearly_full_case_counts_as_full(any_world: World) -> None:
    world = any_world
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, _deal("整箱：凑不满退 | 80%"))
    assert "80% full counts as full." in text_of(post)
    deal = deal_id_of(post)
    buyers = await _buyers(world, group, post, "Ann")
    ann, card = buyers["Ann"]
    await _press(world, ann, card, 4)  # five of six: 83 %
    await _shows(world, group, post, "📦 1 more to a full case")
    await close_now(world, olga, group, post.message_id)
    await _shows(world, group, post, "CLOSED", "📦 1 case · 1 spare unit for the leader")
    async with world.deps.uow() as uow:
        closed = await uow.deals.get(deal)
        refunds = await uow.payments.refunds_for_deal(deal)
    assert closed is not None and closed.items[0].sold == 5 and refunds == []


async def test_keep_open_fills_the_case_then_closes(any_world: World) -> None:
    world = any_world
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, _deal("Cases: keep open 3h"))
    assert "Cases not filled: 3 hours more, then cut, latest orders first." in text_of(post)
    deal = deal_id_of(post)
    buyers = await _buyers(world, group, post, "Ann")
    ann, card = buyers["Ann"]
    await _press(world, ann, card, 3)  # four of six
    after = last_id(world, group)
    await world.advance(timedelta(days=2))  # the deadline passes
    kept = await bot_says(world, group, after, "not every case is full yet", timeout=10)
    assert "Milk: 2 more fill the case" in text_of(kept)
    async with world.deps.uow() as uow:
        waiting = await uow.deals.get(deal)
    assert waiting is not None and waiting.status is DealStatus.OPEN
    # A neighbour sees it and takes the two bottles missing.
    bob, bob_card = (await _buyers(world, group, post, "Bob"))["Bob"]
    await _press(world, bob, bob_card, 1)
    await _shows(world, group, post, "📦 cases of 6")
    await world.advance(timedelta(hours=3, minutes=1))
    await _shows(world, group, post, "CLOSED", "📦 1 case")
    async with world.deps.uow() as uow:
        closed = await uow.deals.get(deal)
        refunds = await uow.payments.refunds_for_deal(deal)
    assert closed is not None and closed.status is DealStatus.CLOSED
    assert closed.items[0].sold == 6 and refunds == []


async def test_keep_open_once_then_round_down(world: World) -> None:
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, _deal("Cases: keep open 2h"))
    deal = deal_id_of(post)
    buyers = await _buyers(world, group, post, "Ann")
    ann, card = buyers["Ann"]
    await _press(world, ann, card, 5)  # six of one case, and one: Bob's
    bob = (await _buyers(world, group, post, "Bob"))["Bob"][0]
    after = last_id(world, group)
    await world.advance(timedelta(days=2))
    await bot_says(world, group, after, "not every case is full yet", timeout=10)
    await world.advance(timedelta(hours=2, minutes=1))  # nobody came: the one is cut
    await _shows(world, group, post, "CLOSED", "📦 1 case")
    async with world.deps.uow() as uow:
        closed = await uow.deals.get(deal)
    assert closed is not None and closed.items[0].sold == 6
    async with world.deps.uow() as uow:
        assert (await uow.orders.of_user(deal, bob)) is not None
        assert [o.user_id for o in await uow.orders.for_deal(deal)] == [ann]
    kept = [m for m in world.emu.messages(group) if "not every case" in (m.text or "")]
    assert len(kept) == 1  # kept open once only


async def test_bad_cases_are_refused_with_the_reason(world: World) -> None:
    olga, group = await set_up_group(world)
    for body, reason in (
        (_deal("", stock="4 cases of 0"), "A case holds from 1 to 1000 units"),
        (_deal("Cases: maybe"), "Write what to do with a last case that is not full"),
        (_deal("Cases: keep open 100h"), "from 1 to 72 more hours"),
        (_deal("Cases: round down | 150%"), "A tolerance is a share from 1% to 100%"),
        (_deal("Cases: round up", stock="24"), "No item is sold by the case"),
    ):
        after = last_id(world, olga)
        await world.emu.send_message(olga, group, f"/newdeal\n{body}")
        refused = text_of(await bot_says(world, olga, after))
        assert reason in refused, refused
        assert "Nothing was posted" in refused
    async with world.deps.uow() as uow:
        assert await uow.deals.for_community(group, list(DealStatus), 10) == []


async def test_the_dialog_takes_cases_with_the_stock(world: World) -> None:
    olga, group = await set_up_group(world)
    cont = await say(world, olga, group, "/newdeal", "private chat")
    await say(world, olga, olga, f"/start {start_payload(cont.keyboard[0][0][1])}", "called")
    await answer_dialog(world, olga, ["Milk", None, "Milk", "bottle", "5"])
    wrong = await say(world, olga, olga, "4箱×0")
    assert "A case holds from 1 to 1000 units" in text_of(wrong)
    await say(world, olga, olga, "4箱×6", "At most how many per person")
    await answer_dialog(
        world, olga, [None, "continue", "tomorrow 20:00", None, "Gate 2", "Sat 9-10", None, None]
    )
    wrong = await say(world, olga, olga, "whenever")
    assert "Write what to do with a last case" in text_of(wrong)
    await say(world, olga, olga, "团长包尾", "Send a photo")
    preview = await answer_dialog(world, olga, [None, None])
    assert "📦 cases of 6" in text_of(preview)
    assert "The leader fills the last case." in text_of(preview)
