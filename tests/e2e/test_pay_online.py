"""Paying in chat with Telegram Payments: invoice, pre-checkout, receipt, changes, lapses,
duplicates, late money, failed deals and Stars refunds, through the emulator's payer."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from groupbuy.model import PaymentStatus, RefundStatus
from sandbox.views import SentMessage
from tests.e2e.conftest import (
    World,
    become_resident,
    bot_says,
    deal_id_of,
    last_id,
    publish_one_message,
    say,
    set_up_group,
    text_of,
)

DEAL = """Title: Cherries
Item: Cherry box | box | 80 | 10 | 3
Deadline: tomorrow 20:00
Minimum: 2 people
Pickup: Gate 5
Window: Sun 9:00-10:00"""

STARS_DEAL = """Title: Recipe book
Item: E-book | copy | 50 | 100 | 5
Deadline: tomorrow 20:00
Pickup: Your chat
Window: Right away"""


async def choose_mode(world: World, leader: int, group: int, label: str) -> None:
    choose = await say(world, leader, group, "/paymode", "How do neighbours pay")
    await world.emu.press_button(leader, group, choose.message_id, text=label)
    await world.emu.wait_until(lambda: _message(world, group, choose.message_id).keyboard == [])


def _message(world: World, chat: int, message_id: int) -> SentMessage:
    return next(m for m in world.emu.messages(chat) if m.message_id == message_id)


async def _receipt(world: World, user: int) -> int:
    """Wait until the bot has recorded a payment (its receipt arrived); returns that message."""
    receipt = await world.emu.wait_for_message(
        user, lambda m: m.from_bot and "Payment received" in (m.text or ""), timeout=10
    )
    return receipt.message_id


def invoices(world: World, user: int) -> list[SentMessage]:
    """The invoices still shown in the user's private chat."""
    return [m for m in world.emu.messages(user) if m.invoice is not None and m.from_bot]


async def next_invoice(world: World, user: int, after: int, timeout: float = 10) -> SentMessage:
    return await world.emu.wait_for_message(
        user, lambda m: m.from_bot and m.invoice is not None and m.message_id > after, timeout
    )


async def test_online_join_pay_change_close_and_list(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    await choose_mode(world, olga, group, "💳 Online (card)")
    post = await publish_one_message(world, olga, group, DEAL)
    assert "Pay online in this chat · 0 paid" in text_of(post)
    deal_id = deal_id_of(post)
    ann, bob = await emu.add_user("Ann"), await emu.add_user("Bob")
    for who in (ann, bob):
        await emu.add_member(group, who)

    order = await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    assert "To pay: CN¥80.00" in text_of(order)
    invoice = await next_invoice(world, ann, 0)
    assert invoice.invoice is not None
    assert (invoice.invoice["currency"], invoice.invoice["total_amount"]) == ("CNY", 8000)

    after = last_id(world, ann)
    paid = await emu.pay_invoice(ann, ann, invoice.message_id)
    assert paid.ok, paid
    receipt = await bot_says(world, ann, after, "Payment received: CN¥80.00")
    assert "Cherries" in text_of(receipt)
    await emu.wait_until(lambda: "· 1 paid" in (_message(world, group, post.message_id).text or ""))

    # The same successful_payment again (Telegram may repeat an update): nothing new is recorded.
    assert paid.telegram_payment_charge_id is not None
    await emu.resend_successful_payment(ann, paid.telegram_payment_charge_id)
    await asyncio.sleep(0.5)
    async with world.deps.uow() as uow:
        assert len(await uow.payments.for_deal(deal_id)) == 1
    assert sum("Payment received" in (m.text or "") for m in emu.messages(ann)) == 1

    # +1 on a paid order: an invoice for the difference only.
    after = last_id(world, ann)
    answer = await emu.press_button(ann, group, post.message_id, data=post.keyboard[0][0][1])
    assert answer.text == "Cherry box × 2 · total CN¥160.00"
    top_up = await next_invoice(world, ann, after)
    assert top_up.invoice is not None and top_up.invoice["total_amount"] == 8000
    # Pressing again before paying replaces that invoice: only the newest can be paid.
    await emu.press_button(ann, group, post.message_id, data=post.keyboard[0][0][1])
    newest = await next_invoice(world, ann, top_up.message_id)
    assert newest.invoice is not None and newest.invoice["total_amount"] == 16000
    await emu.wait_until(
        lambda: all(m.message_id != top_up.message_id for m in invoices(world, ann))
    )
    assert (await emu.pay_invoice(ann, ann, newest.message_id)).ok

    bob_order = await become_resident(world, bob, group, post.message_id, post.keyboard[0][0][1])
    assert "To pay" in text_of(bob_order)
    bob_invoice = await next_invoice(world, bob, 0)
    after = last_id(world, bob)
    assert (await emu.pay_invoice(bob, bob, bob_invoice.message_id)).ok
    # Telegram has handed the payment to the bot; wait for the receipt before time moves on,
    # or the deadline could close the deal first (that money would then be refunded as late).
    await bot_says(world, bob, after, "Payment received")

    await world.advance(timedelta(days=2))
    await bot_says(world, group, post.message_id, "Pickup notice", timeout=10)
    async with world.deps.uow() as uow:
        payments = await uow.payments.for_deal(deal_id)
        held = await uow.payments.held_by_order(deal_id)
        orders = await uow.orders.for_deal(deal_id)
        deal = await uow.deals.get(deal_id)
    assert deal is not None
    assert sorted(p.amount for p in payments) == [8000, 8000, 16000]
    assert held == {o.id: o.amount(deal) for o in orders}  # every order exactly paid

    after = last_id(world, olga)
    await emu.send_message(olga, group, "/list")
    csv = await emu.wait_for_message(
        olga,
        lambda m: (
            m.message_id > after
            and m.document is not None
            and ".csv" in (m.document.file_name or "")
        ),
    )
    rows = emu.document_bytes(olga, csv.message_id).decode("utf-8-sig")
    assert rows.count(",Paid,") == 2 or rows.count("Paid") >= 2


async def test_unpaid_units_lapse_and_late_money_is_refunded(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    await choose_mode(world, olga, group, "💳 Online (card)")
    post = await publish_one_message(world, olga, group, DEAL)
    deal_id = deal_id_of(post)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    invoice = await next_invoice(world, ann, 0)
    await emu.wait_until(
        lambda: "9 of 10 left" in (_message(world, group, post.message_id).text or "")
    )

    # A reminder before the 30-minute hold ends, then the units go back to stock.
    after = last_id(world, ann)
    await world.advance(timedelta(minutes=25))
    await bot_says(world, ann, after, "Please pay CN¥80.00 for Cherries.", timeout=10)
    await world.advance(timedelta(minutes=6))
    await bot_says(world, ann, after, "did not arrive in time", timeout=10)
    await emu.wait_until(
        lambda: "10 of 10 left" in (_message(world, group, post.message_id).text or ""), timeout=10
    )
    # The bot deleted the dead invoice; a payer who had its payment form open pays anyway:
    # Telegram asks first, and the bot says no, with the reason.
    await emu.wait_until(
        lambda: all(m.message_id != invoice.message_id for m in invoices(world, ann))
    )
    declined = await emu.pay_invoice(ann, ann, invoice.message_id, form_open=True)
    assert declined.status == "declined"
    assert declined.error_message in (
        "This invoice is out of date: your order changed. Please pay the newest invoice.",
        "The time to pay this order has passed.",
    )
    # Money that arrives anyway (no pre-checkout) is recorded and refunded, never lost.
    late = await emu.pay_invoice(
        ann, ann, invoice.message_id, skip_pre_checkout=True, form_open=True
    )
    assert late.ok
    owed = await bot_says(world, ann, after, "A refund of CN¥80.00", timeout=10)
    assert "The payment came after the order had ended." in text_of(owed)
    async with world.deps.uow() as uow:
        payments = await uow.payments.for_deal(deal_id)
        refunds = await uow.payments.refunds_for_deal(deal_id)
        held = await uow.payments.held_by_order(deal_id)
    assert [(p.amount, p.status) for p in payments] == [(8000, PaymentStatus.RECEIVED)]
    assert [(r.amount, r.status) for r in refunds] == [(8000, RefundStatus.OWED)]
    assert set(held.values()) == {0}


async def test_a_failed_deal_refunds_what_was_paid(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    await choose_mode(world, olga, group, "💳 Online (card)")
    post = await publish_one_message(world, olga, group, DEAL)  # needs 2 neighbours
    deal_id = deal_id_of(post)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    paid = await emu.pay_invoice(ann, ann, (await next_invoice(world, ann, 0)).message_id)
    assert paid.ok
    after = await _receipt(world, ann)
    await world.advance(timedelta(days=2))
    # One message: the deal did not form, and the money comes back (not 'nothing is owed' and
    # then a refund).
    owed = await bot_says(world, ann, after, "did not reach its minimum", timeout=10)
    assert "A refund of CN¥80.00 is on its way." in text_of(owed)
    assert "The leader will send it back" in text_of(owed) and "Nothing is owed" not in text_of(
        owed
    )
    await asyncio.sleep(0.5)
    assert sum("refund" in (m.text or "").lower() for m in emu.messages(ann)) == 1

    # The leader sees it owed, with the charge id a card refund needs, and marks it made.
    after_olga = last_id(world, olga)
    await emu.send_message(olga, olga, f"/payments {deal_id}")
    summary = await bot_says(world, olga, after_olga, "Payments: Cherries")
    assert "Refunds owed: 1, CN¥80.00" in text_of(summary)
    to_make = await bot_says(world, olga, summary.message_id, "Refunds to make")
    assert paid.provider_payment_charge_id and paid.provider_payment_charge_id in text_of(to_make)
    ((label, _),) = to_make.keyboard[0]
    await emu.press_button(olga, olga, to_make.message_id, text=label)
    await bot_says(world, ann, after, "Your refund of CN¥80.00 for Cherries has been made.")


async def test_stars_pay_then_refund_through_the_bot_api(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    await choose_mode(world, olga, group, "⭐ Telegram Stars")
    post = await publish_one_message(world, olga, group, STARS_DEAL)
    assert "50 ⭐" in text_of(post) and "Pay with Telegram Stars" in text_of(post)
    deal_id = deal_id_of(post)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    await emu.press_button(ann, group, post.message_id, data=post.keyboard[0][0][1])
    invoice = await emu.wait_for_message(
        ann,
        lambda m: m.invoice is not None and m.invoice["total_amount"] == 100,
        timeout=10,
    )
    assert invoice.invoice is not None and invoice.invoice["currency"] == "XTR"
    paid = await emu.pay_invoice(ann, ann, invoice.message_id)
    assert paid.ok
    await _receipt(world, ann)

    # −1: Stars come back a whole payment at a time, automatically, and the rest is invoiced.
    after = last_id(world, ann)
    await emu.press_button(ann, group, post.message_id, data=post.keyboard[0][1][1])
    await bot_says(
        world, ann, after, "Your refund of 100 ⭐ for Recipe book has been made.", timeout=10
    )
    assert [r.telegram_payment_charge_id for r in emu.refunds()] == [
        paid.telegram_payment_charge_id
    ]
    again = await next_invoice(world, ann, after)
    assert again.invoice is not None and again.invoice["total_amount"] == 50
    assert (await emu.pay_invoice(ann, ann, again.message_id)).ok

    # The leader cancels: the last payment goes back too.
    cancel = next(label for row in post.keyboard for label, _ in row if label == "Cancel deal")
    await emu.press_button(olga, group, post.message_id, text=cancel)
    question = await bot_says(world, group, post.message_id, "Everyone who joined")
    after = last_id(world, ann)
    await emu.press_button(olga, group, question.message_id, text="Yes, cancel the deal")
    await bot_says(world, ann, after, "Your refund of 50 ⭐", timeout=10)
    assert len(emu.refunds()) == 2
    async with world.deps.uow() as uow:
        held = await uow.payments.held_by_order(deal_id)
        refunds = await uow.payments.refunds_for_deal(deal_id)
    assert set(held.values()) == {0}
    assert all(r.status is RefundStatus.DONE for r in refunds)
