"""How messages leave, free of any framework: one small protocol to Telegram and its errors.

Handlers describe what goes out (handlers.actions); the sender (bot/sender.py) and the outbox's
deliverer (bot/background.py) carry it out through a `Telegram`, and decide what to do when it
fails from these error types alone. The adapter in bot/telegram.py implements it with aiogram;
a second runtime (python-telegram-bot, webhook workers) implements the same protocol.
"""

from __future__ import annotations

from typing import Protocol

from handlers.actions import (
    Answer,
    AnswerPreCheckout,
    Delete,
    Edit,
    RefundStars,
    Send,
    SendDocument,
    SendInvoice,
)


class TelegramError(Exception):
    """Telegram did not do what was asked."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class RetryAfter(TelegramError):
    """429: flood control for this chat (or this method): ask again after `seconds`."""

    def __init__(self, seconds: float, message: str = "") -> None:
        super().__init__(message or f"retry after {seconds}s")
        self.seconds = seconds


class Blocked(TelegramError):
    """403: the user blocked the bot or never started it, the bot was kicked from the group, the
    account is deactivated. Asking again will not help."""


class BadRequest(TelegramError):
    """400 (and 404): the request itself is wrong or its target is gone. Not retried."""


class Moved(BadRequest):
    """400 for a basic group that became a supergroup: everything addressed to it now goes to
    `to_chat_id` (groupbuy.group_moves)."""

    def __init__(self, to_chat_id: int, message: str = "") -> None:
        super().__init__(message or f"the group moved to {to_chat_id}")
        self.to_chat_id = to_chat_id


class Unavailable(TelegramError):
    """5xx, a timeout, a reset connection: Telegram may or may not have done it. Retried (and a
    message may then arrive twice: Telegram has no idempotency key)."""


class Telegram(Protocol):
    """The Bot API calls the bot makes. Each raises only the errors above."""

    async def send(self, action: Send) -> int:
        """The sent message's id."""
        ...

    async def edit(self, action: Edit) -> None:
        """An edit that changes nothing ('message is not modified') is not an error."""
        ...

    async def answer(self, action: Answer) -> None: ...

    async def answer_pre_checkout(self, action: AnswerPreCheckout) -> None: ...

    async def invoice(self, action: SendInvoice) -> int:
        """The invoice message's id."""
        ...

    async def document(self, action: SendDocument) -> int: ...

    async def delete(self, action: Delete) -> None: ...

    async def refund_stars(self, action: RefundStars) -> None: ...

    async def admins(self, chat_id: int) -> frozenset[int]: ...

    async def is_member(self, chat_id: int, user_id: int) -> bool: ...
