"""Money is credited only when it is exactly what the invoice asked, from the order's resident;
anything else is recorded, refunded to whoever paid, and the order stays payable. A Stars
shortfall keeps the units that did arrive and bills them afresh."""

from __future__ import annotations

from datetime import timedelta

import pytest

from groupbuy.deals import close_deal, lapse_due
from groupbuy.errors import DomainError
from groupbuy.model import (
    CloseReason,
    DealStatus,
    PaymentMethod,
    PaymentMode,
    PaymentStatus,
    RefundReason,
    RefundStatus,
)
from groupbuy.notices import Notice, NoticeKind
from groupbuy.orders import mark_picked_up
from groupbuy.shortfall import record_shortfall
from tests.fakes import invoice_committed, ledger, pay_committed
from tests.unit.test_payments import ALICE, APPLE, INVOICED, WINDOW, Shop, shop

__all__ = ["shop"]  # the fixture, used by name
MALLORY = 666


def _method(mode: PaymentMode) -> PaymentMethod:
    return PaymentMethod.STARS if mode is PaymentMode.STARS else PaymentMethod.TELEGRAM


@pytest.mark.parametrize("mode", INVOICED)
@pytest.mark.parametrize("wrong", ["payer", "amount_less", "amount_more", "currency"])
async def test_a_payment_that_is_not_exactly_the_invoice_is_refunded_and_the_order_stays_payable(
    shop: Shop, mode: PaymentMode, wrong: str
) -> None:
    await shop.open(mode)
    await shop.add(ALICE, 2)
    token, due = await shop.invoice(ALICE)
    payer, amount, currency = ALICE, due, shop.currency
    if wrong == "payer":
        payer = MALLORY
    elif wrong == "amount_less":
        amount = due - 1
    elif wrong == "amount_more":
        amount = due + 1
    else:
        currency = "USD" if shop.currency != "USD" else "EUR"
    got = await pay_committed(shop.f, shop.clock.now(), token, payer, amount, currency, "odd-1")
    assert got.payment is not None and not got.applied
    payments, [refund] = await ledger(shop.f, shop.deal.id)
    assert [(p.charge_id, p.user_id, p.amount) for p in payments] == [("odd-1", payer, amount)]
    # Back to whoever paid, with a reason; Stars go back through the Bot API, a card by hand.
    assert (refund.user_id, refund.payment_id, refund.amount, refund.currency) == (
        payer,
        got.payment.id,
        amount,
        currency,
    )
    assert (refund.method, refund.status, refund.reason) == (
        _method(mode),
        RefundStatus.OWED,
        RefundReason.MISMATCH,
    )
    assert shop.notices(NoticeKind.REFUND_OWED) == [
        Notice(NoticeKind.REFUND_OWED, payer, shop.deal.id, payer, refund.id)
    ]
    assert not shop.notices(NoticeKind.PAYMENT_RECEIPT)  # nothing was received for the order
    assert await shop.held(ALICE) == 0
    order = await shop.order(ALICE)
    assert all(ln.paid_quantity == 0 for ln in order.lines) and order.pay_by is not None
    # The same invoice is still the one to pay, and the right payment is credited.
    assert await shop.pre_checkout(token, ALICE, due) is None
    applied, _ = await shop.pay(ALICE, token, due)
    assert applied
    assert await shop.held(ALICE) == due
    assert len(shop.notices(NoticeKind.PAYMENT_RECEIPT)) == 1
    await shop.check_ledger()


@pytest.mark.parametrize("mode", INVOICED)
async def test_a_stranger_paying_someones_invoice_is_never_credited(
    shop: Shop, mode: PaymentMode
) -> None:
    await shop.open(mode)
    await shop.add(ALICE, 1)
    token, due = await shop.invoice(ALICE)
    assert await shop.pre_checkout(token, MALLORY, due) == "invoice_not_yours"
    # Telegram took the money anyway (a race, or a forged update): recorded, refunded to him.
    got = await pay_committed(shop.f, shop.clock.now(), token, MALLORY, due, shop.currency, "m-1")
    assert got.payment is not None and not got.applied
    assert await shop.held(ALICE) == 0
    payments, refunds = await ledger(shop.f, shop.deal.id)
    assert [r.user_id for r in refunds] == [MALLORY]
    assert [p.status for p in payments] == [PaymentStatus.RECEIVED]
    await shop.check_ledger()


async def test_a_stars_shortfall_keeps_the_units_that_arrived_and_bills_them_again(
    shop: Shop,
) -> None:
    await shop.open(PaymentMode.STARS)
    await shop.add(ALICE, 3)
    await shop.invoice_and_pay(ALICE)
    async with shop.f() as uow:
        assert await close_deal(uow, shop.deal.id, CloseReason.LEADER, shop.clock.now())
        await uow.commit()
    async with shop.f() as uow:
        result = await record_shortfall(uow, shop.deal.id, 1, 1, shop.clock.now(), WINDOW)
        await uow.commit()
    assert (result.units, result.orders) == (1, 1)
    # The whole charge goes back (Stars refunds whole payments) ...
    _, [refund] = await ledger(shop.f, shop.deal.id)
    assert (refund.amount, refund.method, refund.reason) == (
        3 * APPLE,
        PaymentMethod.STARS,
        RefundReason.SHORTFALL,
    )
    # ... the two apples that arrived stay hers, held for the window and invoiced again.
    order = await shop.order(ALICE)
    assert order.quantity(shop.apples) == 2
    assert order.pay_by == shop.clock.now() + WINDOW
    # Not handed out before it is paid again (its units would lapse after the hand-out).
    async with shop.f() as uow:
        with pytest.raises(DomainError, match="pickup_unpaid"):
            await mark_picked_up(uow, shop.deal.community_id, order.code, shop.clock.now(), by=1)
    issued = await invoice_committed(shop.f, shop.clock.now(), order.id)
    assert issued is not None
    token, due = issued
    assert due == 2 * APPLE
    assert await shop.pre_checkout(token, ALICE, due) is None
    applied, _ = await shop.pay(ALICE, token, due)
    assert applied and await shop.held(ALICE) == 2 * APPLE
    order = await shop.order(ALICE)
    assert order.pay_by is None and all(ln.paid_quantity == ln.quantity for ln in order.lines)
    async with shop.f() as uow:
        await mark_picked_up(uow, shop.deal.community_id, order.code, shop.clock.now(), by=1)
        await uow.commit()
    await shop.check_ledger()


async def test_an_unpaid_stars_rebill_lapses_after_the_window(shop: Shop) -> None:
    await shop.open(PaymentMode.STARS)
    await shop.add(ALICE, 2)
    await shop.invoice_and_pay(ALICE)
    async with shop.f() as uow:
        await close_deal(uow, shop.deal.id, CloseReason.LEADER, shop.clock.now())
        await record_shortfall(uow, shop.deal.id, 1, 1, shop.clock.now(), WINDOW)
        await uow.commit()
    shop.clock.advance(WINDOW + timedelta(seconds=1))
    assert len(await lapse_due(shop.f, shop.clock)) == 1
    order = await shop.order(ALICE)
    assert order.total_quantity == 0 and order.pay_by is None
    async with shop.f() as uow:
        deal = await uow.deals.get(shop.deal.id)
    assert deal is not None and deal.status is DealStatus.CLOSED
    await shop.check_ledger()


async def test_a_second_shortfall_that_takes_the_rebilled_units_ends_the_rebill(
    shop: Shop,
) -> None:
    """The units a re-bill was for did not arrive either: nothing is owed, so the hold ends and
    the invoice for them can no longer be paid (paying it would credit units that do not exist)."""
    await shop.open(PaymentMode.STARS)
    await shop.add(ALICE, 2)
    await shop.invoice_and_pay(ALICE)
    async with shop.f() as uow:
        await close_deal(uow, shop.deal.id, CloseReason.LEADER, shop.clock.now())
        await record_shortfall(uow, shop.deal.id, 1, 1, shop.clock.now(), WINDOW)
        await uow.commit()
    order = await shop.order(ALICE)
    issued = await invoice_committed(shop.f, shop.clock.now(), order.id)
    assert issued is not None and order.pay_by is not None
    token, due = issued
    assert due == APPLE
    async with shop.f() as uow:
        await record_shortfall(uow, shop.deal.id, 1, 1, shop.clock.now(), WINDOW)
        await uow.commit()
    order = await shop.order(ALICE)
    assert order.total_quantity == 0 and order.pay_by is None
    assert await shop.pre_checkout(token, ALICE, due) is not None  # refused, with a reason
    assert await shop.held(ALICE) == 0
    await shop.check_ledger()
