"""The payment parts of the repositories (holds, invoices, the ledger, the outbox's ref), on SQLite,
on PostgreSQL (TEST_DATABASE_URL) and on the fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from groupbuy.model import (
    DealStats,
    DealStatus,
    OrderLine,
    PaymentMethod,
    PaymentMode,
    PaymentStatus,
    RefundReason,
    RefundStatus,
)
from groupbuy.notices import Notice, NoticeKind
from groupbuy.ports import UnitOfWork, UnitOfWorkFactory
from tests.fakes import FakeIntegrityError, community, deal_spec, item_spec

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
CST = timezone(timedelta(hours=8))
CHAT = community(-100777)


async def _deal(
    f: UnitOfWorkFactory,
    mode: PaymentMode = PaymentMode.ONLINE,
    deadline: datetime = T0 + timedelta(days=1),
) -> tuple[int, int, int]:
    """A deal with two items; returns (deal id, apples id, pears id)."""
    async with f() as uow:
        if await uow.communities.get(CHAT.chat_id) is None:
            await uow.communities.save(CHAT)
        spec = deal_spec(
            deadline,
            item_spec("Apples", price=1250, stock=10, limit=None),
            item_spec("Pears", price=800, stock=10, limit=None),
        )
        deal = await uow.deals.add(CHAT.chat_id, 7, "CNY", spec, T0, None, mode)
        await uow.commit()
    return deal.id, deal.items[0].id, deal.items[1].id


async def _order(uow: UnitOfWork, deal_id: int, user_id: int, *lines: tuple[int, int]) -> int:
    order = await uow.orders.open_order(deal_id, CHAT.chat_id, user_id, T0)
    for item_id, quantity in lines:
        assert await uow.orders.change_line(order.id, item_id, quantity, None) is not None
    return order.id


async def _pay(
    uow: UnitOfWork,
    order_id: int,
    deal_id: int,
    amount: int,
    *,
    charge: str | None = None,
    status: PaymentStatus = PaymentStatus.RECEIVED,
    method: PaymentMethod = PaymentMethod.TELEGRAM,
    user_id: int = 1,
) -> int:
    payment = await uow.payments.add(
        order_id=order_id,
        deal_id=deal_id,
        user_id=user_id,
        method=method,
        status=status,
        amount=amount,
        currency="CNY",
        now=T0,
        charge_id=charge,
    )
    assert payment is not None
    return payment.id


# ---- deals ---------------------------------------------------------------------------------


async def test_a_deal_keeps_its_payment_mode(any_factory: UnitOfWorkFactory) -> None:
    ids = {mode: (await _deal(any_factory, mode))[0] for mode in PaymentMode}
    async with any_factory() as uow:
        await uow.communities.save(CHAT)
        default = await uow.deals.add(
            CHAT.chat_id, 7, "CNY", deal_spec(T0 + timedelta(days=1)), T0, None
        )
        await uow.commit()
    async with any_factory() as uow:
        for mode, deal_id in ids.items():
            deal = await uow.deals.get(deal_id)
            assert deal is not None and deal.payment_mode is mode
        again = await uow.deals.get(default.id)
        assert again is not None and again.payment_mode is PaymentMode.CASH


async def test_community_payment_settings(any_factory: UnitOfWorkFactory) -> None:
    from dataclasses import replace

    stars = replace(CHAT, payment_mode=PaymentMode.STARS, payment_window_minutes=45)
    async with any_factory() as uow:
        await uow.communities.save(CHAT)
        assert await uow.communities.get(CHAT.chat_id) == CHAT
        await uow.communities.save(stars)
        await uow.commit()
    async with any_factory() as uow:
        assert await uow.communities.get(CHAT.chat_id) == stars


async def test_claim_unpaid_reminder_once_per_period(any_factory: UnitOfWorkFactory) -> None:
    deal_id, _, _ = await _deal(any_factory)
    hour = timedelta(hours=1)
    async with any_factory() as uow:
        assert await uow.deals.claim_unpaid_reminder(deal_id, T0, hour)
        assert not await uow.deals.claim_unpaid_reminder(deal_id, T0, hour)
        assert not await uow.deals.claim_unpaid_reminder(deal_id, T0 + hour / 2, hour)
        assert not await uow.deals.claim_unpaid_reminder(deal_id + 1000, T0, hour)
        await uow.commit()
    async with any_factory() as uow:
        assert not await uow.deals.claim_unpaid_reminder(deal_id, T0 + hour / 2, hour)
        assert await uow.deals.claim_unpaid_reminder(deal_id, T0 + hour, hour)
        assert not await uow.deals.claim_unpaid_reminder(deal_id, T0 + hour * 1.5, hour)
        await uow.commit()


async def test_stats_count_paid_orders(any_factory: UnitOfWorkFactory) -> None:
    deal_id, apples, pears = await _deal(any_factory)
    async with any_factory() as uow:
        a = await _order(uow, deal_id, 1, (apples, 2), (pears, 1))
        b = await _order(uow, deal_id, 2, (apples, 1))
        await _order(uow, deal_id, 3)  # empty: not counted at all
        assert await uow.deals.stats(deal_id) == DealStats(2, 4, 0)
        await uow.orders.cover(b)
        assert await uow.deals.stats(deal_id) == DealStats(2, 4, 1)
        await uow.orders.cover(a)
        assert await uow.deals.stats(deal_id) == DealStats(2, 4, 2)
        assert (
            await uow.orders.change_line(a, pears, 1, None) is not None
        )  # a unit not paid for yet
        assert await uow.deals.stats(deal_id) == DealStats(2, 5, 1)
        assert await uow.orders.change_line(a, pears, -1, None) is not None
        assert (
            await uow.orders.change_line(b, apples, -1, None) is not None
        )  # emptied, paid_quantity 1
        assert await uow.deals.stats(deal_id) == DealStats(1, 3, 1)
        await uow.commit()


# ---- orders: paid units, holds, reminders, invoices wanted -------------------------------------


async def test_paid_quantities(any_factory: UnitOfWorkFactory) -> None:
    deal_id, apples, pears = await _deal(any_factory)
    async with any_factory() as uow:
        order_id = await _order(uow, deal_id, 1, (apples, 3), (pears, 2))
        await uow.commit()
    async with any_factory() as uow:
        got = await uow.orders.get(order_id)
        assert got is not None
        assert got.lines == (OrderLine(apples, 3, 0), OrderLine(pears, 2, 0))
        assert await uow.orders.revert_to_paid(order_id) == [(apples, 3), (pears, 2)]
        got = await uow.orders.get(order_id)
        assert got is not None and got.total_quantity == 0
        assert await uow.orders.change_line(order_id, apples, 3, None) is not None
        assert await uow.orders.change_line(order_id, pears, 2, None) is not None
        await uow.orders.cover(order_id)
        assert await uow.orders.change_line(order_id, apples, 1, None) is not None
        assert await uow.orders.change_line(order_id, pears, -1, None) is not None
        got = await uow.orders.get(order_id)
        assert got is not None
        assert got.lines == (OrderLine(apples, 4, 3), OrderLine(pears, 1, 2))
        await uow.orders.cap_paid(order_id)
        got = await uow.orders.get(order_id)
        assert got is not None
        assert got.lines == (OrderLine(apples, 4, 3), OrderLine(pears, 1, 1))
        assert await uow.orders.revert_to_paid(order_id) == [(apples, 1)]
        assert await uow.orders.revert_to_paid(order_id) == []
        await uow.commit()
    async with any_factory() as uow:
        got = await uow.orders.get(order_id)
        assert got is not None
        assert got.lines == (OrderLine(apples, 3, 3), OrderLine(pears, 1, 1))
        await uow.orders.uncover(order_id)
        got = await uow.orders.get(order_id)
        assert got is not None
        assert got.lines == (OrderLine(apples, 3, 0), OrderLine(pears, 1, 0))
        await uow.orders.cover(order_id + 1000)  # no such order: nothing happens
        await uow.orders.uncover(order_id + 1000)
        assert await uow.orders.revert_to_paid(order_id + 1000) == []


async def test_holds_lapse_only_in_deals_that_take_money(any_factory: UnitOfWorkFactory) -> None:
    """Open deals, and closed ones (a Stars shortfall re-invoices what arrived); not a deal
    that failed or was cancelled."""
    deal_id, apples, _ = await _deal(any_factory)
    closed_id, closed_apples, _ = await _deal(any_factory)
    later = datetime(2026, 6, 1, 12, 30, tzinfo=CST)  # 04:30 UTC
    async with any_factory() as uow:
        first = await _order(uow, deal_id, 1, (apples, 1))
        second = await _order(uow, deal_id, 2, (apples, 1))
        third = await _order(uow, deal_id, 3, (apples, 1))
        elsewhere = await _order(uow, closed_id, 1, (closed_apples, 1))
        assert await uow.orders.lapsing(T0 + timedelta(days=1), 10) == []
        await uow.orders.set_pay_by(first, later)
        await uow.orders.set_pay_by(second, T0 + timedelta(minutes=10))
        await uow.orders.set_pay_by(third, T0 + timedelta(minutes=10))
        await uow.orders.set_pay_by(elsewhere, T0)
        assert await uow.deals.move(closed_id, DealStatus.OPEN, DealStatus.FAILED, T0, None)
        await uow.commit()
    async with any_factory() as uow:
        got = await uow.orders.get(first)
        assert got is not None and got.pay_by == later and got.pay_by.utcoffset() == timedelta(0)
        assert await uow.orders.lapsing(T0 + timedelta(minutes=10) - timedelta(seconds=1), 10) == []
        assert await uow.orders.lapsing(T0 + timedelta(minutes=10), 10) == [second, third]
        assert await uow.orders.lapsing(T0 + timedelta(hours=1), 10) == [second, third, first]
        assert await uow.orders.lapsing(T0 + timedelta(hours=1), 1) == [second]
        await uow.orders.set_pay_by(second, None)
        got = await uow.orders.get(second)
        assert got is not None and got.pay_by is None
        assert await uow.orders.lapsing(T0 + timedelta(hours=1), 10) == [third, first]


async def test_pay_reminders_once_per_hold(any_factory: UnitOfWorkFactory) -> None:
    deal_id, apples, _ = await _deal(any_factory)
    lead = timedelta(minutes=10)
    pay_by = T0 + timedelta(minutes=30)
    async with any_factory() as uow:
        order_id = await _order(uow, deal_id, 1, (apples, 1))
        other = await _order(uow, deal_id, 2, (apples, 1))
        await uow.orders.set_pay_by(order_id, pay_by)
        await uow.commit()
    async with any_factory() as uow:
        assert (
            await uow.orders.pay_reminders_due(pay_by - lead - timedelta(seconds=1), lead, 9) == []
        )
        assert await uow.orders.pay_reminders_due(pay_by - lead, lead, 9) == [order_id]
        assert await uow.orders.pay_reminders_due(pay_by, lead, 9) == []  # the hold has ended
        assert await uow.orders.claim_pay_reminder(order_id)
        assert not await uow.orders.claim_pay_reminder(order_id)
        assert await uow.orders.pay_reminders_due(pay_by - lead, lead, 9) == []
        await uow.commit()
    async with any_factory() as uow:
        assert not await uow.orders.claim_pay_reminder(order_id)
        # a new hold re-arms the reminder
        await uow.orders.set_pay_by(order_id, pay_by + timedelta(minutes=5))
        await uow.orders.set_pay_by(other, pay_by)
        assert await uow.orders.pay_reminders_due(pay_by, lead, 9) == [order_id]
        assert await uow.orders.pay_reminders_due(pay_by - lead, lead, 9) == [other]
        assert await uow.orders.pay_reminders_due(pay_by - timedelta(minutes=1), lead, 1) == [other]
        assert await uow.orders.claim_pay_reminder(order_id)
        assert not await uow.orders.claim_pay_reminder(order_id + 1000)
        assert await uow.deals.move(deal_id, DealStatus.OPEN, DealStatus.FAILED, T0, None)
        assert await uow.orders.pay_reminders_due(pay_by - lead, lead, 9) == []


async def test_invoices_wanted_coalesce(any_factory: UnitOfWorkFactory) -> None:
    deal_id, apples, _ = await _deal(any_factory)
    async with any_factory() as uow:
        a = await _order(uow, deal_id, 1, (apples, 1))
        b = await _order(uow, deal_id, 2, (apples, 1))
        assert await uow.orders.invoices_wanted(10) == []
        await uow.orders.want_invoice(b)
        await uow.orders.want_invoice(a)
        await uow.orders.want_invoice(a)
        await uow.commit()
    async with any_factory() as uow:
        assert await uow.orders.invoices_wanted(10) == [(a, 2), (b, 1)]
        assert await uow.orders.invoices_wanted(1) == [(a, 2)]
        await uow.orders.invoice_issued(a, 1)  # an older version: a is still wanted
        assert await uow.orders.invoices_wanted(10) == [(a, 2), (b, 1)]
        await uow.orders.invoice_issued(a, 2)
        await uow.orders.invoice_issued(a, 1)  # never goes back
        assert await uow.orders.invoices_wanted(10) == [(b, 1)]
        await uow.orders.want_invoice(a)
        assert await uow.orders.invoices_wanted(10) == [(a, 3), (b, 1)]
        await uow.commit()


# ---- the ledger ----------------------------------------------------------------------------


async def test_payments_and_duplicate_charges(any_factory: UnitOfWorkFactory) -> None:
    deal_id, apples, _ = await _deal(any_factory)
    async with any_factory() as uow:
        order_id = await _order(uow, deal_id, 1, (apples, 2))
        payment = await uow.payments.add(
            order_id=order_id,
            deal_id=deal_id,
            user_id=1,
            method=PaymentMethod.TELEGRAM,
            status=PaymentStatus.RECEIVED,
            amount=2500,
            currency="CNY",
            now=datetime(2026, 6, 1, 12, 0, tzinfo=CST),
            charge_id="tg-1",
            provider_charge_id="ch_1",
        )
        assert payment is not None
        assert (payment.order_id, payment.deal_id, payment.user_id) == (order_id, deal_id, 1)
        assert (payment.amount, payment.currency, payment.method) == (
            2500,
            "CNY",
            PaymentMethod.TELEGRAM,
        )
        assert (payment.charge_id, payment.provider_charge_id) == ("tg-1", "ch_1")
        assert payment.status is PaymentStatus.RECEIVED and payment.photo_file_id is None
        assert payment.created_at == T0 and payment.created_at.utcoffset() == timedelta(0)
        # the same charge again, in the same transaction: nothing new
        again = await uow.payments.add(
            order_id=order_id,
            deal_id=deal_id,
            user_id=1,
            method=PaymentMethod.TELEGRAM,
            status=PaymentStatus.RECEIVED,
            amount=2500,
            currency="CNY",
            now=T0,
            charge_id="tg-1",
        )
        assert again is None
        await uow.commit()
    async with any_factory() as uow:
        assert await _pay(uow, order_id, deal_id, 1, charge=None) > payment.id
        assert await _pay(uow, order_id, deal_id, 1, charge=None)  # no charge id: never a clash
        dup = await uow.payments.add(
            order_id=order_id,
            deal_id=deal_id,
            user_id=1,
            method=PaymentMethod.TELEGRAM,
            status=PaymentStatus.RECEIVED,
            amount=5,
            currency="CNY",
            now=T0,
            charge_id="tg-1",
        )
        assert dup is None
        assert await uow.payments.get(payment.id) == payment
        assert await uow.payments.get(payment.id + 1000) is None
        assert await uow.payments.by_charge("tg-1") == payment
        assert await uow.payments.by_charge("tg-2") is None
        assert [p.amount for p in await uow.payments.for_order(order_id)] == [2500, 1, 1]
        assert [p.amount for p in await uow.payments.for_deal(deal_id)] == [2500, 1, 1]
        assert await uow.payments.for_order(order_id + 1000) == []
        assert await uow.payments.for_deal(deal_id + 1000) == []


async def test_amounts_must_be_positive(any_factory: UnitOfWorkFactory) -> None:
    deal_id, apples, _ = await _deal(any_factory)
    async with any_factory() as uow:
        order_id = await _order(uow, deal_id, 1, (apples, 1))
        await uow.commit()
    with pytest.raises((IntegrityError, FakeIntegrityError)):
        async with any_factory() as uow:
            await _pay(uow, order_id, deal_id, 0)
            await uow.commit()
    with pytest.raises((IntegrityError, FakeIntegrityError)):
        async with any_factory() as uow:
            await uow.payments.add_refund(
                order_id=order_id,
                deal_id=deal_id,
                user_id=1,
                payment_id=None,
                amount=-5,
                currency="CNY",
                method=PaymentMethod.TELEGRAM,
                reason=RefundReason.REDUCED,
                now=T0,
            )
            await uow.commit()
    async with any_factory() as uow:
        assert await uow.payments.for_order(order_id) == []
        assert await uow.payments.refunds_for_order(order_id) == []


async def test_claims_are_decided_once(any_factory: UnitOfWorkFactory) -> None:
    deal_id, apples, _ = await _deal(any_factory, PaymentMode.LEADER)
    async with any_factory() as uow:
        order_id = await _order(uow, deal_id, 1, (apples, 1))
        kept = await _pay(
            uow,
            order_id,
            deal_id,
            1250,
            status=PaymentStatus.CLAIMED,
            method=PaymentMethod.TRANSFER,
        )
        turned = await _pay(
            uow,
            order_id,
            deal_id,
            1250,
            status=PaymentStatus.CLAIMED,
            method=PaymentMethod.TRANSFER,
        )
        await uow.payments.attach_photo(kept, "photo-1")
        assert await uow.payments.held(order_id) == 0  # a claim is not money received
        await uow.commit()
    async with any_factory() as uow:
        got = await uow.payments.get(kept)
        assert got is not None and got.photo_file_id == "photo-1"
        assert got.status is PaymentStatus.CLAIMED
        assert await uow.payments.decide(kept, PaymentStatus.RECEIVED, T0)
        assert not await uow.payments.decide(kept, PaymentStatus.REJECTED, T0)
        assert await uow.payments.decide(turned, PaymentStatus.REJECTED, T0)
        assert not await uow.payments.decide(turned, PaymentStatus.RECEIVED, T0)
        assert not await uow.payments.decide(kept + 1000, PaymentStatus.RECEIVED, T0)
        await uow.commit()
    async with any_factory() as uow:
        statuses = [p.status for p in await uow.payments.for_order(order_id)]
        assert statuses == [PaymentStatus.RECEIVED, PaymentStatus.REJECTED]
        assert await uow.payments.held(order_id) == 1250


async def test_refunds_and_what_is_held(any_factory: UnitOfWorkFactory) -> None:
    deal_id, apples, pears = await _deal(any_factory, PaymentMode.STARS)
    other_deal, other_apples, _ = await _deal(any_factory, PaymentMode.STARS)
    async with any_factory() as uow:
        a = await _order(uow, deal_id, 1, (apples, 2))
        b = await _order(uow, deal_id, 2, (pears, 1))
        c = await _order(uow, deal_id, 3, (pears, 1))
        elsewhere = await _order(uow, other_deal, 1, (other_apples, 1))
        pa = await _pay(uow, a, deal_id, 2500, charge="s-a", method=PaymentMethod.STARS)
        await _pay(uow, b, deal_id, 800, charge="s-b", method=PaymentMethod.STARS)
        await _pay(uow, b, deal_id, 800, status=PaymentStatus.CLAIMED)  # not counted
        await _pay(uow, elsewhere, other_deal, 1250, charge="s-e", method=PaymentMethod.STARS)
        assert await uow.payments.held(a) == 2500
        assert await uow.payments.held(c) == 0
        assert await uow.payments.held_by_order(deal_id) == {a: 2500, b: 800}
        refund = await uow.payments.add_refund(
            order_id=a,
            deal_id=deal_id,
            user_id=1,
            payment_id=pa,
            amount=2500,
            currency="XTR",
            method=PaymentMethod.STARS,
            reason=RefundReason.FAILED,
            now=datetime(2026, 6, 1, 12, 0, tzinfo=CST),
        )
        assert (refund.order_id, refund.deal_id, refund.user_id, refund.payment_id) == (
            a,
            deal_id,
            1,
            pa,
        )
        assert (refund.amount, refund.currency, refund.method) == (2500, "XTR", PaymentMethod.STARS)
        assert refund.status is RefundStatus.OWED and refund.reason is RefundReason.FAILED
        assert refund.created_at == T0 and refund.done_at is None
        by_hand = await uow.payments.add_refund(
            order_id=b,
            deal_id=deal_id,
            user_id=2,
            payment_id=None,
            amount=300,
            currency="CNY",
            method=PaymentMethod.TELEGRAM,
            reason=RefundReason.REDUCED,
            now=T0,
        )
        await uow.commit()
    async with any_factory() as uow:
        # refunds count against what is held whether owed or done
        assert await uow.payments.held(a) == 0
        assert await uow.payments.held(b) == 500
        assert await uow.payments.held_by_order(deal_id) == {a: 0, b: 500}
        assert await uow.payments.held_by_order(other_deal) == {elsewhere: 1250}
        assert await uow.payments.refund(refund.id) == refund
        assert await uow.payments.refund(refund.id + 1000) is None
        assert await uow.payments.refunds_for_order(a) == [refund]
        assert await uow.payments.refunds_for_deal(deal_id) == [refund, by_hand]
        assert await uow.payments.refunds_for_deal(other_deal) == []
        assert await uow.payments.owed_star_refunds(10) == [refund]
        assert await uow.payments.owed_star_refunds(0) == []
        done_at = datetime(2026, 6, 1, 13, 0, tzinfo=CST)
        assert await uow.payments.refund_done(refund.id, done_at)
        assert not await uow.payments.refund_done(refund.id, done_at)
        assert not await uow.payments.refund_done(refund.id + 1000, done_at)
        await uow.commit()
    async with any_factory() as uow:
        got = await uow.payments.refund(refund.id)
        assert got is not None and got.status is RefundStatus.DONE
        assert got.done_at == done_at and got.done_at.utcoffset() == timedelta(0)
        assert await uow.payments.owed_star_refunds(10) == []
        assert await uow.payments.held(a) == 0


async def test_invoices(any_factory: UnitOfWorkFactory) -> None:
    deal_id, apples, _ = await _deal(any_factory)
    async with any_factory() as uow:
        order_id = await _order(uow, deal_id, 1, (apples, 2))
        other = await _order(uow, deal_id, 2, (apples, 1))
        first = await uow.payments.add_invoice("tok-1", order_id, deal_id, 1, 2500, "CNY", T0)
        assert (first.token, first.order_id, first.deal_id, first.user_id) == (
            "tok-1",
            order_id,
            deal_id,
            1,
        )
        assert (first.amount, first.currency, first.open, first.message_id) == (
            2500,
            "CNY",
            True,
            None,
        )
        await uow.payments.add_invoice("tok-2", order_id, deal_id, 1, 2500, "CNY", T0)
        await uow.payments.add_invoice("tok-o", other, deal_id, 2, 1250, "CNY", T0)
        await uow.payments.set_invoice_message("tok-1", 501)
        await uow.payments.set_invoice_message("tok-2", 502)
        await uow.payments.set_invoice_message("tok-o", 503)
        await uow.commit()
    async with any_factory() as uow:
        got = await uow.payments.invoice("tok-1")
        assert got is not None and got.message_id == 501 and got.open
        assert await uow.payments.invoice("nope") is None
        assert await uow.payments.invoice("x" * 500) is None  # a forged, overlong payload
        assert await uow.payments.invoice_messages(order_id) == []  # open ones are alive
        voided = await uow.payments.void_invoices(order_id)
        assert sorted(i.token for i in voided) == ["tok-1", "tok-2"]
        assert await uow.payments.void_invoices(order_id) == []
        assert not await uow.payments.pay_invoice("tok-1")  # void: cannot be paid
        assert sorted(await uow.payments.invoice_messages(order_id)) == [
            ("tok-1", 501),
            ("tok-2", 502),
        ]
        await uow.payments.forget_invoice_message("tok-1")
        assert await uow.payments.invoice_messages(order_id) == [("tok-2", 502)]
        got = await uow.payments.invoice("tok-2")
        assert got is not None and not got.open
        # paying: once, and the paid invoice's message stays in the chat
        assert await uow.payments.pay_invoice("tok-o")
        assert not await uow.payments.pay_invoice("tok-o")
        assert not await uow.payments.pay_invoice("nope")
        got = await uow.payments.invoice("tok-o")
        assert got is not None and not got.open and got.message_id is None
        assert await uow.payments.invoice_messages(other) == []
        await uow.commit()
    async with any_factory() as uow:
        assert await uow.payments.invoice_messages(order_id) == [("tok-2", 502)]


# ---- the outbox's ref ----------------------------------------------------------------------


async def test_outbox_is_unique_per_ref(any_factory: UnitOfWorkFactory) -> None:
    receipts = [Notice(NoticeKind.PAYMENT_RECEIPT, 11, 1, 11, ref) for ref in (5, 6)]
    async with any_factory() as uow:
        await uow.outbox.add([*receipts, receipts[0]], T0)
        await uow.commit()
    async with any_factory() as uow:
        await uow.outbox.add([receipts[1], Notice(NoticeKind.PAYMENT_RECEIPT, 11, 1, 11, 7)], T0)
        await uow.commit()
    async with any_factory() as uow:
        claimed = await uow.outbox.claim(T0, 100, 60)
    assert [p.notice for p in claimed] == [
        *receipts,
        Notice(NoticeKind.PAYMENT_RECEIPT, 11, 1, 11, 7),
    ]
    assert [p.notice.ref for p in claimed] == [5, 6, 7]
