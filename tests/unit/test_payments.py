"""Paying for orders in each mode, on the in-memory storage: holds and invoices, pre-checkout,
payments received once, refunds, lapses, reminders, leader claims, cash at pickup."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from groupbuy.deals import cancel_deal, close_deal, close_due, lapse_due, remind_payers
from groupbuy.errors import DomainError, NotAllowed
from groupbuy.model import (
    CloseReason,
    Deal,
    DealStats,
    DealStatus,
    MinimumKind,
    Order,
    PaymentMethod,
    PaymentMode,
    PaymentStatus,
    RefundReason,
    RefundStatus,
)
from groupbuy.notices import Notice, NoticeKind
from groupbuy.orders import mark_picked_up
from groupbuy.payments import (
    check_pre_checkout,
    claim_paid,
    collect_cash,
    confirm_refund,
    decide_claim,
    standing,
)
from tests.fakes import (
    FakeClock,
    FakeStore,
    FakeUnitOfWorkFactory,
    cancel_committed,
    change_committed,
    community,
    deal_spec,
    invoice_committed,
    item_spec,
    ledger,
    open_deal_committed,
    pay_committed,
    read_deal,
)

ALICE, BOB = 101, 102
APPLE, PEAR = 1250, 800  # prices
WINDOW = timedelta(minutes=30)
INVOICED = [PaymentMode.ONLINE, PaymentMode.STARS]
BY_HAND = [PaymentMode.LEADER, PaymentMode.CASH]


class Shop:
    """One deal (apples and pears) in a community paying one way, and the steps people take."""

    def __init__(self, factory: FakeUnitOfWorkFactory, store: FakeStore, clock: FakeClock) -> None:
        self.f, self.store, self.clock = factory, store, clock
        self.charges = 0

    async def open(
        self,
        mode: PaymentMode,
        *,
        deadline: timedelta = timedelta(days=1),
        stock: int = 10,
        minimum_kind: MinimumKind = MinimumKind.NONE,
        minimum: int = 0,
    ) -> Deal:
        self.chat = community(payment_mode=mode)
        spec = deal_spec(
            self.clock.now() + deadline,
            item_spec("Apples", price=APPLE, stock=stock, limit=None),
            item_spec("Pears", price=PEAR, stock=stock, limit=None),
            minimum_kind=minimum_kind,
            minimum=minimum,
        )
        self.deal = await open_deal_committed(self.f, self.clock.now(), spec, self.chat)
        self.apples, self.pears = (i.id for i in self.deal.items)
        return self.deal

    @property
    def currency(self) -> str:
        return self.deal.currency

    async def add(self, user: int, delta: int, item: int | None = None) -> Order:
        change = await change_committed(
            self.f, self.clock.now(), self.deal.id, item or self.apples, user, delta, window=WINDOW
        )
        return change.order

    async def order(self, user: int) -> Order:
        async with self.f() as uow:
            order = await uow.orders.of_user(self.deal.id, user)
        assert order is not None
        return order

    async def held(self, user: int) -> int:
        order = await self.order(user)
        async with self.f() as uow:
            return await uow.payments.held(order.id)

    async def invoice(self, user: int) -> tuple[str, int]:
        issued = await invoice_committed(self.f, self.clock.now(), (await self.order(user)).id)
        assert issued is not None
        return issued

    async def pay(
        self, user: int, token: str, amount: int, charge: str | None = None
    ) -> tuple[bool, str]:
        """Telegram's successful_payment; returns (applied, charge id)."""
        if charge is None:
            self.charges += 1
            charge = f"charge-{self.charges}"
        got = await pay_committed(
            self.f, self.clock.now(), token, user, amount, self.currency, charge
        )
        assert got.payment is not None
        return got.applied, charge

    async def invoice_and_pay(self, user: int) -> int:
        token, due = await self.invoice(user)
        applied, _ = await self.pay(user, token, due)
        assert applied
        return due

    async def pre_checkout(
        self, token: str, user: int, amount: int, currency: str | None = None
    ) -> str | None:
        async with self.f() as uow:
            return await check_pre_checkout(
                uow, token, user, amount, currency or self.currency, self.clock.now()
            )

    async def stats(self) -> DealStats:
        async with self.f() as uow:
            return await uow.deals.stats(self.deal.id)

    def notices(self, kind: NoticeKind) -> list[Notice]:
        return [n for n in self.store.notices(self.deal.id) if n.kind is kind]

    async def check_ledger(self) -> None:
        """Received − refunded = what orders hold; each holds 0..worth, at least its paid units."""
        payments, refunds = await ledger(self.f, self.deal.id)
        received = sum(p.amount for p in payments if p.status is PaymentStatus.RECEIVED)
        async with self.f() as uow:
            deal = await uow.deals.get(self.deal.id)
            assert deal is not None
            holdings = await uow.payments.held_by_order(deal.id)
            for order_id, held in holdings.items():
                order = await uow.orders.get(order_id)
                assert order is not None
                assert 0 <= held <= order.amount(deal)
                assert held >= order.paid_amount(deal)
        assert received - sum(r.amount for r in refunds) == sum(holdings.values())


@pytest.fixture
def shop(uow_factory: FakeUnitOfWorkFactory, store: FakeStore, clock: FakeClock) -> Shop:
    return Shop(uow_factory, store, clock)


# ---- joining: holds and invoices ---------------------------------------------------------


@pytest.mark.parametrize("mode", INVOICED)
async def test_joining_holds_unpaid_units_and_wants_an_invoice(
    shop: Shop, mode: PaymentMode
) -> None:
    deal = await shop.open(mode)
    assert deal.payment_mode is mode
    assert deal.currency == ("XTR" if mode is PaymentMode.STARS else "CNY")
    order = await shop.add(ALICE, 2)
    assert order.pay_by == shop.clock.now() + WINDOW
    assert [ln.paid_quantity for ln in order.lines] == [0]
    async with shop.f() as uow:
        assert [o for o, _ in await uow.orders.invoices_wanted(10)] == [order.id]
    assert await shop.stats() == DealStats(1, 2, 0)
    # never held past the deadline
    soon = await shop.open(mode, deadline=timedelta(minutes=10))
    near = await shop.add(BOB, 1)
    assert near.pay_by == soon.deadline


@pytest.mark.parametrize("mode", BY_HAND)
async def test_paying_by_hand_holds_nothing(shop: Shop, mode: PaymentMode) -> None:
    await shop.open(mode)
    order = await shop.add(ALICE, 2)
    assert order.pay_by is None
    async with shop.f() as uow:
        assert await uow.orders.invoices_wanted(10) == []
        assert await invoice_committed(shop.f, shop.clock.now(), order.id) is None


@pytest.mark.parametrize("mode", INVOICED)
async def test_an_invoice_for_what_is_due(shop: Shop, mode: PaymentMode) -> None:
    await shop.open(mode)
    await shop.add(ALICE, 2)
    order = await shop.add(ALICE, 1, shop.pears)
    token, due = await shop.invoice(ALICE)
    assert due == 2 * APPLE + PEAR
    assert len(token.encode()) < 128
    async with shop.f() as uow:
        invoice = await uow.payments.invoice(token)
    assert invoice is not None
    assert (invoice.order_id, invoice.user_id, invoice.amount, invoice.currency) == (
        order.id,
        ALICE,
        due,
        shop.currency,
    )
    assert invoice.open
    # a second issue replaces the first: only one invoice can be paid
    again, _ = await shop.invoice(ALICE)
    assert await shop.pre_checkout(token, ALICE, due) == "invoice_outdated"
    assert await shop.pre_checkout(again, ALICE, due) is None
    # nothing once the hold has ended
    shop.clock.advance(WINDOW)
    assert await invoice_committed(shop.f, shop.clock.now(), order.id) is None


# ---- pre-checkout -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", INVOICED)
async def test_pre_checkout(shop: Shop, mode: PaymentMode) -> None:
    await shop.open(mode)
    await shop.add(ALICE, 2)
    token, due = await shop.invoice(ALICE)
    assert await shop.pre_checkout(token, ALICE, due) is None
    assert await shop.pre_checkout("no-such-invoice", ALICE, due) == "invoice_unknown"
    assert await shop.pre_checkout("x" * 1000, ALICE, due) == "invoice_unknown"
    assert await shop.pre_checkout(token, BOB, due) == "invoice_not_yours"
    assert await shop.pre_checkout(token, ALICE, due - 1) == "invoice_outdated"
    assert await shop.pre_checkout(token, ALICE, due, "USD") == "invoice_outdated"
    # expired: the hold ended (before the lapse job ran)
    shop.clock.advance(WINDOW)
    assert await shop.pre_checkout(token, ALICE, due) == "invoice_expired"


@pytest.mark.parametrize("mode", INVOICED)
async def test_pre_checkout_of_a_changed_order(shop: Shop, mode: PaymentMode) -> None:
    await shop.open(mode)
    await shop.add(ALICE, 2)
    token, due = await shop.invoice(ALICE)
    await shop.add(ALICE, 1)
    assert await shop.pre_checkout(token, ALICE, due) == "invoice_outdated"
    fresh, more = await shop.invoice(ALICE)
    assert more == 3 * APPLE
    assert await shop.pre_checkout(fresh, ALICE, more) is None


@pytest.mark.parametrize("mode", INVOICED)
@pytest.mark.parametrize("end", ["cancel", "deadline"])
async def test_pre_checkout_when_the_deal_is_not_open(
    shop: Shop, mode: PaymentMode, end: str
) -> None:
    await shop.open(mode)
    await shop.add(ALICE, 2)
    token, due = await shop.invoice(ALICE)
    async with shop.f() as uow:
        if end == "cancel":
            await cancel_deal(uow, shop.deal.id, shop.clock.now())
        else:
            await close_deal(uow, shop.deal.id, CloseReason.LEADER, shop.clock.now())
        await uow.commit()
    assert await shop.pre_checkout(token, ALICE, due) == "deal_not_open"


# ---- receiving money ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", INVOICED)
async def test_a_payment_covers_the_order_once(shop: Shop, mode: PaymentMode) -> None:
    await shop.open(mode)
    await shop.add(ALICE, 2)
    await shop.add(BOB, 1)
    token, due = await shop.invoice(ALICE)
    applied, charge = await shop.pay(ALICE, token, due)
    assert applied
    order = await shop.order(ALICE)
    assert [(ln.quantity, ln.paid_quantity) for ln in order.lines] == [(2, 2)]
    assert order.pay_by is None
    assert await shop.stats() == DealStats(2, 3, 1)
    payments, refunds = await ledger(shop.f, shop.deal.id)
    assert refunds == []
    [payment] = payments
    method = PaymentMethod.STARS if mode is PaymentMode.STARS else PaymentMethod.TELEGRAM
    assert (payment.method, payment.status, payment.amount, payment.currency) == (
        method,
        PaymentStatus.RECEIVED,
        due,
        shop.currency,
    )
    assert (payment.charge_id, payment.provider_charge_id) == (charge, f"provider-{charge}")
    assert shop.notices(NoticeKind.PAYMENT_RECEIPT) == [
        Notice(NoticeKind.PAYMENT_RECEIPT, ALICE, shop.deal.id, ALICE, payment.id)
    ]
    async with shop.f() as uow:
        invoice = await uow.payments.invoice(token)
        assert invoice is not None and not invoice.open
    # the same successful_payment again: nothing recorded, nothing sent
    again = await pay_committed(shop.f, shop.clock.now(), token, ALICE, due, shop.currency, charge)
    assert again.payment is None and not again.applied
    assert await ledger(shop.f, shop.deal.id) == (payments, [])
    assert len(shop.notices(NoticeKind.PAYMENT_RECEIPT)) == 1
    # and the paid invoice cannot be paid again either
    assert await shop.pre_checkout(token, ALICE, due) == "invoice_outdated"
    await shop.check_ledger()


async def test_a_payment_for_an_unknown_invoice_is_refused(shop: Shop) -> None:
    await shop.open(PaymentMode.ONLINE)
    with pytest.raises(DomainError, match="invoice_unknown"):
        await pay_committed(shop.f, shop.clock.now(), "forged", ALICE, 1, "CNY", "c-1")
    assert await ledger(shop.f, shop.deal.id) == ([], [])


def _refund_method(mode: PaymentMode) -> PaymentMethod:
    return PaymentMethod.STARS if mode is PaymentMode.STARS else PaymentMethod.TELEGRAM


@pytest.mark.parametrize("mode", INVOICED)
@pytest.mark.parametrize("why", ["void_invoice", "lapsed", "failed", "cancelled", "currency"])
async def test_money_that_buys_nothing_is_recorded_and_refunded(
    shop: Shop, mode: PaymentMode, why: str
) -> None:
    await shop.open(mode)
    await shop.add(ALICE, 2)
    token, due = await shop.invoice(ALICE)
    currency = shop.currency
    if why == "void_invoice":
        await shop.add(ALICE, 1)
    elif why == "lapsed":
        shop.clock.advance(WINDOW)
        assert len(await lapse_due(shop.f, shop.clock)) == 1
    elif why == "failed":
        shop.clock.set(shop.deal.deadline)
        assert await close_due(shop.f, shop.clock) == [shop.deal.id]
        deal, _ = await read_deal(shop.f, shop.deal.id)
        assert deal.status is DealStatus.FAILED  # the unpaid units lapsed: nobody is left
    elif why == "cancelled":
        async with shop.f() as uow:
            await cancel_deal(uow, shop.deal.id, shop.clock.now())
            await uow.commit()
    else:
        currency = "USD"
    got = await pay_committed(shop.f, shop.clock.now(), token, ALICE, due, currency, "late-1")
    assert got.payment is not None and not got.applied
    payments, refunds = await ledger(shop.f, shop.deal.id)
    assert [p.charge_id for p in payments] == ["late-1"]
    [refund] = refunds
    assert (refund.payment_id, refund.amount, refund.currency) == (got.payment.id, due, currency)
    assert (refund.method, refund.status, refund.reason) == (
        _refund_method(mode),
        RefundStatus.OWED,
        RefundReason.MISMATCH if why == "currency" else RefundReason.LATE,
    )
    assert shop.notices(NoticeKind.REFUND_OWED) == [
        Notice(NoticeKind.REFUND_OWED, ALICE, shop.deal.id, ALICE, refund.id)
    ]
    assert await shop.held(ALICE) == 0
    order = await shop.order(ALICE)
    assert all(ln.paid_quantity == 0 for ln in order.lines)
    await shop.check_ledger()


# ---- changing a paid order ----------------------------------------------------------------


@pytest.mark.parametrize("mode", INVOICED)
async def test_raising_a_paid_order_invoices_the_difference(shop: Shop, mode: PaymentMode) -> None:
    await shop.open(mode)
    await shop.add(ALICE, 2)
    await shop.invoice_and_pay(ALICE)
    order = await shop.add(ALICE, 1)
    assert [(ln.quantity, ln.paid_quantity) for ln in order.lines] == [(3, 2)]
    assert order.pay_by == shop.clock.now() + WINDOW
    token, due = await shop.invoice(ALICE)
    assert due == APPLE
    assert await shop.pay(ALICE, token, due) == (True, "charge-2")
    order = await shop.order(ALICE)
    assert [(ln.quantity, ln.paid_quantity) for ln in order.lines] == [(3, 3)]
    assert await shop.held(ALICE) == 3 * APPLE
    await shop.check_ledger()


async def test_lowering_a_card_paid_order_refunds_the_difference(shop: Shop) -> None:
    await shop.open(PaymentMode.ONLINE)
    await shop.add(ALICE, 3)
    await shop.invoice_and_pay(ALICE)
    order = await shop.add(ALICE, -1)
    assert [(ln.quantity, ln.paid_quantity) for ln in order.lines] == [(2, 2)]
    assert order.pay_by is None
    _, refunds = await ledger(shop.f, shop.deal.id)
    assert [(r.amount, r.method, r.status, r.reason, r.payment_id) for r in refunds] == [
        (APPLE, PaymentMethod.TELEGRAM, RefundStatus.OWED, RefundReason.REDUCED, None)
    ]
    assert shop.notices(NoticeKind.REFUND_OWED) == [
        Notice(NoticeKind.REFUND_OWED, ALICE, shop.deal.id, ALICE, refunds[0].id)
    ]
    assert await shop.held(ALICE) == 2 * APPLE
    await shop.check_ledger()


async def test_lowering_a_stars_order_refunds_whole_charges(shop: Shop) -> None:
    await shop.open(PaymentMode.STARS)
    for _ in range(3):  # three charges of one apple each
        await shop.add(ALICE, 1)
        await shop.invoice_and_pay(ALICE)
    order = await shop.add(ALICE, -1)
    payments, refunds = await ledger(shop.f, shop.deal.id)
    # the newest charge goes back whole; the rest still covers the order
    assert [(r.payment_id, r.amount, r.method) for r in refunds] == [
        (payments[-1].id, APPLE, PaymentMethod.STARS)
    ]
    assert [(ln.quantity, ln.paid_quantity) for ln in order.lines] == [(2, 2)]
    assert order.pay_by is None
    await shop.check_ledger()


async def test_lowering_a_stars_order_paid_at_once_reinvoices_the_rest(shop: Shop) -> None:
    await shop.open(PaymentMode.STARS)
    await shop.add(ALICE, 3)
    await shop.invoice_and_pay(ALICE)
    order = await shop.add(ALICE, -1)
    payments, refunds = await ledger(shop.f, shop.deal.id)
    assert [(r.payment_id, r.amount) for r in refunds] == [(payments[0].id, 3 * APPLE)]
    assert [(ln.quantity, ln.paid_quantity) for ln in order.lines] == [(2, 0)]
    assert order.pay_by == shop.clock.now() + WINDOW
    token, due = await shop.invoice(ALICE)
    assert due == 2 * APPLE
    assert (await shop.pay(ALICE, token, due))[0]
    assert await shop.held(ALICE) == 2 * APPLE
    await shop.check_ledger()


@pytest.mark.parametrize("mode", INVOICED)
async def test_cancelling_refunds_everything(shop: Shop, mode: PaymentMode) -> None:
    await shop.open(mode)
    await shop.add(ALICE, 1)
    await shop.invoice_and_pay(ALICE)
    await shop.add(ALICE, 1, shop.pears)
    await shop.invoice_and_pay(ALICE)
    await shop.add(ALICE, 1)  # unpaid, held
    await cancel_committed(shop.f, shop.clock.now(), shop.deal.id, ALICE, WINDOW)
    payments, refunds = await ledger(shop.f, shop.deal.id)
    assert sum(r.amount for r in refunds) == APPLE + PEAR
    if mode is PaymentMode.STARS:
        assert sorted(r.payment_id or 0 for r in refunds) == [p.id for p in payments]
    else:
        assert len(refunds) == 1
    assert {r.reason for r in refunds} == {RefundReason.REDUCED}
    assert len(shop.notices(NoticeKind.REFUND_OWED)) == len(refunds)
    order = await shop.order(ALICE)
    assert order.total_quantity == 0 and order.pay_by is None
    deal, _ = await read_deal(shop.f, shop.deal.id)
    assert [i.sold for i in deal.items] == [0, 0]
    await shop.check_ledger()


@pytest.mark.parametrize("mode", INVOICED)
async def test_swapping_a_paid_item_for_a_dearer_one(shop: Shop, mode: PaymentMode) -> None:
    """A pear paid, then an apple added and the pear removed: the pear's money counts towards
    the apple. If the apple is never paid, the pear's money goes back and nothing stays paid."""
    await shop.open(mode)
    await shop.add(ALICE, 1)
    await shop.add(ALICE, 1, shop.pears)
    await shop.invoice_and_pay(ALICE)
    await shop.add(ALICE, 1)
    order = await shop.add(ALICE, -1, shop.pears)
    # a unit no longer in the order is never counted as paid
    assert all(ln.paid_quantity <= ln.quantity for ln in order.lines)
    await shop.check_ledger()
    shop.clock.advance(WINDOW)
    assert len(await lapse_due(shop.f, shop.clock)) == 1
    order = await shop.order(ALICE)
    assert order.pay_by is None
    deal, _ = await read_deal(shop.f, deal_id=shop.deal.id)
    held = await shop.held(ALICE)
    # what is left is paid for exactly, and nothing unpaid is left without a hold
    assert held == order.amount(deal) == order.paid_amount(deal)
    assert all(ln.paid_quantity == ln.quantity for ln in order.lines)
    # adding a pear again is a new unit to pay for, not one already paid
    order = await shop.add(ALICE, 1, shop.pears)
    assert (await shop.stats()).paid == 0
    async with shop.f() as uow:
        money = await standing(uow, deal, order)
    assert money.due == PEAR
    await shop.check_ledger()


# ---- lapses and reminders -----------------------------------------------------------------


@pytest.mark.parametrize("mode", INVOICED)
async def test_lapse_releases_only_unpaid_units(shop: Shop, mode: PaymentMode) -> None:
    await shop.open(mode)
    await shop.add(ALICE, 1)
    await shop.invoice_and_pay(ALICE)
    await shop.add(ALICE, 2)
    await shop.add(BOB, 3)
    token, due = await shop.invoice(BOB)
    shop.clock.advance(WINDOW - timedelta(seconds=1))
    assert await lapse_due(shop.f, shop.clock) == []
    shop.clock.advance(timedelta(seconds=1))
    lapsed = await lapse_due(shop.f, shop.clock)
    assert sorted(lapsed) == sorted([(await shop.order(ALICE)).id, (await shop.order(BOB)).id])
    assert await lapse_due(shop.f, shop.clock) == []
    deal, orders = await read_deal(shop.f, shop.deal.id)
    assert deal.items[0].sold == 1
    assert [(o.user_id, o.total_quantity, o.pay_by) for o in orders] == [(ALICE, 1, None)]
    assert (await shop.order(BOB)).total_quantity == 0
    lapses = shop.notices(NoticeKind.ORDER_LAPSED)
    assert sorted(n.chat_id for n in lapses) == [ALICE, BOB]
    async with shop.f() as uow:
        invoice = await uow.payments.invoice(token)
        assert invoice is not None and not invoice.open
    assert await shop.pre_checkout(token, BOB, due) == "invoice_outdated"
    assert await ledger(shop.f, shop.deal.id) != ([], [])
    assert await shop.held(ALICE) == APPLE
    await shop.check_ledger()


@pytest.mark.parametrize("mode", INVOICED)
async def test_a_paid_order_never_lapses(shop: Shop, mode: PaymentMode) -> None:
    await shop.open(mode)
    await shop.add(ALICE, 2)
    await shop.invoice_and_pay(ALICE)
    shop.clock.advance(WINDOW * 3)
    assert await lapse_due(shop.f, shop.clock) == []
    assert (await shop.order(ALICE)).total_quantity == 2


@pytest.mark.parametrize("mode", INVOICED)
async def test_one_reminder_per_hold(shop: Shop, mode: PaymentMode) -> None:
    lead = timedelta(minutes=10)
    await shop.open(mode)
    await shop.add(ALICE, 1)
    shop.clock.advance(WINDOW - lead - timedelta(seconds=1))
    assert await remind_payers(shop.f, shop.clock, lead) == 0
    shop.clock.advance(timedelta(seconds=1))
    assert await remind_payers(shop.f, shop.clock, lead) == 1
    assert await remind_payers(shop.f, shop.clock, lead) == 0
    order = await shop.order(ALICE)
    assert order.pay_by is not None
    assert shop.notices(NoticeKind.PAYMENT_REMINDER) == [
        Notice(
            NoticeKind.PAYMENT_REMINDER,
            ALICE,
            shop.deal.id,
            ALICE,
            int(order.pay_by.timestamp()),
        )
    ]
    # a change starts a new hold, which gets its own reminder
    await shop.add(ALICE, 1)
    shop.clock.advance(WINDOW - lead)
    assert await remind_payers(shop.f, shop.clock, lead) == 1
    assert len(shop.notices(NoticeKind.PAYMENT_REMINDER)) == 2
    # paid: no more reminders
    await shop.add(ALICE, 1)
    await shop.invoice_and_pay(ALICE)
    shop.clock.advance(WINDOW - lead)
    assert await remind_payers(shop.f, shop.clock, lead) == 0


# ---- closing ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", INVOICED)
async def test_closing_lapses_unpaid_units_before_counting(shop: Shop, mode: PaymentMode) -> None:
    await shop.open(mode, minimum_kind=MinimumKind.PARTICIPANTS, minimum=2)
    await shop.add(ALICE, 1)
    await shop.invoice_and_pay(ALICE)
    await shop.add(BOB, 2)  # never pays
    shop.clock.set(shop.deal.deadline)
    assert await close_due(shop.f, shop.clock) == [shop.deal.id]
    deal, orders = await read_deal(shop.f, shop.deal.id)
    assert deal.status is DealStatus.FAILED  # only one participant paid
    assert orders == [await shop.order(ALICE)]
    assert deal.items[0].sold == 1
    _, refunds = await ledger(shop.f, shop.deal.id)
    assert [(r.user_id, r.amount, r.reason) for r in refunds] == [
        (ALICE, APPLE, RefundReason.FAILED)
    ]
    assert [n.chat_id for n in shop.notices(NoticeKind.ORDER_LAPSED)] == [BOB]
    assert [n.chat_id for n in shop.notices(NoticeKind.ORDER_FAILED)] == [ALICE]
    await shop.check_ledger()


@pytest.mark.parametrize("mode", INVOICED)
async def test_a_formed_deal_keeps_only_paid_units(shop: Shop, mode: PaymentMode) -> None:
    await shop.open(mode)
    await shop.add(ALICE, 2)
    await shop.invoice_and_pay(ALICE)
    await shop.add(ALICE, 1)
    await shop.add(BOB, 2)
    shop.clock.set(shop.deal.deadline)
    assert await close_due(shop.f, shop.clock) == [shop.deal.id]
    deal, orders = await read_deal(shop.f, shop.deal.id)
    assert deal.status is DealStatus.CLOSED
    assert [(o.user_id, o.total_quantity) for o in orders] == [(ALICE, 2)]
    assert deal.items[0].sold == 2
    assert await ledger(shop.f, shop.deal.id) != ([], [])
    assert (await ledger(shop.f, shop.deal.id))[1] == []
    assert [n.chat_id for n in shop.notices(NoticeKind.PICKUP)] == [ALICE]
    await shop.check_ledger()


@pytest.mark.parametrize("mode", INVOICED)
async def test_selling_out_waits_for_the_money(shop: Shop, mode: PaymentMode) -> None:
    """The last unit taken does not close the deal while others' units are only held: the holds
    would lapse at once. It closes when the last held unit is paid."""
    await shop.open(mode, stock=2)
    await shop.add(ALICE, 1)
    await shop.add(ALICE, 2, shop.pears)
    order = await shop.add(BOB, 1)
    deal, _ = await read_deal(shop.f, shop.deal.id)
    assert deal.sold_out and deal.status is DealStatus.OPEN
    assert order.total_quantity == 1
    await shop.invoice_and_pay(ALICE)
    deal, _ = await read_deal(shop.f, shop.deal.id)
    assert deal.status is DealStatus.OPEN
    await shop.invoice_and_pay(BOB)
    deal, orders = await read_deal(shop.f, shop.deal.id)
    assert deal.status is DealStatus.CLOSED and deal.close_reason is CloseReason.SOLD_OUT
    assert [o.total_quantity for o in orders] == [3, 1]
    assert sorted(n.chat_id for n in shop.notices(NoticeKind.PICKUP)) == [ALICE, BOB]
    await shop.check_ledger()


@pytest.mark.parametrize("mode", BY_HAND)
async def test_selling_out_closes_at_once_when_paying_by_hand(
    shop: Shop, mode: PaymentMode
) -> None:
    await shop.open(mode, stock=1)
    await shop.add(ALICE, 1, shop.pears)
    change = await change_committed(
        shop.f, shop.clock.now(), shop.deal.id, shop.apples, BOB, 1, window=WINDOW
    )
    assert change.closed


# ---- failed and cancelled deals refund everyone ---------------------------------------------


async def _pay_any(shop: Shop, mode: PaymentMode, user: int) -> int:
    """Pay what `user` owes the way `mode` pays; returns the amount."""
    if mode.invoiced:
        return await shop.invoice_and_pay(user)
    async with shop.f() as uow:
        deal = await uow.deals.get(shop.deal.id)
        assert deal is not None
        order = await uow.orders.of_user(deal.id, user)
        assert order is not None
        if mode is PaymentMode.CASH:
            amount = await collect_cash(uow, deal, order, shop.clock.now())
        else:
            claim = await claim_paid(uow, deal, user, shop.clock.now())
            await decide_claim(uow, claim.id, True, shop.clock.now(), WINDOW)
            amount = claim.amount
        await uow.commit()
    return amount


@pytest.mark.parametrize("mode", list(PaymentMode))
@pytest.mark.parametrize("end", ["failed", "cancelled"])
async def test_a_deal_that_does_not_go_ahead_refunds_everyone(
    shop: Shop, mode: PaymentMode, end: str
) -> None:
    await shop.open(mode, minimum_kind=MinimumKind.QUANTITY, minimum=10)
    await shop.add(ALICE, 2)
    paid = {ALICE: await _pay_any(shop, mode, ALICE)}
    await shop.add(BOB, 1, shop.pears)
    paid[BOB] = await _pay_any(shop, mode, BOB)
    await shop.add(BOB, 1)  # unpaid
    async with shop.f() as uow:
        if end == "failed":
            await close_deal(uow, shop.deal.id, CloseReason.DEADLINE, shop.clock.now())
        else:
            await cancel_deal(uow, shop.deal.id, shop.clock.now())
        await uow.commit()
    deal, _ = await read_deal(shop.f, shop.deal.id)
    assert deal.status is (DealStatus.FAILED if end == "failed" else DealStatus.CANCELLED)
    _, refunds = await ledger(shop.f, shop.deal.id)
    assert Counter(r.user_id for r in refunds) == Counter({ALICE: 1, BOB: 1})
    assert {r.user_id: r.amount for r in refunds} == paid
    reason = RefundReason.FAILED if end == "failed" else RefundReason.CANCELLED
    assert {r.reason for r in refunds} == {reason}
    method = {
        PaymentMode.ONLINE: PaymentMethod.TELEGRAM,
        PaymentMode.STARS: PaymentMethod.STARS,
        PaymentMode.LEADER: PaymentMethod.TRANSFER,
        PaymentMode.CASH: PaymentMethod.CASH,
    }[mode]
    assert {r.method for r in refunds} == {method}
    # Each buyer is told once, the refund in the same message as the deal's end.
    assert shop.notices(NoticeKind.REFUND_OWED) == []
    ended = NoticeKind.ORDER_FAILED if end == "failed" else NoticeKind.ORDER_CANCELLED
    assert sorted(n.user_id or 0 for n in shop.notices(ended)) == sorted([ALICE, BOB])
    assert await shop.held(ALICE) == await shop.held(BOB) == 0
    async with shop.f() as uow:
        assert await uow.orders.lapsing(shop.clock.now() + timedelta(days=9), 10) == []
    await shop.check_ledger()


# ---- paying the leader ---------------------------------------------------------------------


async def _claim(shop: Shop, user: int) -> int:
    async with shop.f() as uow:
        claim = await claim_paid(uow, shop.deal, user, shop.clock.now())
        await uow.commit()
    return claim.id


async def _decide(shop: Shop, payment_id: int, accept: bool) -> None:
    async with shop.f() as uow:
        await decide_claim(uow, payment_id, accept, shop.clock.now(), WINDOW)
        await uow.commit()


async def test_a_claim_accepted_covers_the_order(shop: Shop) -> None:
    await shop.open(PaymentMode.LEADER)
    await shop.add(ALICE, 2)
    claim = await _claim(shop, ALICE)
    async with shop.f() as uow:
        payment = await uow.payments.get(claim)
    assert payment is not None
    assert (payment.status, payment.method, payment.amount) == (
        PaymentStatus.CLAIMED,
        PaymentMethod.TRANSFER,
        2 * APPLE,
    )
    assert await shop.held(ALICE) == 0  # not until the leader says so
    with pytest.raises(DomainError, match="claim_pending"):
        await _claim(shop, ALICE)
    await _decide(shop, claim, True)
    order = await shop.order(ALICE)
    assert [(ln.quantity, ln.paid_quantity) for ln in order.lines] == [(2, 2)]
    assert await shop.held(ALICE) == 2 * APPLE
    assert shop.notices(NoticeKind.PAYMENT_RECEIPT) == [
        Notice(NoticeKind.PAYMENT_RECEIPT, ALICE, shop.deal.id, ALICE, claim)
    ]
    with pytest.raises(DomainError, match="already_decided"):
        await _decide(shop, claim, False)
    with pytest.raises(DomainError, match="already_paid"):
        await _claim(shop, ALICE)
    with pytest.raises(DomainError, match="stale_button"):
        await _decide(shop, claim + 1000, True)
    await shop.check_ledger()


async def test_a_claim_rejected(shop: Shop) -> None:
    await shop.open(PaymentMode.LEADER)
    await shop.add(ALICE, 1)
    claim = await _claim(shop, ALICE)
    await _decide(shop, claim, False)
    assert await shop.held(ALICE) == 0
    assert shop.notices(NoticeKind.PAYMENT_REJECTED) == [
        Notice(NoticeKind.PAYMENT_REJECTED, ALICE, shop.deal.id, ALICE, claim)
    ]
    with pytest.raises(DomainError, match="already_decided"):
        await _decide(shop, claim, True)
    assert await _claim(shop, ALICE) != claim  # may claim again
    await shop.check_ledger()


async def test_claims_refused(shop: Shop) -> None:
    await shop.open(PaymentMode.LEADER)
    with pytest.raises(DomainError, match="no_order"):
        await _claim(shop, ALICE)
    await shop.add(ALICE, 1)
    await shop.add(ALICE, -1)
    with pytest.raises(DomainError, match="no_order"):
        await _claim(shop, ALICE)
    await shop.open(PaymentMode.ONLINE)
    await shop.add(ALICE, 1)
    with pytest.raises(DomainError, match="pay_in_chat"):
        await _claim(shop, ALICE)


async def test_no_claims_on_a_deal_that_will_not_go_ahead(shop: Shop) -> None:
    await shop.open(PaymentMode.LEADER)
    await shop.add(ALICE, 1)
    async with shop.f() as uow:
        shop.deal = await cancel_deal(uow, shop.deal.id, shop.clock.now())
        await uow.commit()
    with pytest.raises(DomainError, match="deal_not_open"):
        await _claim(shop, ALICE)


async def test_a_claim_accepted_after_the_deal_failed_is_refunded(shop: Shop) -> None:
    await shop.open(PaymentMode.LEADER, minimum_kind=MinimumKind.PARTICIPANTS, minimum=5)
    await shop.add(ALICE, 1)
    claim = await _claim(shop, ALICE)
    shop.clock.set(shop.deal.deadline)
    assert await close_due(shop.f, shop.clock) == [shop.deal.id]
    await _decide(shop, claim, True)
    _, refunds = await ledger(shop.f, shop.deal.id)
    assert [(r.payment_id, r.amount, r.reason) for r in refunds] == [
        (claim, APPLE, RefundReason.LATE)
    ]
    assert await shop.held(ALICE) == 0
    await shop.check_ledger()


async def test_a_claim_for_more_than_the_order_is_now_worth(shop: Shop) -> None:
    await shop.open(PaymentMode.LEADER)
    await shop.add(ALICE, 3)
    claim = await _claim(shop, ALICE)
    await shop.add(ALICE, -2)
    await _decide(shop, claim, True)
    _, refunds = await ledger(shop.f, shop.deal.id)
    assert [(r.amount, r.reason, r.method) for r in refunds] == [
        (2 * APPLE, RefundReason.REDUCED, PaymentMethod.TRANSFER)
    ]
    assert await shop.held(ALICE) == APPLE
    await shop.check_ledger()


# ---- cash at pickup ------------------------------------------------------------------------


async def test_cash_is_collected_at_pickup(shop: Shop) -> None:
    await shop.open(PaymentMode.CASH)
    await shop.add(ALICE, 2)
    await shop.add(ALICE, 1, shop.pears)
    shop.clock.set(shop.deal.deadline)
    assert await close_due(shop.f, shop.clock) == [shop.deal.id]
    order = await shop.order(ALICE)
    async with shop.f() as uow:
        # goods never leave unpaid: picking up takes what is owed
        pickup = await mark_picked_up(uow, shop.chat.chat_id, order.code, shop.clock.now(), by=1)
        assert pickup.collected == 2 * APPLE + PEAR
        assert await collect_cash(uow, pickup.deal, pickup.order, shop.clock.now()) == 0
        await uow.commit()
    payments, _ = await ledger(shop.f, shop.deal.id)
    assert [(p.method, p.status, p.amount) for p in payments] == [
        (PaymentMethod.CASH, PaymentStatus.RECEIVED, 2 * APPLE + PEAR)
    ]
    order = await shop.order(ALICE)
    assert all(ln.paid_quantity == ln.quantity for ln in order.lines)
    assert await shop.stats() == DealStats(1, 3, 1)
    await shop.check_ledger()


# ---- refunds made by the leader ------------------------------------------------------------


async def test_confirming_a_refund(shop: Shop) -> None:
    await shop.open(PaymentMode.ONLINE)
    await shop.add(ALICE, 2)
    await shop.invoice_and_pay(ALICE)
    await shop.add(ALICE, -1)
    _, [refund] = await ledger(shop.f, shop.deal.id)
    async with shop.f() as uow:
        assert await confirm_refund(uow, refund.id, shop.clock.now()) == shop.deal.id
        await uow.commit()
    _, [done] = await ledger(shop.f, shop.deal.id)
    assert done.status is RefundStatus.DONE and done.done_at == shop.clock.now()
    assert shop.notices(NoticeKind.REFUND_DONE) == [
        Notice(NoticeKind.REFUND_DONE, ALICE, shop.deal.id, ALICE, refund.id)
    ]
    async with shop.f() as uow:
        with pytest.raises(DomainError, match="refund_already_done"):
            await confirm_refund(uow, refund.id, shop.clock.now())
        with pytest.raises(DomainError, match="stale_button"):
            await confirm_refund(uow, refund.id + 1000, shop.clock.now())
    assert await shop.held(ALICE) == APPLE  # done or owed, a refund is no longer held
    await shop.check_ledger()


async def test_stars_refunds_are_not_confirmed_by_hand(shop: Shop) -> None:
    await shop.open(PaymentMode.STARS)
    await shop.add(ALICE, 1)
    await shop.invoice_and_pay(ALICE)
    await cancel_committed(shop.f, shop.clock.now(), shop.deal.id, ALICE, WINDOW)
    _, [refund] = await ledger(shop.f, shop.deal.id)
    assert refund.method is PaymentMethod.STARS
    async with shop.f() as uow:
        assert await uow.payments.owed_star_refunds(10) == [refund]
        with pytest.raises(NotAllowed, match="stars_refund_automatic"):
            await confirm_refund(uow, refund.id, shop.clock.now())
