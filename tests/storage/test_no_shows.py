"""groupbuy.no_shows: what the leader decides for an order nobody came for, with its goods,
money and the buyer's message, recorded once; on the fakes, SQLite and PostgreSQL, and by two
leaders at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from groupbuy.deals import close_deal
from groupbuy.errors import DomainError
from groupbuy.model import CloseReason, Deal, NoShowOutcome, Order, RefundReason, RefundStatus
from groupbuy.no_shows import Waiting, choices, decide, waiting_order
from groupbuy.notices import Notice, NoticeKind
from groupbuy.orders import hold_back, mark_picked_up
from groupbuy.payments import claim_paid, decide_claim
from groupbuy.ports import UnitOfWorkFactory
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import (
    change_committed,
    closed_with_buyers,
    community,
    deal_spec,
    item_spec,
    ledger,
    open_deal_committed,
)

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=2)
CHAT = community(-100777)
PAID, UNPAID = 1001, 1002  # closed_with_buyers: one Lychee each, cash at pickup


async def _deal(factory: UnitOfWorkFactory) -> Deal:
    """1001 says they paid the leader, and the leader confirms it; 1002 paid nothing."""
    deal = await closed_with_buyers(factory, T0, CHAT)
    async with factory() as uow:
        claim = await claim_paid(uow, deal, PAID, T0)
        await decide_claim(uow, claim.id, True, T0, timedelta(minutes=30))
        await uow.commit()
    return deal


async def _order(factory: UnitOfWorkFactory, deal: Deal, user: int) -> Order:
    async with factory() as uow:
        order = await uow.orders.of_user(deal.id, user)
    assert order is not None
    return order


async def _decide(
    factory: UnitOfWorkFactory, deal: Deal, user: int, outcome: NoShowOutcome, by: int = 7
) -> Waiting:
    order = await _order(factory, deal, user)
    async with factory() as uow:
        fresh = await uow.deals.get(deal.id)
        assert fresh is not None
        decided = await decide(uow, fresh, order, outcome, LATER, by)
        await uow.commit()
    return decided


async def _refused(
    factory: UnitOfWorkFactory, deal: Deal, user: int, outcome: NoShowOutcome
) -> DomainError:
    with pytest.raises(DomainError) as refused:
        await _decide(factory, deal, user, outcome)
    return refused.value


async def _notices(factory: UnitOfWorkFactory, *kinds: NoticeKind) -> list[Notice]:
    async with factory() as uow:
        pending = await uow.outbox.claim(LATER + timedelta(days=1), 1000, 60)
    return [p.notice for p in pending if p.notice.kind in kinds]


async def test_an_unpaid_order_not_collected_goes_to_the_spare(
    any_factory: UnitOfWorkFactory,
) -> None:
    deal = await _deal(any_factory)
    order = await _order(any_factory, deal, UNPAID)
    async with any_factory() as uow:
        waiting = await waiting_order(uow, deal, order)
    assert choices(waiting) == [NoShowOutcome.NOT_COLLECTED, NoShowOutcome.MOVED]
    # Nothing was paid: nothing to refund.
    assert (await _refused(any_factory, deal, UNPAID, NoShowOutcome.REFUNDED)).key == (
        "no_show_unpaid"
    )

    decided = await _decide(any_factory, deal, UNPAID, NoShowOutcome.NOT_COLLECTED)
    assert decided.to_come == {deal.items[0].id: 1}
    async with any_factory() as uow:
        after = await uow.orders.get(order.id)
        fresh = await uow.deals.get(deal.id)
        spare = await uow.deals.spare(deal.id)
        recorded = await uow.orders.no_shows(deal.id)
    assert after is not None and not after.active  # nothing is owed for it now
    assert fresh is not None and fresh.items[0].sold == deal.items[0].sold - 1
    assert spare == {deal.items[0].id: 1}
    assert recorded[order.id].outcome is NoShowOutcome.NOT_COLLECTED
    assert (recorded[order.id].at, recorded[order.id].by) == (LATER, 7)
    assert await _notices(any_factory, NoticeKind.NOT_COLLECTED) == [
        Notice(NoticeKind.NOT_COLLECTED, UNPAID, deal.id, UNPAID, order.id)
    ]
    # A second press, by anyone: what was decided, and nothing changes.
    for outcome in NoShowOutcome:
        again = await _refused(any_factory, deal, UNPAID, outcome)
        assert (again.key, again.params["outcome"]) == ("no_show_decided", "not_collected")
    async with any_factory() as uow:
        assert await uow.deals.spare(deal.id) == {deal.items[0].id: 1}
    _, refunds = await ledger(any_factory, deal.id)
    assert refunds == []


async def test_a_paid_order_is_kept_then_refunded(any_factory: UnitOfWorkFactory) -> None:
    deal = await _deal(any_factory)
    order = await _order(any_factory, deal, PAID)
    # Paid: money is never kept for goods not handed out.
    refused = await _refused(any_factory, deal, PAID, NoShowOutcome.NOT_COLLECTED)
    assert refused.key == "no_show_paid"

    await _decide(any_factory, deal, PAID, NoShowOutcome.MOVED)
    assert await _notices(any_factory, NoticeKind.KEPT_FOR_NEXT) == [
        Notice(NoticeKind.KEPT_FOR_NEXT, PAID, deal.id, PAID, order.id)
    ]
    again = await _refused(any_factory, deal, PAID, NoShowOutcome.MOVED)
    assert (again.key, again.params["outcome"]) == ("no_show_decided", "moved")
    async with any_factory() as uow:
        waiting = await waiting_order(uow, deal, order)
        assert await uow.deals.spare(deal.id) == {}  # kept: still the buyer's
    assert choices(waiting) == [NoShowOutcome.REFUNDED]

    # They did not come to the next pickup either: the money goes back.
    await _decide(any_factory, deal, PAID, NoShowOutcome.REFUNDED, by=8)
    payments, refunds = await ledger(any_factory, deal.id)
    [refund] = refunds
    assert (refund.order_id, refund.user_id, refund.amount) == (order.id, PAID, payments[0].amount)
    assert (refund.reason, refund.status) == (RefundReason.NO_SHOW, RefundStatus.OWED)
    async with any_factory() as uow:
        recorded = await uow.orders.no_shows(deal.id)
        assert await uow.payments.held(order.id) == 0
        assert await uow.deals.spare(deal.id) == {deal.items[0].id: 1}
    assert (recorded[order.id].outcome, recorded[order.id].by) == (NoShowOutcome.REFUNDED, 8)
    assert await _notices(any_factory, NoticeKind.REFUND_OWED) == [
        Notice(NoticeKind.REFUND_OWED, PAID, deal.id, PAID, refund.id)
    ]
    done = await _refused(any_factory, deal, PAID, NoShowOutcome.REFUNDED)
    assert (done.key, done.params["outcome"]) == ("no_show_decided", "refunded")


async def test_the_held_back_lines_of_a_partial_pickup_are_refunded(
    any_factory: UnitOfWorkFactory,
) -> None:
    """Handed out in part, the cash taken at the table: what never came is refunded, what
    was handed out stays paid."""
    spec = deal_spec(
        T0 + timedelta(days=1),
        item_spec("Lychee", price=1000, stock=50, limit=None),
        item_spec("Mango", price=2500, stock=50, limit=None),
    )
    deal = await open_deal_committed(any_factory, T0, spec, CHAT)
    lychee, mango = deal.items
    await change_committed(any_factory, T0, deal.id, lychee.id, PAID, 2)
    await change_committed(any_factory, T0, deal.id, mango.id, PAID, 1)
    async with any_factory() as uow:
        closed = await close_deal(uow, deal.id, CloseReason.LEADER, T0)
        order = await uow.orders.of_user(deal.id, PAID)
        assert closed is not None and order is not None
        picked = await mark_picked_up(uow, CHAT.chat_id, order.code, T0, by=7)
        await uow.commit()
    assert picked.collected == 4500
    handed = await _order(any_factory, deal, PAID)
    async with any_factory() as uow:
        await hold_back(uow, closed, handed, mango.id, T0)
        await uow.commit()
    assert (await _refused(any_factory, closed, PAID, NoShowOutcome.NOT_COLLECTED)).key == (
        "no_show_paid"
    )
    decided = await _decide(any_factory, closed, PAID, NoShowOutcome.REFUNDED)
    assert decided.partly and decided.to_come == {mango.id: 1}
    _, refunds = await ledger(any_factory, deal.id)
    assert [r.amount for r in refunds] == [2500]
    after = await _order(any_factory, deal, PAID)
    assert (after.quantity(lychee.id), after.quantity(mango.id)) == (2, 0)
    async with any_factory() as uow:
        assert await uow.orders.held_back(order.id) == {}
        assert await uow.payments.held(order.id) == 2000  # the lychees, handed out and paid
        assert await uow.deals.spare(deal.id) == {mango.id: 1}
    # Nothing of it is to come now.
    nothing = await _refused(any_factory, closed, PAID, NoShowOutcome.MOVED)
    assert nothing.key == "no_show_decided"


async def test_an_order_handed_out_or_of_an_open_deal_is_refused(
    any_factory: UnitOfWorkFactory,
) -> None:
    deal = await _deal(any_factory)
    handed = await _refused(any_factory, deal, 1004, NoShowOutcome.NOT_COLLECTED)
    assert handed.key == "no_show_nothing_to_come"
    cancelled = await _refused(any_factory, deal, 1003, NoShowOutcome.MOVED)
    assert cancelled.key == "no_show_nothing_to_come"
    still_open = await closed_with_buyers(any_factory, T0, community(-100778), close=False)
    refused = await _refused(any_factory, still_open, UNPAID, NoShowOutcome.NOT_COLLECTED)
    assert refused.key == "deal_not_closed"


async def test_two_leaders_refunding_at_once_refund_once(sql_factory: SqlUnitOfWorkFactory) -> None:
    deal = await _deal(sql_factory)
    results = await asyncio.gather(
        *(_decide(sql_factory, deal, PAID, NoShowOutcome.REFUNDED, by) for by in (7, 8)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1 and refused[0].key == "no_show_decided"
    payments, refunds = await ledger(sql_factory, deal.id)
    assert [r.amount for r in refunds] == [payments[0].amount]
    async with sql_factory() as uow:
        assert await uow.deals.spare(deal.id) == {deal.items[0].id: 1}
    assert len(await _notices(sql_factory, NoticeKind.REFUND_OWED)) == 1
