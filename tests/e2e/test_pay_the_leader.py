"""Paying the leader: 'I have paid', the leader confirms from /payments, a shortfall after the
close is refunded, and the leader marks the refund made. Money adds up at every step."""

from __future__ import annotations

from datetime import timedelta

from groupbuy.model import PaymentStatus, RefundStatus
from tests.e2e.conftest import (
    World,
    become_resident,
    bot_says,
    deal_id_of,
    last_id,
    publish_one_message,
    record_shortfall,
    say,
    set_up_group,
    text_of,
)

DEAL = """Title: Oranges
Item: Orange box | box | 50 | 20 | 3
Deadline: tomorrow 20:00
Pickup: Gate 2
Window: Sat 9:00-10:00"""


async def test_pay_the_leader_with_a_shortfall(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    choose = await say(world, olga, group, "/paymode", "How do neighbours pay")
    after = last_id(world, group)
    await emu.press_button(olga, group, choose.message_id, text="💸 Transfer to the leader")
    await emu.wait_until(
        lambda: (
            "pay the leader by transfer"
            in (
                next(m for m in emu.messages(group) if m.message_id == choose.message_id).text or ""
            )
        )
    )
    assert last_id(world, group) == after  # the choice was edited in place, nothing new posted

    post = await publish_one_message(world, olga, group, DEAL)
    assert "Pay the leader by transfer · 0 paid" in text_of(post)
    deal_id = deal_id_of(post)
    ann = await emu.add_user("Ann")
    bob = await emu.add_user("Bob")
    for who in (ann, bob):
        await emu.add_member(group, who)
    ann_order = await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    await become_resident(world, bob, group, post.message_id, post.keyboard[0][0][1])
    answer = await emu.press_button(ann, ann, ann_order.message_id, text="+1 Orange box")
    assert answer.text == "Orange box × 2 · total CN¥100.00"

    # Ann paid the leader and says so; Bob will pay at the table.
    await emu.wait_until(lambda: "💸 I have paid" in _labels(world, ann, ann_order.message_id))
    after = last_id(world, ann)
    answer = await emu.press_button(ann, ann, ann_order.message_id, text="💸 I have paid")
    noted = await bot_says(world, ann, after, "The leader will confirm it")
    assert "CN¥100.00" in text_of(noted)
    again = await emu.press_button(ann, ann, ann_order.message_id, text="💸 I have paid")
    assert again.show_alert and again.text == "The leader has not confirmed your last payment yet."

    # The leader's list: one claim to confirm; a neighbour cannot confirm it.
    after = last_id(world, olga)
    await emu.send_message(olga, group, "/payments")
    summary = await bot_says(world, olga, after, "Payments: Oranges")
    assert "Awaiting your confirmation: 1, CN¥100.00" in text_of(summary)
    claims = await bot_says(world, olga, summary.message_id, "To confirm")
    ann_code = text_of(claims).split("\n")[1].split(" ")[0]
    # Bob cannot see the leader's private list; a forged press on the deal post is refused
    # (that button is only ever in a leader's private chat: handlers/router.py BUTTONS).
    refused = await emu.press_raw(bob, group, post.message_id, claims.keyboard[0][0][1])
    assert refused.show_alert and refused.text == "This button is out of date."
    after = last_id(world, ann)
    confirmed = await emu.press_button(olga, olga, claims.message_id, text=f"✓ {ann_code} paid")
    assert confirmed.text == "Payment confirmed."
    receipt = await bot_says(world, ann, after, "Payment received: CN¥100.00")
    assert "Oranges" in text_of(receipt)
    twice = await emu.press_button(olga, olga, claims.message_id, text=f"✓ {ann_code} paid")
    assert twice.show_alert and twice.text == "That payment was already confirmed or rejected."
    await emu.wait_until(lambda: "· 1 paid" in (_text(world, group, post.message_id)))

    # Close; only 2 of 3 boxes arrive: Bob joined last and loses his; Ann keeps both.
    await world.advance(timedelta(days=2))
    await bot_says(world, group, post.message_id, "Pickup notice", timeout=10)
    after_ann, after_bob = last_id(world, ann), last_id(world, bob)
    plan, done = await record_shortfall(world, olga, group, "1 2")
    assert "Orange box: 1 unit fewer" in text_of(plan) and "1 → 0" in text_of(plan)
    assert "1 order reduced" in text_of(done)
    bob_told = await bot_says(world, bob, after_bob, "Fewer goods arrived", timeout=10)
    assert "Nothing is left in your order." in text_of(bob_told)
    assert not any("Fewer goods" in (m.text or "") for m in emu.messages(ann)[-3:]) or (
        last_id(world, ann) == after_ann
    )

    # A second shortfall takes one of Ann's paid boxes: she is owed CN¥50.00.
    after_ann = last_id(world, ann)
    await record_shortfall(world, olga, group, "1 1")
    owed = await bot_says(world, ann, after_ann, "A refund of CN¥50.00", timeout=10)
    assert "Fewer goods arrived than were ordered." in text_of(owed)
    async with world.deps.uow() as uow:
        payments = await uow.payments.for_deal(deal_id)
        refunds = await uow.payments.refunds_for_deal(deal_id)
        held = await uow.payments.held_by_order(deal_id)
        orders = await uow.orders.for_deal(deal_id)
        deal = await uow.deals.get(deal_id)
    assert [p.status for p in payments] == [PaymentStatus.RECEIVED]
    assert [(r.amount, r.status) for r in refunds] == [(5000, RefundStatus.OWED)]
    assert deal is not None
    worth = {o.id: o.amount(deal) for o in orders}
    assert held == worth  # Ann holds exactly what her one box is worth

    # The leader refunds by hand and marks it; Ann is told; a second mark is refused.
    after = last_id(world, olga)
    await emu.send_message(olga, olga, f"/payments {deal_id}")
    summary = await bot_says(world, olga, after, "Payments: Oranges")
    assert "Refunds owed: 1, CN¥50.00" in text_of(summary)
    to_make = await bot_says(world, olga, summary.message_id, "Refunds to make")
    after_ann = last_id(world, ann)
    made = await emu.press_button(olga, olga, to_make.message_id, text=f"Refunded {ann_code}")
    assert made.text == "Refund marked as made."
    await bot_says(world, ann, after_ann, "Your refund of CN¥50.00 for Oranges has been made.")
    again = await emu.press_button(olga, olga, to_make.message_id, text=f"Refunded {ann_code}")
    assert again.show_alert and again.text == "That refund is already marked as made."


def _text(world: World, chat: int, message_id: int) -> str:
    return next(m for m in world.emu.messages(chat) if m.message_id == message_id).text or ""


def _labels(world: World, chat: int, message_id: int) -> list[str]:
    message = next(m for m in world.emu.messages(chat) if m.message_id == message_id)
    return [label for row in message.keyboard for label, _ in row]


async def test_remind_unpaid_at_most_once_an_hour(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    choose = await say(world, olga, group, "/paymode", "How do neighbours pay")
    await emu.press_button(olga, group, choose.message_id, text="💸 Transfer to the leader")
    await emu.wait_until(lambda: _text(world, group, choose.message_id).startswith("✅"))
    post = await publish_one_message(world, olga, group, DEAL)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])

    after = last_id(world, olga)
    await emu.send_message(olga, group, "/payments")
    summary = await bot_says(world, olga, after, "Awaiting payment: 1 order, CN¥50.00")
    after_ann = last_id(world, ann)
    answer = await emu.press_button(olga, olga, summary.message_id, text="⏰ Remind unpaid")
    assert answer.text == "Reminded 1 neighbour."
    await bot_says(world, ann, after_ann, "Please pay CN¥50.00 for Oranges.")
    again = await emu.press_button(olga, olga, summary.message_id, text="⏰ Remind unpaid")
    assert again.text == "Already reminded within the last hour."
    await world.advance(timedelta(minutes=61))
    later = await emu.press_button(olga, olga, summary.message_id, text="⏰ Remind unpaid")
    assert later.text == "Reminded 1 neighbour."
    await emu.wait_until(
        lambda: sum("Please pay" in (m.text or "") for m in emu.messages(ann)) == 2
    )
