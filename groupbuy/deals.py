"""Use cases of a deal's life: open it, close it (deadline, sold out, leader), cancel it, remind."""

from __future__ import annotations

from datetime import datetime, timedelta

from groupbuy.clock import Clock
from groupbuy.errors import DomainError
from groupbuy.model import (
    CloseReason,
    Community,
    Deal,
    DealSpec,
    DealStatus,
    RefundReason,
    minimum_reached,
)
from groupbuy.notices import Notice, NoticeKind
from groupbuy.payments import lapse, refund_everyone, refund_excess
from groupbuy.pickup_points import offering
from groupbuy.ports import UnitOfWork, UnitOfWorkFactory


def remind_at(spec: DealSpec, now: datetime, before: timedelta) -> datetime | None:
    """When to remind the group; none for a deal opened too close to its deadline to need it."""
    at = spec.deadline - before
    return at if at > now else None


async def open_deal(
    uow: UnitOfWork,
    community: Community,
    leader_id: int,
    spec: DealSpec,
    now: datetime,
    reminder_before: timedelta,
) -> Deal:
    if spec.deadline <= now:
        raise DomainError("deadline_past")
    if community.payment_mode.invoiced and any(i.tiers for i in spec.items):
        # Paid when joining, an order's price could still rise or fall with the tier; paid to
        # the leader (cash, transfer), it is settled against the price the close fixes.
        raise DomainError("tiers_pay_later")
    spec = await offering(uow, community.chat_id, spec)
    deal = await uow.deals.add(
        community.chat_id,
        leader_id,
        community.currency,
        spec,
        now,
        remind_at(spec, now, reminder_before),
        community.payment_mode,
    )
    if spec.slots:  # booked from joining on; nobody to ask yet
        await uow.slots.set(deal.id, spec.slots, spec.slot_seats)
    return deal


async def close_deal(
    uow: UnitOfWork, deal_id: int, reason: CloseReason, now: datetime
) -> Deal | None:
    """Close an open deal as formed or failed; None if it was not open (closing twice is harmless).

    The caller commits. Notices for the group and every participant are written to the outbox in
    the same transaction, so a crash after commit loses none of them.
    """
    if not await uow.deals.begin_change(deal_id):
        return None
    deal = await uow.deals.get(deal_id)
    if deal is None:
        return None
    if deal.payment_mode.invoiced:
        # Unpaid units are not sold: their hold ends with the deal, before counting the minimum.
        for order in await uow.orders.for_deal(deal_id):
            await lapse(uow, order.id, now, force=True)
    stats = await uow.deals.stats(deal_id)
    formed = minimum_reached(deal, stats)
    dst = DealStatus.CLOSED if formed else DealStatus.FAILED
    if not await uow.deals.move(deal_id, DealStatus.OPEN, dst, now, reason):
        return None
    orders = await uow.orders.for_deal(deal_id)
    group_kind = NoticeKind.DEAL_CLOSED if formed else NoticeKind.DEAL_FAILED
    each_kind = NoticeKind.PICKUP if formed else NoticeKind.ORDER_FAILED
    notices = [Notice(group_kind, deal.community_id, deal_id)]
    notices += [Notice(each_kind, o.user_id, deal_id, o.user_id) for o in orders]
    await uow.outbox.add(notices, now)
    if not formed:
        await refund_everyone(uow, deal, RefundReason.FAILED, now)
    elif any(i.tiers for i in deal.items):
        # The close fixes the tier (the counts are final: the deal is locked): whoever paid at
        # a dearer tier gets the difference back, one refund and one message each.
        await uow.deals.fix_prices(deal_id, {i.id: i.unit_price for i in deal.items if i.tiers})
        for order in orders:
            if await uow.payments.touched(order.id):
                await refund_excess(uow, deal, order.id, RefundReason.TIER, now)
    return await uow.deals.get(deal_id)


async def cancel_deal(uow: UnitOfWork, deal_id: int, now: datetime) -> Deal:
    if not await uow.deals.begin_change(deal_id):
        raise DomainError("deal_not_open")
    if not await uow.deals.move(deal_id, DealStatus.OPEN, DealStatus.CANCELLED, now, None):
        raise DomainError("deal_not_open")
    deal = await uow.deals.get(deal_id)
    assert deal is not None
    orders = await uow.orders.for_deal(deal_id)
    notices = [Notice(NoticeKind.DEAL_CANCELLED, deal.community_id, deal_id)]
    notices += [Notice(NoticeKind.ORDER_CANCELLED, o.user_id, deal_id, o.user_id) for o in orders]
    await uow.outbox.add(notices, now)
    await refund_everyone(uow, deal, RefundReason.CANCELLED, now)
    return deal


async def close_due(uow_factory: UnitOfWorkFactory, clock: Clock, batch: int = 50) -> list[int]:
    """Close every open deal whose deadline has passed; each in its own short transaction."""
    closed: list[int] = []
    async with uow_factory() as uow:
        due = await uow.deals.due(clock.now(), batch)
    for deal_id in due:
        async with uow_factory() as uow:
            if await close_deal(uow, deal_id, CloseReason.DEADLINE, clock.now()) is not None:
                await uow.commit()
                closed.append(deal_id)
    return closed


async def lapse_due(uow_factory: UnitOfWorkFactory, clock: Clock, batch: int = 100) -> list[int]:
    """Release the unpaid units of orders whose payment window has passed."""
    lapsed: list[int] = []
    async with uow_factory() as uow:
        due = await uow.orders.lapsing(clock.now(), batch)
    for order_id in due:
        async with uow_factory() as uow:
            if await lapse(uow, order_id, clock.now()):
                await uow.commit()
                lapsed.append(order_id)
    return lapsed


async def remind_payers(
    uow_factory: UnitOfWorkFactory, clock: Clock, lead: timedelta, batch: int = 100
) -> int:
    """A reminder to pay, once per hold, a little before the hold ends."""
    count = 0
    async with uow_factory() as uow:
        due = await uow.orders.pay_reminders_due(clock.now(), lead, batch)
    for order_id in due:
        async with uow_factory() as uow:
            order = await uow.orders.get(order_id)
            if order is None or order.pay_by is None:
                continue
            if not await uow.orders.claim_pay_reminder(order_id):
                continue
            ref = int(order.pay_by.timestamp())
            notice = Notice(
                NoticeKind.PAYMENT_REMINDER, order.user_id, order.deal_id, order.user_id, ref
            )
            await uow.outbox.add([notice], clock.now())
            await uow.commit()
            count += 1
    return count


async def send_reminders(
    uow_factory: UnitOfWorkFactory, clock: Clock, batch: int = 50
) -> list[int]:
    reminded: list[int] = []
    async with uow_factory() as uow:
        due = await uow.deals.reminders_due(clock.now(), batch)
    for deal_id in due:
        async with uow_factory() as uow:
            deal = await uow.deals.get(deal_id)
            if deal is None or not await uow.deals.claim_reminder(deal_id):
                continue
            await uow.outbox.add(
                [Notice(NoticeKind.DEADLINE_REMINDER, deal.community_id, deal_id)], clock.now()
            )
            await uow.commit()
            reminded.append(deal_id)
    return reminded
