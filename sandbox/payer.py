"""The payer's side of Telegram Payments, played like Telegram plays it.

``pay_invoice`` sends the bot a ``pre_checkout_query``, waits for its answer (10 seconds of
emulator time, Telegram's rule) and, when the bot says ok, a ``successful_payment`` message in the
invoice's chat (the private chat, for an invoice sent there). Fault injection for tests:
``skip_pre_checkout`` and ``resend_successful_payment``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from aiogram.types import OrderInfo, PreCheckoutQuery

from sandbox import render
from sandbox.errors import DriverError
from sandbox.payments import (
    PRE_CHECKOUT_TIMEOUT,
    ChargeRec,
    InvoiceRec,
    PaymentResult,
    PreCheckoutRec,
    RefundRec,
)
from sandbox.world import WorldDriver


class PayerDriver(WorldDriver):
    async def pay_invoice(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        *,
        timeout: float = PRE_CHECKOUT_TIMEOUT,
        skip_pre_checkout: bool = False,
        order_info: dict[str, Any] | None = None,
        form_open: bool = False,
    ) -> PaymentResult:
        """Pay an invoice the bot sent. ``timeout`` is in emulator seconds (Telegram: 10).

        ``form_open``: the payer opened Telegram's payment form before the bot deleted the
        invoice message, and pays anyway (Telegram still asks the bot first)."""
        st = self.state
        chat = self._chat_for(user_id, chat_id)
        invoice = st.payments.invoices.get((chat.id, message_id))
        shown = st.find_message(chat.id, message_id) is not None
        if invoice is None or not (shown or form_open):
            raise DriverError(f"message {message_id} in chat {chat_id} is not an invoice")
        result = PaymentResult("paid", invoice.currency, invoice.total_amount, invoice.payload)
        if not skip_pre_checkout:
            query = await self._pre_checkout(user_id, invoice, timeout, order_info)
            result = replace(result, pre_checkout_query_id=query.id)
            if query.answer is None:
                return replace(result, status="timeout")
            if not query.answer["ok"]:
                return replace(
                    result, status="declined", error_message=query.answer["error_message"]
                )
        charge = self._charge(user_id, invoice)
        msg = self._payment_message(charge, order_info)
        return replace(
            result,
            telegram_payment_charge_id=charge.telegram_payment_charge_id,
            provider_payment_charge_id=charge.provider_payment_charge_id,
            message_id=msg,
        )

    async def pay_together(self, payers: Sequence[tuple[int, int]]) -> list[PaymentResult]:
        """Several residents pay at the same moment, each an invoice in their private chat
        (`(user_id, invoice message_id)`): every pre-checkout is asked first, all at once, and
        then the successful payments of those the bot accepted reach it together, as one batch
        of updates (a busy minute at the provider)."""
        st = self.state
        invoices = []
        for user_id, message_id in payers:
            invoice = st.payments.invoices.get((user_id, message_id))
            if invoice is None:
                raise DriverError(f"message {message_id} in chat {user_id} is not an invoice")
            invoices.append((user_id, invoice))
        queries = await asyncio.gather(
            *(self._pre_checkout(u, i, PRE_CHECKOUT_TIMEOUT, None) for u, i in invoices)
        )
        results = []
        for (user_id, invoice), query in zip(invoices, queries, strict=True):
            result = PaymentResult(
                "paid", invoice.currency, invoice.total_amount, invoice.payload, query.id
            )
            if query.answer is None or not query.answer["ok"]:
                results.append(replace(result, status="declined" if query.answer else "timeout"))
                continue
            charge = self._charge(user_id, invoice)
            results.append(
                replace(
                    result,
                    telegram_payment_charge_id=charge.telegram_payment_charge_id,
                    provider_payment_charge_id=charge.provider_payment_charge_id,
                    message_id=self._payment_message(charge, None),
                )
            )
        return results

    async def resend_successful_payment(self, user_id: int, charge_id: str) -> int:
        """Deliver the same successful_payment again (a duplicate update); returns its message."""
        charge = self.state.payments.charges.get(charge_id)
        if charge is None or charge.user_id != user_id:
            raise DriverError(f"user {user_id} has no charge {charge_id}")
        return self._payment_message(charge, None)

    def payments(self) -> list[ChargeRec]:
        return list(self.state.payments.charges.values())

    def refunds(self) -> list[RefundRec]:
        return list(self.state.payments.refunds)

    def invoice(self, chat_id: int, message_id: int) -> InvoiceRec | None:
        return self.state.payments.invoices.get((chat_id, message_id))

    # --- steps ---------------------------------------------------------------------------------
    async def _pre_checkout(
        self,
        user_id: int,
        invoice: InvoiceRec,
        limit: float,
        order_info: dict[str, Any] | None,
    ) -> PreCheckoutRec:
        st = self.state
        query = PreCheckoutRec(
            st.new_id("pcq"), user_id, invoice.chat_id, invoice.message_id, st.clock.now()
        )
        st.payments.pre_checkouts[query.id] = query
        update = PreCheckoutQuery(
            id=query.id,
            from_user=render.user(st.users[user_id]),
            currency=invoice.currency,
            total_amount=invoice.total_amount,
            invoice_payload=invoice.payload,
            order_info=OrderInfo.model_validate(order_info) if order_info else None,
        )
        st.push_update("pre_checkout_query", render.dump(update))
        st.changed({"type": "pre_checkout", "chat_id": invoice.chat_id, "user_id": user_id})
        deadline = query.created + limit
        # The clock runs at least as fast as real time, so `limit` real seconds always suffice;
        # an advance() of the clock wakes the wait early.
        with contextlib.suppress(TimeoutError):
            await st.wait_until(
                lambda: query.answer is not None or st.clock.now() >= deadline, limit + 0.5
            )
        query.done.set()  # a later answer is refused as too old
        return query

    def _charge(self, user_id: int, invoice: InvoiceRec) -> ChargeRec:
        st = self.state
        charge = ChargeRec(
            telegram_payment_charge_id=st.new_id("tgcharge-"),
            provider_payment_charge_id=st.new_id("provcharge-") if invoice.provider_token else "",
            user_id=user_id,
            chat_id=invoice.chat_id,
            invoice_message_id=invoice.message_id,
            currency=invoice.currency,
            total_amount=invoice.total_amount,
            invoice_payload=invoice.payload,
            time=st.clock.now(),
        )
        st.payments.charges[charge.telegram_payment_charge_id] = charge
        return charge

    def _payment_message(self, charge: ChargeRec, order_info: dict[str, Any] | None) -> int:
        payment: dict[str, Any] = {
            "currency": charge.currency,
            "total_amount": charge.total_amount,
            "invoice_payload": charge.invoice_payload,
            "telegram_payment_charge_id": charge.telegram_payment_charge_id,
            "provider_payment_charge_id": charge.provider_payment_charge_id,
        }
        if order_info:
            payment["order_info"] = order_info
        chat = self.state.chats[charge.chat_id]
        msg = self._user_message(charge.user_id, chat, extra={"successful_payment": payment})
        self.state.changed(
            {"type": "payment", "chat_id": chat.id, "charge_id": charge.telegram_payment_charge_id}
        )
        return msg.message_id
