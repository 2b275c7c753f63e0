"""A Bot API on a bad day (issue 22): a 502 now and then, a 429 with retry_after, a refused
refund. What must arrive arrives, once; one chat's trouble holds up no other chat; pre-checkout
is answered within Telegram's 10 s. The real runtime against the emulator over HTTP, on SQLite
and on PostgreSQL."""

from __future__ import annotations

import asyncio
import time

from handlers.callbacks import Callback, Op
from sandbox.faults import Fault
from sandbox.views import SentMessage
from tests.e2e.conftest import (
    World,
    become_resident,
    bot_says,
    close_now,
    deal_id_of,
    last_id,
    publish_one_message,
    set_up_group,
    text_of,
)
from tests.e2e.test_pay_online import DEAL, STARS_DEAL, choose_mode, invoices, next_invoice


def fired(world: World, method: str, fault: Fault) -> int:
    return sum(1 for m, _, f in world.emu.faults.fired if m == method and f is fault)


async def test_one_502_on_the_post_an_invoice_and_a_plus_one_each_arrive_once(
    any_world: World,
) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    await choose_mode(world, olga, group, "💳 Online (card)")

    await emu.inject_fault("server_error", "sendMessage", chat_id=group)
    after = last_id(world, group)
    await emu.send_message(olga, group, f"/newdeal\n{DEAL}")
    post = await bot_says(world, group, after, "🛒 Cherries", timeout=10)
    assert fired(world, "sendMessage", Fault.SERVER_ERROR) == 1
    await asyncio.sleep(0.5)
    posts = [m for m in emu.messages(group) if (m.text or "").startswith("🛒 Cherries")]
    assert [m.message_id for m in posts] == [post.message_id], [m.text for m in posts]

    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    await emu.inject_fault("server_error", "sendInvoice", chat_id=ann)
    order = await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    invoice = await next_invoice(world, ann, 0)
    assert fired(world, "sendInvoice", Fault.SERVER_ERROR) == 1
    assert invoice.invoice is not None and invoice.invoice["total_amount"] == 8000
    await asyncio.sleep(0.5)
    assert [m.message_id for m in invoices(world, ann)] == [invoice.message_id]

    # +1 on the order card in private: its edit meets a 502 and is sent again.
    assert "To pay: CN¥80.00" in text_of(order)
    plus = next(data for row in order.keyboard for label, data in row if label.startswith("+1"))
    await emu.inject_fault("server_error", "editMessageText", chat_id=ann)
    await emu.press_button(ann, ann, order.message_id, data=plus)
    await emu.wait_until(
        lambda: "To pay: CN¥160.00" in (_text(world, ann, order.message_id)), timeout=5
    )
    assert fired(world, "editMessageText", Fault.SERVER_ERROR) == 1
    fresh = await next_invoice(world, ann, invoice.message_id)
    assert fresh.invoice is not None and fresh.invoice["total_amount"] == 16000
    await asyncio.sleep(0.5)
    assert [m.message_id for m in invoices(world, ann)] == [fresh.message_id]  # the old one went


async def _invoiced_buyer(
    world: World, mode: str, deal: str
) -> tuple[int, int, SentMessage, int, SentMessage]:
    """A group in `mode` with `deal` posted, and Ann, who joined and got her invoice:
    (leader, group, post, Ann, the invoice)."""
    emu = world.emu
    olga, group = await set_up_group(world)
    await choose_mode(world, olga, group, mode)
    post = await publish_one_message(world, olga, group, deal)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    return olga, group, post, ann, await next_invoice(world, ann, 0)


def _text(world: World, chat: int, message_id: int) -> str:
    message = next(m for m in world.emu.messages(chat) if m.message_id == message_id)
    return message.text or ""


async def test_pre_checkout_is_answered_through_a_429_and_a_500(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    _, group, post, ann, invoice = await _invoiced_buyer(world, "💳 Online (card)", DEAL)

    await emu.inject_fault("flood", "answerPreCheckoutQuery", retry_after=3)
    began = time.monotonic()
    paid = await emu.pay_invoice(ann, ann, invoice.message_id)
    assert paid.ok, paid  # the emulator, as Telegram, gives up after 10 s
    assert fired(world, "answerPreCheckoutQuery", Fault.FLOOD) == 1
    assert 3 <= time.monotonic() - began < 10

    after = last_id(world, ann)
    await emu.press_button(ann, group, post.message_id, data=post.keyboard[0][0][1])
    again = await next_invoice(world, ann, after)
    await emu.inject_fault("server_error", "answerPreCheckoutQuery", code=500)
    began = time.monotonic()
    paid = await emu.pay_invoice(ann, ann, again.message_id)
    assert paid.ok, paid
    assert fired(world, "answerPreCheckoutQuery", Fault.SERVER_ERROR) == 1
    assert time.monotonic() - began < 10


async def test_a_429_on_one_deals_post_holds_up_no_other_chat(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    lychees = await publish_one_message(
        world, olga, group, DEAL.replace("Cherries", "Lychees").replace("Minimum: 2 people\n", "")
    )
    no_minimum = DEAL.replace("Minimum: 2 people\n", "")
    cherries = await publish_one_message(world, olga, group, no_minimum)
    ann, bob = await emu.add_user("Ann"), await emu.add_user("Bob")
    for who in (ann, bob):
        await emu.add_member(group, who)
        await become_resident(world, who, group, cherries.message_id, cherries.keyboard[0][0][1])
    await asyncio.sleep(1.0)  # the cherries post shows both

    # A press on the lychees post makes it stale; its edit meets a 429 of 15 s for the group.
    await emu.inject_fault("flood", "editMessageText", chat_id=group, retry_after=15)
    await emu.press_button(ann, group, lychees.message_id, data=lychees.keyboard[0][0][1])
    await emu.wait_until(lambda: fired(world, "editMessageText", Fault.FLOOD) == 1, timeout=5)

    # The cherries close (the leader's "Yes" under the question, which itself waits out the
    # group's 429): their buyers' pickup notices go out at once all the same.
    confirm = Callback(Op.CONFIRM_CLOSE, deal_id_of(cherries)).pack()
    answer = await emu.press_raw(olga, group, cherries.message_id, confirm)
    assert answer.text == "Deal closed."
    began = time.monotonic()
    for who in (ann, bob):
        await emu.wait_for_message(
            who, lambda m: "Your order: Cherries" in (m.text or ""), timeout=2.0
        )
    assert time.monotonic() - began < 2.0
    # The group itself is held: nothing went to it during the 15 s Telegram asked for.
    flood_at = next(
        e.time
        for e in emu.requests_log
        if e.method == "editMessageText" and not e.ok and "Too Many" in (e.error or "")
    )
    assert not [
        e
        for e in emu.requests_log
        if e.ok
        and e.time > flood_at
        and e.params.get("chat_id") == group
        and e.method in ("sendMessage", "editMessageText")
    ]


async def test_a_refused_stars_refund_is_asked_again_slowly_and_reported(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group, post, ann, invoice = await _invoiced_buyer(world, "⭐ Telegram Stars", STARS_DEAL)
    assert (await emu.pay_invoice(ann, ann, invoice.message_id)).ok

    await emu.inject_fault(
        "refused", "refundStarPayment", count=None, description="Bad Request: BALANCE_TOO_LOW"
    )
    after = last_id(world, olga)
    cancel = next(label for row in post.keyboard for label, _ in row if label == "Cancel deal")
    await emu.press_button(olga, group, post.message_id, text=cancel)
    question = await bot_says(world, group, post.message_id, "Everyone who joined")
    await emu.press_button(olga, group, question.message_id, text="Yes, cancel the deal")
    report = await bot_says(world, olga, after, "refused the Stars refund", timeout=10)
    assert "50 ⭐" in text_of(report) and "Ann" in text_of(report)
    await asyncio.sleep(3.0)  # the background loop goes round many times meanwhile
    assert fired(world, "refundStarPayment", Fault.REFUSED) == 1  # not asked again at once
    assert sum("refused the Stars refund" in (m.text or "") for m in emu.messages(olga)) == 1
    async with world.deps.uow() as uow:
        owed = await uow.payments.owed_star_refunds(10)
    assert [r.deal_id for r in owed] == [deal_id_of(post)]  # still owed, asked again later


async def test_a_reset_and_a_slow_answer_delay_a_notice_and_hold_up_no_one_else(
    any_world: World,
) -> None:
    """The connection drops before Telegram served a pickup notice (not sent: sent again, once);
    Telegram answers another buyer's notice slowly (5 s): the third buyer's comes at once. (A
    pickup notice is a photo: its pickup pass.)"""
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL.replace("Minimum: 2 people\n", ""))
    buyers = [await emu.add_user(name) for name in ("Ann", "Bob", "Cai")]
    for who in buyers:
        await emu.add_member(group, who)
        await become_resident(world, who, group, post.message_id, post.keyboard[0][0][1])
    ann, bob, cai = buyers
    await emu.inject_fault("reset_before", "sendPhoto", chat_id=ann)
    await emu.inject_fault("delay", "sendPhoto", chat_id=bob, seconds=5.0)

    answer = await close_now(world, olga, group, post.message_id)
    assert answer.text == "Deal closed."
    began = time.monotonic()
    await emu.wait_for_message(cai, lambda m: "Your order: Cherries" in (m.text or ""), 2.0)
    assert time.monotonic() - began < 2.0  # not behind Bob's slow answer
    for who in (ann, bob):
        await emu.wait_for_message(who, lambda m: "Your order: Cherries" in (m.text or ""), 10)
    await asyncio.sleep(1.0)
    for who in buyers:
        assert sum("Your order: Cherries" in (m.text or "") for m in emu.messages(who)) == 1
    assert fired(world, "sendPhoto", Fault.RESET_BEFORE) == 1
    assert fired(world, "sendPhoto", Fault.DELAY) == 1
