"""Money: invoices, payments received or claimed, refunds, payment holds. Amounts are integers.

The ledger's rule: for every order, held = payments received − refunds (owed or done). A change
that leaves an order holding more than it is worth refunds the difference at once; an order
holding less owes the rest (invoiced modes hold the unpaid units for a payment window).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from groupbuy import parsing
from groupbuy.errors import DomainError, InputError, NotAllowed
from groupbuy.live import Touched
from groupbuy.model import (
    CloseReason,
    Community,
    Deal,
    DealStatus,
    Order,
    Payment,
    PaymentMethod,
    PaymentMode,
    PaymentStatus,
    RefundReason,
)
from groupbuy.notices import Notice, NoticeKind
from groupbuy.ports import UnitOfWork

INVOICE_TOKEN_BYTES = 16  # 22 characters of payload: opaque, unguessable, far below 128 bytes


def method_of(mode: PaymentMode) -> PaymentMethod:
    return {
        PaymentMode.ONLINE: PaymentMethod.TELEGRAM,
        PaymentMode.STARS: PaymentMethod.STARS,
        PaymentMode.LEADER: PaymentMethod.TRANSFER,
        PaymentMode.CASH: PaymentMethod.CASH,
    }[mode]


def new_token() -> str:
    return secrets.token_urlsafe(INVOICE_TOKEN_BYTES)


@dataclass(frozen=True, slots=True)
class Standing:
    """Where an order stands with money."""

    worth: int
    held: int
    claimed: int  # transfers the resident reported, awaiting the leader

    @property
    def due(self) -> int:
        return max(0, self.worth - self.held)

    @property
    def paid(self) -> bool:
        return self.worth > 0 and self.held >= self.worth


async def standing(uow: UnitOfWork, deal: Deal, order: Order) -> Standing:
    held = await uow.payments.held(order.id)
    claimed = sum(
        p.amount
        for p in await uow.payments.for_order(order.id)
        if p.status is PaymentStatus.CLAIMED
    )
    return Standing(order.amount(deal), held, claimed)


async def _refund(
    uow: UnitOfWork, deal: Deal, order: Order, amount: int, reason: RefundReason, now: datetime
) -> None:
    """Refund `amount` of what an order holds and tell its owner.

    Stars can only be refunded a whole charge at a time (refundStarPayment), so a Stars refund
    returns whole charges, newest first, and the order owes the remainder again. Card and
    leader payments are refunded by the leader, by any amount: the refund is recorded as owed.
    """
    if amount <= 0:
        return
    if deal.payment_mode is PaymentMode.STARS:
        refunded = {r.payment_id for r in await uow.payments.refunds_for_order(order.id)}
        charges = [
            p
            for p in await uow.payments.for_order(order.id)
            if p.status is PaymentStatus.RECEIVED and p.id not in refunded
        ]
        left = amount
        for charge in sorted(charges, key=lambda p: p.id, reverse=True):
            if left <= 0:
                break
            await _record_refund(uow, deal, order, charge, charge.amount, reason, now)
            left -= charge.amount
        await uow.orders.uncover(order.id)
        return
    await _record_refund(uow, deal, order, None, amount, reason, now)


async def _record_refund(
    uow: UnitOfWork,
    deal: Deal,
    order: Order,
    payment: Payment | None,
    amount: int,
    reason: RefundReason,
    now: datetime,
) -> None:
    # Money goes back to whoever paid it: the payment's payer, who is not always the order's
    # resident (a stranger who paid someone's invoice is refunded, never credited).
    payer = payment.user_id if payment else order.user_id
    refund = await uow.payments.add_refund(
        order_id=order.id,
        deal_id=deal.id,
        user_id=payer,
        payment_id=payment.id if payment else None,
        amount=amount,
        currency=payment.currency if payment else deal.currency,
        method=method_of(deal.payment_mode),
        reason=reason,
        now=now,
    )
    if reason in _SAID_WITH_THE_END and payer == order.user_id:
        return  # the buyer's one message about the deal's end says it (handlers.notices)
    await uow.outbox.add([Notice(NoticeKind.REFUND_OWED, payer, deal.id, payer, refund.id)], now)


# A deal that will not go ahead tells each buyer once: that it ended, and what comes back to
# them, in one message (ORDER_FAILED, ORDER_CANCELLED), not a 'nothing is owed' and then a
# 'refund on its way' that contradict each other. Someone else who paid is told on their own.
_SAID_WITH_THE_END = (RefundReason.FAILED, RefundReason.CANCELLED)


async def settle(
    uow: UnitOfWork, deal: Deal, order: Order, now: datetime, window: timedelta
) -> bool:
    """After an order changed: refund any excess at once; invoice and hold what is new. False
    when there was nothing to settle, so the order's payment state is as it was."""
    # Money is only ever taken, held or refunded for an order that had lines, and lines are
    # never deleted: an order without any (just made) has no payments to look for.
    if not deal.payment_mode.invoiced and (
        not order.lines or not await uow.payments.touched(order.id)
    ):
        return False  # cash or transfer, and no money yet: nothing to settle (the common press)
    if any(i.tiers for i in deal.items):
        # What a unit costs depends on every neighbour's units: the caller's copy of the deal
        # may be older than the lock it now holds.
        deal = await uow.deals.get(deal.id) or deal
    # Units taken out are no longer paid units, even when the money stays to pay for new ones:
    # a paid unit removed and added again must be paid again, and a lapse must drop it.
    await uow.orders.cap_paid(order.id)
    fresh = await uow.orders.get(order.id)
    assert fresh is not None
    money = await standing(uow, deal, fresh)
    if money.held > money.worth:
        await _refund(uow, deal, fresh, money.held - money.worth, RefundReason.REDUCED, now)
        money = await standing(uow, deal, fresh)
    await _mark_paid(uow, deal, fresh, money)
    if not deal.payment_mode.invoiced:
        return True
    await uow.payments.void_invoices(fresh.id)
    if money.due > 0:
        await uow.orders.set_pay_by(fresh.id, min(now + window, deal.deadline))
        await uow.orders.want_invoice(fresh.id)
    else:
        await uow.orders.set_pay_by(fresh.id, None)
        await uow.orders.want_invoice(fresh.id)  # so an outdated invoice message is removed
    return True


async def _mark_paid(uow: UnitOfWork, deal: Deal, order: Order, money: Standing) -> None:
    """Its units are paid when what it holds covers them. Paid to the leader, a tier that rose
    since makes them unpaid again until the rest comes (the modes paid at joining keep their
    paid units: their prices do not move)."""
    if money.held >= money.worth:
        await uow.orders.cover(order.id)
    elif not deal.payment_mode.invoiced and order.paid_amount(deal) > money.held:
        await uow.orders.uncover(order.id)


async def repriced(uow: UnitOfWork, deal: Deal) -> None:
    """A tier was crossed while the deal is open (`deal` as it is now): every order that holds
    money is marked paid or not at the new price. No money moves before the close, which fixes
    the tier and gives back what was paid at a dearer one."""
    for order in await uow.orders.for_deal(deal.id):
        if order.active and await uow.payments.touched(order.id):
            await _mark_paid(uow, deal, order, await standing(uow, deal, order))
    await uow.deals.touch_post(deal.id)


async def sold_out(uow: UnitOfWork, deal: Deal) -> bool:
    """Every unit is taken, and in invoiced modes paid for: held units may still lapse, and
    closing would drop them at once."""
    if not deal.sold_out:
        return False
    if not deal.payment_mode.invoiced:
        return True
    stats = await uow.deals.stats(deal.id)
    return stats.paid == stats.participants


async def refund_everyone(uow: UnitOfWork, deal: Deal, reason: RefundReason, now: datetime) -> None:
    """A deal that will not go ahead returns all money it holds."""
    for order in await uow.orders.for_deal(deal.id):
        await uow.payments.void_invoices(order.id)
        await uow.orders.set_pay_by(order.id, None)
    for order_id, amount in (await uow.payments.held_by_order(deal.id)).items():
        holder = await uow.orders.get(order_id)
        if holder is not None and amount > 0:
            await _refund(uow, deal, holder, amount, reason, now)
            await uow.orders.uncover(order_id)


async def issue_invoice(
    uow: UnitOfWork, order_id: int, now: datetime
) -> tuple[Deal, Order, int, str] | None:
    """A fresh invoice for what an order owes, or None if it owes nothing (or cannot pay now)."""
    order = await uow.orders.get(order_id)
    if order is None:
        return None
    deal = await uow.deals.get(order.deal_id)
    if deal is None or not _payable(deal, order) or not deal.payment_mode.invoiced:
        return None
    money = await standing(uow, deal, order)
    if money.due <= 0 or order.pay_by is None or order.pay_by <= now:
        return None
    # One payable invoice per order: a re-issue (say, after a crash before it was marked issued)
    # voids the one before, whose message then goes.
    await uow.payments.void_invoices(order.id)
    token = new_token()
    await uow.payments.add_invoice(
        token, order.id, deal.id, order.user_id, money.due, deal.currency, now
    )
    return deal, order, money.due, token


async def check_pre_checkout(
    uow: UnitOfWork, token: str, user_id: int, amount: int, currency: str, now: datetime
) -> str | None:
    """Telegram asks whether to take the money: None for yes, else the reason's message key.

    Database only and quick: Telegram allows 10 seconds for the answer.
    """
    invoice = await uow.payments.invoice(token)
    if invoice is None:
        return "invoice_unknown"
    if invoice.user_id != user_id:
        return "invoice_not_yours"
    order = await uow.orders.get(invoice.order_id)
    deal = await uow.deals.get(invoice.deal_id)
    # before the invoice's own state: ending a deal voids its invoices, and the payer should
    # hear that the deal ended, not that the invoice is outdated
    if order is None or deal is None or not _payable(deal, order):
        return "deal_not_open"
    if not invoice.open:
        return "invoice_outdated"
    if invoice.amount != amount or invoice.currency != currency:
        return "invoice_outdated"
    if order.pay_by is None or order.pay_by <= now:
        return "invoice_expired"
    money = await standing(uow, deal, order)
    if money.due != amount:
        return "invoice_outdated"
    return None


def _payable(deal: Deal, order: Order) -> bool:
    """Money can still buy this order: its deal is open, or closed with units re-invoiced after
    a Stars shortfall (held for the payment window: order.pay_by)."""
    if deal.status is DealStatus.OPEN:
        return True
    return deal.status is DealStatus.CLOSED and order.pay_by is not None


@dataclass(frozen=True, slots=True)
class Received:
    payment: Payment | None  # None: a duplicate update, nothing recorded
    applied: bool  # it paid the order; False: kept on record and refunded


async def receive_payment(
    uow: UnitOfWork,
    token: str,
    user_id: int,
    amount: int,
    currency: str,
    charge_id: str,
    provider_charge_id: str | None,
    now: datetime,
) -> Received:
    """Telegram says money arrived. Recorded once per charge id, whatever state the order is in.

    It is credited to the order only when it is exactly what the invoice asked: from the order's
    resident, in its currency, for its amount, while the invoice is the order's payable one.
    Anything else is kept on record and refunded to whoever paid (Stars automatically, a card by
    the leader), and the order stays payable. Money that no longer buys anything (lapsed order,
    ended deal, outdated invoice) is refunded too."""
    if await uow.payments.by_charge(charge_id) is not None:
        return Received(None, False)
    invoice = await uow.payments.invoice(token)
    if invoice is None:
        raise DomainError("invoice_unknown")  # money with no order: kept in the log, see caller
    deal = await uow.deals.get(invoice.deal_id)
    order = await uow.orders.get(invoice.order_id)
    assert deal is not None and order is not None
    exact = (
        user_id == invoice.user_id == order.user_id
        and currency == invoice.currency == deal.currency
        and amount == invoice.amount
    )
    payment = await uow.payments.add(
        order_id=order.id,
        deal_id=deal.id,
        user_id=user_id,
        method=method_of(deal.payment_mode),
        status=PaymentStatus.RECEIVED,
        amount=amount,
        currency=currency,
        now=now,
        charge_id=charge_id,
        provider_charge_id=provider_charge_id,
    )
    if payment is None:  # a concurrent duplicate won the unique charge id
        return Received(None, False)
    if not exact:
        await _record_refund(uow, deal, order, payment, amount, RefundReason.MISMATCH, now)
        return Received(payment, False)
    money = await standing(uow, deal, order)
    # The invoice is consumed last, only by money that pays it: anything refunded leaves it
    # payable for the right payment.
    fits = (
        _payable(deal, order)
        and money.held == money.worth
        and invoice.open
        and await uow.payments.pay_invoice(token)
    )
    notices = [Notice(NoticeKind.PAYMENT_RECEIPT, user_id, deal.id, user_id, payment.id)]
    await uow.outbox.add(notices, now)
    if fits:
        await uow.orders.cover(order.id)
        await uow.orders.set_pay_by(order.id, None)
        await uow.deals.touch_post(deal.id)
        after = await uow.deals.get(deal.id)
        if after is not None and await sold_out(uow, after):
            from groupbuy.deals import close_deal  # deals imports this module

            await close_deal(uow, deal.id, CloseReason.SOLD_OUT, now)
        return Received(payment, True)
    await _record_refund(uow, deal, order, payment, amount, RefundReason.LATE, now)
    return Received(payment, False)


async def claim_paid(uow: UnitOfWork, deal: Deal, user_id: int, now: datetime) -> Payment:
    """'I have paid': the resident says they paid the leader what they owe."""
    if deal.payment_mode not in (PaymentMode.LEADER, PaymentMode.CASH):
        raise DomainError("pay_in_chat")
    if deal.status in (DealStatus.FAILED, DealStatus.CANCELLED):
        raise DomainError("deal_not_open")  # nothing to pay for: it was all refunded
    order = await uow.orders.of_user(deal.id, user_id)
    if order is None or not order.active:
        raise DomainError("no_order")
    money = await standing(uow, deal, order)
    if money.due <= 0:
        raise DomainError("already_paid")
    if money.claimed >= money.due:
        raise DomainError("claim_pending")
    payment = await uow.payments.add(
        order_id=order.id,
        deal_id=deal.id,
        user_id=user_id,
        method=method_of(deal.payment_mode),
        status=PaymentStatus.CLAIMED,
        amount=money.due - money.claimed,
        currency=deal.currency,
        now=now,
    )
    assert payment is not None
    return payment


async def decide_claim(
    uow: UnitOfWork, payment_id: int, accept: bool, now: datetime, window: timedelta
) -> tuple[Deal, Payment]:
    """A leader confirms or rejects a reported payment (the caller checked they lead)."""
    payment = await uow.payments.get(payment_id)
    if payment is None:
        raise DomainError("stale_button")
    deal = await uow.deals.get(payment.deal_id)
    order = await uow.orders.get(payment.order_id)
    assert deal is not None and order is not None
    status = PaymentStatus.RECEIVED if accept else PaymentStatus.REJECTED
    if not await uow.payments.decide(payment_id, status, now):
        raise DomainError("already_decided")
    kind = NoticeKind.PAYMENT_RECEIPT if accept else NoticeKind.PAYMENT_REJECTED
    await uow.outbox.add([Notice(kind, payment.user_id, deal.id, payment.user_id, payment.id)], now)
    if accept:
        if deal.status in (DealStatus.FAILED, DealStatus.CANCELLED):
            await _record_refund(uow, deal, order, payment, payment.amount, RefundReason.LATE, now)
        else:
            await settle(uow, deal, order, now, window)
        await uow.deals.touch_post(deal.id)
    fresh = await uow.payments.get(payment_id)
    assert fresh is not None
    return deal, fresh


async def collect_cash(uow: UnitOfWork, deal: Deal, order: Order, now: datetime) -> int:
    """At pickup, the leader takes what a cash order still owes; returns the amount taken."""
    money = await standing(uow, deal, order)
    if money.due <= 0:
        return 0
    payment = await uow.payments.add(
        order_id=order.id,
        deal_id=deal.id,
        user_id=order.user_id,
        method=PaymentMethod.CASH,
        status=PaymentStatus.RECEIVED,
        amount=money.due,
        currency=deal.currency,
        now=now,
    )
    assert payment is not None
    await uow.orders.cover(order.id)
    await uow.deals.touch_post(deal.id)
    return money.due


async def confirm_refund(uow: UnitOfWork, refund_id: int, now: datetime) -> int:
    """The leader says a refund was made; returns the deal id. Only owed refunds move."""
    refund = await uow.payments.refund(refund_id)
    if refund is None:
        raise DomainError("stale_button")
    if refund.method is PaymentMethod.STARS:
        raise NotAllowed("stars_refund_automatic")
    if not await uow.payments.refund_done(refund_id, now):
        raise DomainError("refund_already_done")
    await uow.outbox.add(
        [Notice(NoticeKind.REFUND_DONE, refund.user_id, refund.deal_id, refund.user_id, refund.id)],
        now,
    )
    return refund.deal_id


async def _keep_paid_units(
    uow: UnitOfWork,
    deal: Deal,
    order_id: int,
    reason: RefundReason,
    now: datetime,
    rebill: timedelta | None = None,
) -> None:
    """Units were taken out of an order with no hold left (a lapse, a shortfall): refund the money
    that paid for them. In invoiced modes only paid units stay: Stars go back whole charges and
    uncover the order, and when what is left pays for no exact set of units, those units go too
    (back to stock) and the rest of the money goes back.

    `rebill` (a shortfall): the units that did arrive are the buyer's, so instead of dropping
    them they are held for that long and invoiced afresh (Stars refunds can only return whole
    charges, so a partly cut Stars order is refunded whole and billed again for the rest)."""
    order = await uow.orders.get(order_id)
    assert order is not None
    money = await standing(uow, deal, order)
    if money.held > money.worth:
        await _refund(uow, deal, order, money.held - money.worth, reason, now)
        money = await standing(uow, deal, order)
    if rebill is not None and deal.payment_mode.invoiced and money.held < money.worth:
        await uow.payments.void_invoices(order_id)
        await uow.orders.set_pay_by(order_id, now + rebill)
        await uow.orders.want_invoice(order_id)
        return
    if deal.payment_mode.invoiced and money.held < money.worth:
        await uow.orders.uncover(order_id)
        for item_id, dropped in await uow.orders.revert_to_paid(order_id):
            await uow.deals.release(deal.id, item_id, dropped)
        emptied = await uow.orders.get(order_id)
        assert emptied is not None
        money = await standing(uow, deal, emptied)
        if money.held > money.worth:
            await _refund(uow, deal, emptied, money.held - money.worth, reason, now)
            money = await standing(uow, deal, emptied)
    if money.held >= money.worth:
        await uow.orders.cover(order_id)  # what is left is paid for
        if rebill is not None and order.pay_by is not None:
            # An earlier shortfall's re-bill, and this one took the units it billed: nothing is
            # owed now, so its hold ends and its invoice can no longer be paid.
            await uow.payments.void_invoices(order_id)
            await uow.orders.set_pay_by(order_id, None)
            await uow.orders.want_invoice(order_id)  # removes the dead invoice message


async def lapse(uow: UnitOfWork, order_id: int, now: datetime, *, force: bool = False) -> bool:
    """The payment window passed (or the deal is closing): unpaid units go back to stock, money
    that no longer buys anything is refunded, and the resident is told."""
    order = await uow.orders.get(order_id)
    if order is None or order.pay_by is None or (order.pay_by > now and not force):
        return False
    if order.picked_up_at is not None:
        return False  # handed out: its units are the buyer's, whatever the hold said
    deal = await uow.deals.get(order.deal_id)
    if deal is None or not deal.payment_mode.invoiced:
        return False
    if deal.status is DealStatus.OPEN and not await uow.deals.begin_change(deal.id):
        return False
    for item_id, dropped in await uow.orders.revert_to_paid(order_id):
        await uow.deals.release(deal.id, item_id, dropped)
    await _keep_paid_units(uow, deal, order_id, RefundReason.LATE, now)
    await uow.payments.void_invoices(order_id)
    await uow.orders.set_pay_by(order_id, None)
    await uow.orders.want_invoice(order_id)  # removes the dead invoice message
    # A negative ref: the hold was cut short by the deal's close (the leader closed it early, or
    # it sold out), not ended by the clock; the notice says which (handlers.notices).
    early = force and order.pay_by > now
    ref = int(now.timestamp()) * (-1 if early else 1)
    await uow.outbox.add(
        [Notice(NoticeKind.ORDER_LAPSED, order.user_id, deal.id, order.user_id, ref)], now
    )
    return True


async def refund_excess(
    uow: UnitOfWork,
    deal: Deal,
    order_id: int,
    reason: RefundReason,
    now: datetime,
    rebill: timedelta | None = None,
) -> int:
    """Refund whatever an order holds beyond what it is now worth; returns the amount (see
    _keep_paid_units for `rebill`)."""
    order = await uow.orders.get(order_id)
    if order is None:
        return 0
    await uow.orders.cap_paid(order_id)  # units taken away are not paid units any more
    money = await standing(uow, deal, order)
    await _keep_paid_units(uow, deal, order_id, reason, now, rebill)
    return max(0, money.held - money.worth)


WINDOW_MINUTES = (5, 24 * 60)  # the shortest and longest hold a community may choose


def with_mode(community: Community, mode: PaymentMode, default_currency: str) -> Community:
    """A community's new payment mode. Stars are their own currency (XTR); leaving Stars goes
    back to the default currency, since prices in Stars mean nothing in yuan."""
    currency = community.currency
    if mode is PaymentMode.STARS:
        currency = "XTR"
    elif currency == "XTR":
        currency = default_currency
    return replace(community, payment_mode=mode, currency=currency)


SHOWN_DEALS = 100  # a community's open and closed deals whose order cards show its payee


async def set_payee(
    uow: UnitOfWork, community: Community, payee: str, photo: str | None
) -> Community:
    """A community's pay-the-leader details: saved, and the order cards of its pay-the-leader
    deals, which show them, marked to be drawn again (no repository sees this change)."""
    updated = replace(community, payee=payee, payee_photo=photo)
    await uow.communities.save(updated)
    deals = await uow.deals.for_community(
        community.chat_id, [DealStatus.OPEN, DealStatus.CLOSED], SHOWN_DEALS
    )
    shown = {d.id for d in deals if d.payment_mode is PaymentMode.LEADER}
    if shown:
        await uow.live.bump(Touched(deals=shown))
    return updated


def with_window(community: Community, text: str) -> Community:
    """A community's payment window, typed in minutes."""
    low, high = WINDOW_MINUTES
    minutes = parsing.positive_int(text or "0", high, key="minutes")
    if minutes < low:
        raise InputError("int_out_of_range", field="minutes", limit=high)
    return replace(community, payment_window_minutes=minutes)


async def remind_unpaid(uow: UnitOfWork, deal: Deal, now: datetime, every: timedelta) -> int:
    """The leader's 'remind unpaid': everyone who still owes is reminded, at most once per
    `every` per deal; returns how many were."""
    if not await uow.deals.claim_unpaid_reminder(deal.id, now, every):
        return 0
    ref = int(now.timestamp())
    notices = [
        Notice(NoticeKind.PAYMENT_REMINDER, order.user_id, deal.id, order.user_id, ref)
        for order in await uow.orders.for_deal(deal.id)
        if (await standing(uow, deal, order)).due > 0
    ]
    await uow.outbox.add(notices, now)
    return len(notices)
