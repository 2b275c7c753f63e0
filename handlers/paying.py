"""Residents pay: invoices and Telegram's payment updates, and 'I have paid' for the leader."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from groupbuy.errors import DomainError
from groupbuy.model import Community, Deal, Order, Payment
from groupbuy.payments import (
    Standing,
    check_pre_checkout,
    claim_paid,
    issue_invoice,
    receive_payment,
    standing,
)
from groupbuy.ports import UnitOfWork
from handlers import guide
from handlers.actions import Action, Answer, AnswerPreCheckout, Delete, Send, SendInvoice
from handlers.authority import Caller, Intent, as_resident
from handlers.callbacks import Callback
from handlers.common import alert, error_text, remember, remembered
from handlers.context import Deps
from handlers.events import MessageIn, PreCheckout, Press

log = logging.getLogger(__name__)
PHOTO_STATE = "payment_photo"
TITLE_MAX = 32  # Telegram's limits for an invoice
DESCRIPTION_MAX = 255


def window(community: Community | None) -> timedelta:
    return timedelta(minutes=community.payment_window_minutes if community else 30)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def invoice_prices(
    deps: Deps, locale: str, deal: Deal, order: Order, due: int
) -> tuple[tuple[str, int], ...]:
    """One labelled price per unpaid line; a single 'amount due' when lines cannot add up to it
    (Stars refunds whole charges, which can leave money on an order that no line accounts for)."""
    items = {i.id: i for i in deal.items}
    lines = tuple(
        (
            deps.texts.macro(
                locale,
                "labels",
                "invoice_line",
                item=items[ln.item_id],
                quantity=ln.quantity - ln.paid_quantity,
            ),
            items[ln.item_id].unit_price * (ln.quantity - ln.paid_quantity),
        )
        for ln in order.lines
        if ln.quantity > ln.paid_quantity
    )
    fee = order.fee(deal)  # delivery by the leader: a price of its own
    if fee and sum(amount for _, amount in lines) + fee == due:
        return (*lines, (deps.texts.macro(locale, "labels", "invoice_delivery"), fee))
    if sum(amount for _, amount in lines) == due:
        return lines
    return ((deps.texts.macro(locale, "labels", "invoice_due"), due),)


async def invoice_actions(deps: Deps, order_id: int) -> tuple[list[Action], str | None]:
    """What the background sends for an order that wants a fresh invoice: the dead invoice
    messages go, a new invoice comes if something is owed. Returns the actions and its token."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        issued = await issue_invoice(uow, order_id, now)
        order = await uow.orders.get(order_id)
        dead = await uow.payments.invoice_messages(order_id)
        for token, _ in dead:
            await uow.payments.forget_invoice_message(token)
        user = await uow.users.get(order.user_id) if order else None
        await uow.commit()
    actions: list[Action] = (
        [Delete(order.user_id, message_id) for _, message_id in dead] if order else []
    )
    if issued is None:
        return actions, None
    deal, fresh, due, token = issued
    locale = deps.user_locale(user)
    description = deps.texts.plain(locale, "invoice_description", deal=deal, order=fresh)
    actions.append(
        SendInvoice(
            chat_id=fresh.user_id,
            title=_clip(deal.title, TITLE_MAX),
            description=_clip(description, DESCRIPTION_MAX),
            payload=token,
            currency=deal.currency,
            prices=invoice_prices(deps, locale, deal, fresh, due),
            order_id=fresh.id,
        )
    )
    return actions, token


async def record_invoice_message(deps: Deps, token: str, message_id: int) -> None:
    async with deps.uow() as uow:
        await uow.payments.set_invoice_message(token, message_id)
        await uow.commit()


async def on_pre_checkout(deps: Deps, event: PreCheckout) -> list[Action]:
    """Answered from the database alone, well within Telegram's 10 seconds."""
    async with deps.uow() as uow:
        user = await uow.users.get(event.sender.id)
        reason = await check_pre_checkout(
            uow,
            event.payload,
            event.sender.id,
            event.total_amount,
            event.currency,
            deps.clock.now(),
        )
    if reason is None:
        return [AnswerPreCheckout(event.query_id)]
    locale = deps.user_locale(user or event.sender)
    return [AnswerPreCheckout(event.query_id, error_text(deps, locale, DomainError(reason)))]


async def on_successful_payment(deps: Deps, message: MessageIn) -> list[Action]:
    """Money arrived: recorded once per charge, whatever became of the order meanwhile."""
    payment = message.payment
    assert payment is not None
    async with deps.uow() as uow:
        await remember(deps, uow, message.sender, private=True)
        try:
            await receive_payment(
                uow,
                payment.payload,
                message.sender.id,
                payment.total_amount,
                payment.currency,
                payment.charge_id,
                payment.provider_charge_id,
                deps.clock.now(),
            )
        except DomainError:
            # Telegram took money for an invoice we never issued. Nothing to attach it to:
            # log everything needed to refund it by hand.
            log.error("payment for an unknown invoice: %r from %s", payment, message.sender.id)
            return []
        await uow.commit()
    return []  # the receipt is in the outbox, written with the payment


async def on_claim(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    """'I have paid' the leader: recorded as claimed, for the leader to confirm."""
    now = deps.clock.now()
    user = await remembered(deps, press.sender, private=press.chat.is_private)
    locale = deps.user_locale(user)

    async def act(uow: UnitOfWork, deal: Deal) -> tuple[Deal, Payment]:
        payment = await claim_paid(uow, deal, user.id, now)
        await uow.dialogs.save(user.id, PHOTO_STATE, {"payment": payment.id}, now)
        await uow.commit()
        return deal, payment

    try:
        deal, payment = await as_resident(deps, Caller.of(press), cb.deal, Intent.CHANGE, act)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    text = deps.texts.render(locale, "claim_recorded", deal=deal, payment=payment)
    return [Answer(press.query_id), Send(user.id, text)]


async def on_claim_photo(deps: Deps, message: MessageIn, data: dict[str, Any]) -> list[Action]:
    """A photo of the transfer, sent right after 'I have paid'."""
    async with deps.uow() as uow:
        user = await remember(deps, uow, message.sender, private=True)
        await uow.dialogs.clear(user.id)
        if message.photo_file_id:
            await uow.payments.attach_photo(int(data["payment"]), message.photo_file_id)
        await uow.commit()
    locale = deps.user_locale(user)
    if message.photo_file_id:
        return [Send(message.chat.id, deps.texts.render(locale, "claim_photo_saved"))]
    return [await guide.help_for(deps, message, user)]


async def on_payee_code(deps: Deps, press: Press, cb: Callback) -> list[Action]:
    """The leader's collection code, sent to the resident with what they owe now."""
    user = await remembered(deps, press.sender, private=press.chat.is_private)
    locale = deps.user_locale(user)

    async def act(uow: UnitOfWork, deal: Deal) -> tuple[Deal, Community | None, Standing | None]:
        community = await uow.communities.get(deal.community_id)
        order = await uow.orders.of_user(deal.id, user.id)
        return deal, community, await standing(uow, deal, order) if order else None

    try:
        deal, community, money = await as_resident(deps, Caller.of(press), cb.deal, Intent.SEE, act)
    except DomainError as error:
        return [alert(deps, press.query_id, locale, error)]
    if community is None or not community.payee_photo:  # the leader removed it meanwhile
        return [alert(deps, press.query_id, locale, DomainError("no_payee_code"))]
    return [Answer(press.query_id), code_photo(deps, locale, user.id, deal, community, money)]


def code_photo(
    deps: Deps,
    locale: str,
    chat_id: int,
    deal: Deal,
    community: Community,
    money: Standing | None,
) -> Send:
    """The leader's collection code, captioned with the deal and what is owed on it now."""
    assert community.payee_photo is not None
    caption = deps.texts.render(locale, "payee_code", deal=deal, community=community, money=money)
    return Send(chat_id, caption, photo_file_id=community.payee_photo)
