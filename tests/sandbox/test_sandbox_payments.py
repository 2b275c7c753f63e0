"""Payments in the emulator: sendInvoice validation, the payer's flow with a real aiogram
Dispatcher answering pre-checkout queries, the 10-second rule, duplicates and Stars refunds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import LabeledPrice, Message, PreCheckoutQuery

from sandbox.emulator import Emulator
from sandbox.errors import DriverError
from sandbox.payments import PRE_CHECKOUT_TIMEOUT

MILK = [LabeledPrice(label="Milk 1L × 2", amount=2500), LabeledPrice(label="Yogurt", amount=500)]


@contextlib.asynccontextmanager
async def shop(bot: Bot, answer: str = "ok") -> AsyncIterator[list[Message]]:
    """A tiny bot: answers pre-checkout queries as told and collects successful payments."""
    dp = Dispatcher()
    paid: list[Message] = []

    @dp.pre_checkout_query()
    async def pre_checkout(query: PreCheckoutQuery) -> None:
        if answer == "ok":
            await query.answer(ok=True)
        elif answer == "no":
            await query.answer(ok=False, error_message="Sold out, sorry")
        # "silent": never answers

    @dp.message(F.successful_payment)
    async def successful(message: Message) -> None:
        paid.append(message)

    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        yield paid
    finally:
        await dp.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Polls: the bot's own handlers change nothing the emulator could wake a waiter on."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def started(emu: Emulator, name: str = "Ann") -> int:
    uid = await emu.add_user(name)
    await emu.send_message(uid, uid, "/start")
    return uid


async def invoice(bot: Bot, uid: int, **kwargs: Any) -> Message:
    args: dict[str, Any] = {
        "chat_id": uid,
        "title": "Fresh milk",
        "description": "Order #7 in Sunny Garden",
        "payload": "o:7:1",
        "provider_token": "284685063:TEST:sandbox",
        "currency": "CNY",
        "prices": MILK,
    }
    args.update(kwargs)
    return await bot.send_invoice(**args)


async def test_send_invoice_returns_an_invoice_message(emu: Emulator, bot: Bot) -> None:
    uid = await started(emu)
    sent = await invoice(bot, uid, start_parameter="o7")
    assert sent.invoice is not None
    assert (sent.invoice.title, sent.invoice.currency, sent.invoice.total_amount) == (
        "Fresh milk",
        "CNY",
        3000,
    )
    assert sent.invoice.start_parameter == "o7"
    shown = emu.last_message(uid)
    assert shown is not None and shown.invoice is not None
    assert shown.invoice["total_amount"] == 3000 and shown.from_bot
    stored = emu.invoice(uid, sent.message_id)
    assert stored is not None and stored.payload == "o:7:1" and len(stored.prices) == 2


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"title": "x" * 33}, "INVOICE_TITLE_INVALID"),
        ({"description": "x" * 256}, "INVOICE_DESCRIPTION_INVALID"),
        ({"payload": "é" * 65}, "INVOICE_PAYLOAD_INVALID"),
        ({"currency": "ABC"}, "CURRENCY_INVALID"),
        ({"provider_token": ""}, "PAYMENT_PROVIDER_INVALID"),
        ({"prices": []}, "prices is empty"),
        ({"prices": [LabeledPrice(label="free", amount=0)]}, "CURRENCY_TOTAL_AMOUNT_INVALID"),
        ({"currency": "XTR"}, "PAYMENT_PROVIDER_INVALID"),
        ({"currency": "XTR", "provider_token": ""}, "STARS_INVOICE_INVALID"),
    ],
)
async def test_send_invoice_is_validated(
    emu: Emulator, bot: Bot, change: dict[str, Any], error: str
) -> None:
    uid = await started(emu)
    with pytest.raises(TelegramBadRequest, match=error):
        await invoice(bot, uid, **change)


async def test_invoice_keyboard_must_start_with_pay(emu: Emulator, bot: Bot) -> None:
    uid = await started(emu)
    url = f"{emu.base_url}/bot{emu.token}/sendInvoice"
    body: dict[str, Any] = {
        "chat_id": uid,
        "title": "Stars",
        "description": "A service fee",
        "payload": "fee",
        "currency": "XTR",
        "prices": [{"label": "Fee", "amount": 5}],
        "reply_markup": {"inline_keyboard": [[{"text": "Help", "callback_data": "h"}]]},
    }
    async with aiohttp.ClientSession() as s:
        async with s.post(url, json=body) as r:
            assert (r.status, (await r.json())["description"]) == (
                400,
                "Bad Request: REPLY_MARKUP_BUY_EMPTY",
            )
        body["reply_markup"] = {"inline_keyboard": [[{"text": "Pay ⭐5", "pay": True}]]}
        async with s.post(url, json=body) as r:
            assert r.status == 200, await r.text()


async def test_pay_invoice_ok(emu: Emulator, bot: Bot) -> None:
    uid = await started(emu)
    sent = await invoice(bot, uid)
    async with shop(bot) as paid:
        result = await emu.pay_invoice(uid, uid, sent.message_id)
        await eventually(lambda: bool(paid))
    assert result.ok and result.status == "paid"
    assert result.pre_checkout_query_id is not None
    payment = paid[0].successful_payment
    assert payment is not None and paid[0].chat.id == uid and paid[0].from_user is not None
    assert (payment.currency, payment.total_amount, payment.invoice_payload) == (
        "CNY",
        3000,
        "o:7:1",
    )
    assert payment.telegram_payment_charge_id == result.telegram_payment_charge_id
    assert payment.provider_payment_charge_id == result.provider_payment_charge_id
    [charge] = emu.payments()
    assert (charge.user_id, charge.total_amount, charge.refunded) == (uid, 3000, False)
    # A second payment gets new, unique charge ids.
    async with shop(bot) as paid_again:
        again = await emu.pay_invoice(uid, uid, sent.message_id)
        await eventually(lambda: bool(paid_again))
    assert again.telegram_payment_charge_id != result.telegram_payment_charge_id
    assert again.provider_payment_charge_id != result.provider_payment_charge_id
    answers = [r for r in emu.requests_log if r.method == "answerPreCheckoutQuery"]
    assert len(answers) == 2 and all(r.ok for r in answers)


async def test_pay_invoice_declined_carries_the_bots_reason(emu: Emulator, bot: Bot) -> None:
    uid = await started(emu)
    sent = await invoice(bot, uid)
    async with shop(bot, "no") as paid:
        result = await emu.pay_invoice(uid, uid, sent.message_id)
        await asyncio.sleep(0.2)
    assert (result.ok, result.status, result.error_message) == (
        False,
        "declined",
        "Sold out, sorry",
    )
    assert result.telegram_payment_charge_id is None
    assert not paid and not emu.payments()


async def test_ten_second_rule(emu: Emulator, bot: Bot) -> None:
    """No answer within the limit: the payment fails and a late answer is refused."""
    assert PRE_CHECKOUT_TIMEOUT == 10.0  # Telegram's rule is the default
    uid = await started(emu)
    sent = await invoice(bot, uid)
    async with shop(bot, "silent") as paid:
        paying = asyncio.create_task(emu.pay_invoice(uid, uid, sent.message_id))
        await emu.wait_until(lambda: bool(emu.state.payments.pre_checkouts))
        await asyncio.sleep(0.1)
        await emu.advance(PRE_CHECKOUT_TIMEOUT + 0.5)  # ten seconds of emulator time pass
        result = await asyncio.wait_for(paying, 2)
        assert (result.ok, result.status) == (False, "timeout")
        [query_id] = emu.state.payments.pre_checkouts
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_pre_checkout_query(query_id, ok=True)
    assert not paid and not emu.payments()


async def test_short_limit_in_real_time(emu: Emulator, bot: Bot) -> None:
    uid = await started(emu)
    sent = await invoice(bot, uid)
    async with shop(bot, "silent"):
        result = await emu.pay_invoice(uid, uid, sent.message_id, timeout=0.3)
    assert result.status == "timeout"


async def test_answer_rules(emu: Emulator, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_pre_checkout_query("nope", ok=True)
    uid = await started(emu)
    sent = await invoice(bot, uid)
    paying = asyncio.create_task(emu.pay_invoice(uid, uid, sent.message_id, timeout=5))
    await emu.wait_until(lambda: bool(emu.state.payments.pre_checkouts))
    [query_id] = emu.state.payments.pre_checkouts
    with pytest.raises(TelegramBadRequest, match="error_message is empty"):
        await bot.answer_pre_checkout_query(query_id, ok=False)
    assert await bot.answer_pre_checkout_query(query_id, ok=True)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_pre_checkout_query(query_id, ok=True)  # answered twice
    assert (await paying).ok


async def test_duplicate_and_skipped_pre_checkout(emu: Emulator, bot: Bot) -> None:
    uid = await started(emu)
    sent = await invoice(bot, uid)
    async with shop(bot) as paid:
        skipped = await emu.pay_invoice(uid, uid, sent.message_id, skip_pre_checkout=True)
        assert skipped.ok and skipped.pre_checkout_query_id is None
        charge_id = skipped.telegram_payment_charge_id
        assert charge_id is not None
        await emu.resend_successful_payment(uid, charge_id)
        await eventually(lambda: len(paid) == 2)
    ids = [m.successful_payment.telegram_payment_charge_id for m in paid if m.successful_payment]
    assert ids == [charge_id, charge_id]
    assert len(emu.payments()) == 1
    with pytest.raises(DriverError, match="no charge"):
        await emu.resend_successful_payment(uid, "tgcharge-nope")
    with pytest.raises(DriverError, match="not an invoice"):
        await emu.pay_invoice(uid, uid, sent.message_id + 100)
    other = await started(emu, "Bob")
    with pytest.raises(DriverError, match="cannot write"):
        await emu.pay_invoice(other, uid, sent.message_id)


async def test_refund_star_payment(emu: Emulator, bot: Bot) -> None:
    uid = await started(emu)
    other = await started(emu, "Bob")
    stars = await invoice(bot, uid, currency="XTR", provider_token="", prices=[MILK[1]])
    card = await invoice(bot, uid)
    async with shop(bot):
        star_paid = await emu.pay_invoice(uid, uid, stars.message_id)
        card_paid = await emu.pay_invoice(uid, uid, card.message_id)
    assert star_paid.ok and card_paid.ok and star_paid.provider_payment_charge_id == ""
    star_id, card_id = star_paid.telegram_payment_charge_id, card_paid.telegram_payment_charge_id
    assert star_id is not None and card_id is not None
    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(other, star_id)  # someone else's charge
    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(uid, card_id)  # not a Stars payment
    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(uid, "nope")
    assert await bot.refund_star_payment(uid, star_id)
    with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(uid, star_id)
    [refund] = emu.refunds()
    assert (refund.telegram_payment_charge_id, refund.user_id, refund.total_amount) == (
        star_id,
        uid,
        500,
    )
    assert [c.refunded for c in emu.payments()] == [True, False]


async def test_payments_over_the_http_driver(emu: Emulator, bot: Bot) -> None:
    uid = await started(emu)
    sent = await invoice(bot, uid)
    base = f"{emu.base_url}/_driver"
    async with shop(bot), aiohttp.ClientSession() as s:
        body = {"user_id": uid, "chat_id": uid, "message_id": sent.message_id}
        async with s.post(f"{base}/pay_invoice", json=body) as r:
            result = (await r.json())["result"]
        assert result["status"] == "paid"
        body = {"user_id": uid, "charge_id": result["telegram_payment_charge_id"]}
        async with s.post(f"{base}/resend_successful_payment", json=body) as r:
            assert r.status == 200
        async with s.get(f"{base}/payments") as r:
            [charge] = (await r.json())["result"]
        assert charge["telegram_payment_charge_id"] == result["telegram_payment_charge_id"]
        async with s.get(f"{base}/refunds") as r:
            assert (await r.json())["result"] == []
        async with s.post(f"{base}/pay_invoice", json={"user_id": uid, "chat_id": uid}) as r:
            assert r.status == 400 and "message_id" in (await r.json())["error"]
