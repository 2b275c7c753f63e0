"""Use cases of a deal's life: open it, close it (deadline, sold out, leader), cancel it, remind."""

from __future__ import annotations

from datetime import datetime, timedelta

from groupbuy.allotment import Allocation, Cut, plan
from groupbuy.allotment import cut as cut_orders
from groupbuy.cases import to_cut
from groupbuy.clock import Clock
from groupbuy.errors import DomainError
from groupbuy.model import (
    CaseRule,
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
from groupbuy.reorder import tell_watchers


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
    await tell_watchers(uow, community.chat_id, deal.id, spec, now)
    return deal


async def close_deal(
    uow: UnitOfWork, deal_id: int, reason: CloseReason, now: datetime, *, due: bool = False
) -> Deal | None:
    """Close an open deal as formed or failed; None if it was not open (closing twice is harmless)
    or, for the sweep (`due`), if its deadline moved past `now` since it was found due (kept
    open to fill its cases by another sweep).

    The caller commits. Notices for the group and every participant are written to the outbox in
    the same transaction, so a crash after commit loses none of them.
    """
    if not await uow.deals.begin_change(deal_id):
        return None
    deal = await uow.deals.get(deal_id)
    if deal is None:
        return None
    if due and deal.deadline > now:
        return None  # kept open meanwhile (by another sweep, under this lock): not due now
    if reason is CloseReason.DEADLINE and deal.case_rule is CaseRule.WAIT and to_cut(deal):
        # A case not full yet: open a few more hours, once, and say so in the group.
        until = now + timedelta(hours=deal.case_wait)
        await uow.deals.wait_for_cases(deal_id, until)
        ref = int(until.timestamp())
        await uow.outbox.add(
            [Notice(NoticeKind.CASE_WAIT, deal.community_id, deal_id, ref=ref)], now
        )
        return None
    if deal.payment_mode.invoiced:
        # Unpaid units are not sold: their hold ends with the deal, before counting the minimum.
        for order in await uow.orders.for_deal(deal_id):
            await lapse(uow, order.id, now, force=True)
    joined = await uow.orders.for_deal(deal_id)
    cut: list[Cut] = []
    if any(i.case_size for i in deal.items):
        # Whole cases: a last case not full is cut before the minimum is counted (the supplier
        # ships only the full ones), the latest orders first.
        deal = await uow.deals.get(deal_id) or deal  # the lapses gave units back
        kept = {item.id: item.sold - units for item, units in to_cut(deal)}
        if kept:
            cut = await cut_orders(uow, plan(deal, joined, kept, Allocation.JOIN_ORDER))
            deal = await uow.deals.get(deal_id) or deal
    stats = await uow.deals.stats(deal_id)
    formed = minimum_reached(deal, stats)
    dst = DealStatus.CLOSED if formed else DealStatus.FAILED
    if not await uow.deals.move(deal_id, DealStatus.OPEN, dst, now, reason):
        return None
    # A failed deal tells everyone who joined; a formed one those with units left to collect.
    orders = await uow.orders.for_deal(deal_id) if formed and cut else joined
    group_kind = NoticeKind.DEAL_CLOSED if formed else NoticeKind.DEAL_FAILED
    each_kind = NoticeKind.PICKUP if formed else NoticeKind.ORDER_FAILED
    notices = [Notice(group_kind, deal.community_id, deal_id)]
    notices += [Notice(each_kind, o.user_id, deal_id, o.user_id) for o in orders]
    if formed:  # one message per item and order cut (as a shortfall's)
        notices += [
            Notice(
                NoticeKind.CASE_CUT,
                c.order.user_id,
                deal_id,
                c.order.user_id,
                c.item.id * 1_000_000 + c.order.id,
            )
            for c in cut
        ]
    await uow.outbox.add(notices, now)
    if not formed:
        await refund_everyone(uow, deal, RefundReason.FAILED, now)
        return await uow.deals.get(deal_id)
    if any(i.tiers for i in deal.items):
        # The close fixes the tier (the counts are final: the deal is locked), after the cuts.
        await uow.deals.fix_prices(deal_id, {i.id: i.unit_price for i in deal.items if i.tiers})
        deal = await uow.deals.get(deal_id) or deal
    # Whoever paid for units cut, or at a dearer tier, gets the difference back: one refund
    # and one message each (a Stars buyer is refunded whole and billed again for the rest).
    cut_ids = {c.order.id for c in cut}
    tiered = any(i.tiers for i in deal.items)
    community = await uow.communities.get(deal.community_id) if cut else None
    window = timedelta(minutes=community.payment_window_minutes if community else 30)
    for order in joined:
        if order.id in cut_ids:
            await refund_excess(uow, deal, order.id, RefundReason.CASE, now, rebill=window)
        elif tiered and await uow.payments.touched(order.id):
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
            done = await close_deal(uow, deal_id, CloseReason.DEADLINE, clock.now(), due=True)
            await uow.commit()  # closed, or kept open a few hours to fill its cases
            if done is not None:
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
