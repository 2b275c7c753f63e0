"""Payment records: invoices the bot sent, pre-checkout queries, charges and Stars refunds.

Kept apart from ``State``'s chat records; ``State.payments`` holds one ``PaymentBook``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

PRE_CHECKOUT_TIMEOUT = 10.0  # Telegram: the bot must answer a pre-checkout query within 10 s
STARS = "XTR"
# Currencies Telegram Payments accepts (https://core.telegram.org/bots/payments#supported-currencies),
# the ones a community is likely to use; anything else is refused like Telegram does.
_CODES = "AED AUD BRL CAD CHF CNY CZK DKK EUR GBP HKD HUF IDR ILS INR JPY KRW KZT MXN MYR NOK NZD"
CURRENCIES = frozenset(
    (_CODES + " PHP PLN RUB SAR SEK SGD THB TRY TWD UAH USD UZS VND ZAR XTR").split()
)


@dataclass
class InvoiceRec:
    chat_id: int
    message_id: int
    title: str
    description: str
    payload: str
    currency: str
    prices: list[dict[str, Any]]  # LabeledPrice {label, amount}
    provider_token: str
    start_parameter: str
    need_name: bool = False
    need_phone_number: bool = False
    need_email: bool = False
    is_flexible: bool = False
    photo_url: str | None = None

    @property
    def total_amount(self) -> int:
        return sum(int(p["amount"]) for p in self.prices)


@dataclass
class PreCheckoutRec:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    created: float
    answer: dict[str, Any] | None = None  # {"ok": bool, "error_message": str | None}
    done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class ChargeRec:
    """One successful payment, as the bot was told about it."""

    telegram_payment_charge_id: str
    provider_payment_charge_id: str
    user_id: int
    chat_id: int
    invoice_message_id: int
    currency: str
    total_amount: int
    invoice_payload: str
    time: float
    refunded: bool = False


@dataclass
class RefundRec:
    telegram_payment_charge_id: str
    user_id: int
    currency: str
    total_amount: int
    time: float


@dataclass(frozen=True)
class PaymentResult:
    """What the payer saw: paid, declined by the bot (with its message) or timed out."""

    status: str  # "paid" | "declined" | "timeout"
    currency: str
    total_amount: int
    invoice_payload: str
    pre_checkout_query_id: str | None = None
    error_message: str | None = None
    telegram_payment_charge_id: str | None = None
    provider_payment_charge_id: str | None = None
    message_id: int | None = None  # the successful_payment message

    @property
    def ok(self) -> bool:
        return self.status == "paid"


@dataclass
class PaymentBook:
    invoices: dict[tuple[int, int], InvoiceRec] = field(default_factory=dict)
    pre_checkouts: dict[str, PreCheckoutRec] = field(default_factory=dict)
    charges: dict[str, ChargeRec] = field(default_factory=dict)
    refunds: list[RefundRec] = field(default_factory=list)
