"""The same update delivered twice changes nothing (issue 21): Telegram sends an update again
when the bot died after handling it but before the next getUpdates confirmed it, and a webhook
retries when its answer was late. Played here with the emulator's `unconfirm` around a restart
of the real runtime, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from groupbuy.model import DealStatus, PaymentStatus
from storage.engine import make_engine
from storage.tables import HandledUpdateRow
from tests.e2e.conftest import (
    World,
    become_resident,
    deal_id_of,
    last_id,
    publish_one_message,
    set_up_group,
    text_of,
)
from tests.e2e.test_pay_online import DEAL, choose_mode, next_invoice


async def _all_taken(world: World) -> None:
    """Every update the emulator holds was handled and confirmed, and what it led to is sent."""
    await world.emu.wait_until(lambda: not world.emu.state.updates, timeout=15)
    await asyncio.sleep(0.5)


async def _handled(world: World, update_ids: list[int]) -> set[int]:
    engine = make_engine(world.settings.database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.scalars(
                select(HandledUpdateRow.update_id).where(HandledUpdateRow.update_id.in_(update_ids))
            )
            return set(rows)
    finally:
        await engine.dispose()


async def test_a_command_a_press_and_a_payment_delivered_again_change_nothing(
    any_world: World,
) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    await choose_mode(world, olga, group, "💳 Online (card)")

    post = await publish_one_message(world, olga, group, DEAL)
    newdeal = emu.state.last_update_id  # the /newdeal message
    deal_id = deal_id_of(post)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    invoice = await next_invoice(world, ann, 0)
    press = await emu.press_button(ann, group, post.message_id, data=post.keyboard[0][0][1])
    assert press.text is not None and "2" in press.text, press  # +1: two boxes now
    plus_one = emu.state.last_update_id
    invoice = await next_invoice(world, ann, invoice.message_id)
    paid = await emu.pay_invoice(ann, ann, invoice.message_id)
    assert paid.ok, paid
    payment = emu.state.last_update_id  # the successful_payment message
    await emu.wait_for_message(ann, lambda m: "Payment received" in (m.text or ""), timeout=10)
    await _all_taken(world)
    assert await _handled(world, [newdeal, plus_one, payment]) == {newdeal, plus_one, payment}
    group_after, ann_after = last_id(world, group), last_id(world, ann)

    # The bot stops; Telegram never heard that these three were handled, and sends them again.
    await world.restart(lambda: emu.unconfirm([newdeal, plus_one, payment]))
    await _all_taken(world)

    async with world.deps.uow() as uow:
        deals = await uow.deals.for_community(group, [DealStatus.OPEN], 10)
        order = await uow.orders.of_user(deal_id, ann)
        payments = await uow.payments.for_deal(deal_id)
        deal = await uow.deals.get(deal_id)
    assert [d.id for d in deals] == [deal_id]  # one deal, not two
    assert order is not None and deal is not None
    assert order.quantity(deal.items[0].id) == 2  # not 3
    assert deal.items[0].sold == 2
    assert [(p.amount, p.status) for p in payments] == [(16000, PaymentStatus.RECEIVED)]
    # Nothing was said again: no second post, no second receipt, no new invoice.
    assert [m for m in emu.messages(group) if m.message_id > group_after and m.from_bot] == []
    assert [m for m in emu.messages(ann) if m.message_id > ann_after and m.from_bot] == []
    assert sum("Payment received" in text_of(m) for m in emu.messages(ann) if m.text) == 1
