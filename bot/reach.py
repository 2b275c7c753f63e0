"""Reaching the Bot API at start-up.

A wrong TELEGRAM_API_BASE, a network that is not up yet (a container that starts before its
network, a laptop on a train) or Telegram's own 5xx must not end in a traceback: the bot says in
one line what it tried and why it failed, and asks again with a growing pause until it is
answered or told to stop. A token Telegram refuses is not going to get better by waiting: that
one ends the process with a line that says what to do.
"""

from __future__ import annotations

import bot.lean  # noqa: F401  # first: aiogram's types load lazily

# isort: split

import asyncio
import contextlib
import logging

from aiogram import Bot
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import User

from bot.sender import backoff

log = logging.getLogger(__name__)
PAUSE_CAP = 60.0  # seconds: the longest pause between two tries


class TokenRefused(Exception):
    """Telegram does not know this token: waiting will not change that."""


async def reach(
    bot: Bot, api_base: str, stopping: asyncio.Event, first_pause: float = 1.0
) -> User | None:
    """The bot's own user (getMe) once the Bot API answers; None if told to stop first."""
    attempt = 0
    while not stopping.is_set():
        try:
            return await bot.get_me()
        except (TelegramUnauthorizedError, TelegramNotFound) as error:
            # 401 is a revoked or mistyped token; 404 is what api.telegram.org answers for a
            # token that is not a bot's at all.
            raise TokenRefused(
                f"the Bot API at {api_base} refused BOT_TOKEN ({error.message}): copy the token"
                " from @BotFather again"
            ) from None
        except TelegramRetryAfter as error:
            pause = float(error.retry_after)
            reason = f"asked to wait {error.retry_after}s"
        except (TelegramNetworkError, TelegramServerError) as error:
            attempt += 1
            pause = backoff(attempt, base=first_pause, cap=PAUSE_CAP)
            reason = _short(error)
        log.warning(
            "cannot reach the Bot API at %s (%s); trying again in %.0fs", api_base, reason, pause
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), pause)
    return None


def _short(error: TelegramNetworkError | TelegramServerError) -> str:
    # aiogram's message is "HTTP Client says - ClientConnectorError: Cannot connect to host ...":
    # the part after the exception's name is what a person needs.
    message = error.message.removeprefix("HTTP Client says - ")
    _, sep, rest = message.partition(": ")
    return rest if sep and rest else message
