"""What the admin and member caches share: when Telegram could not be asked, and how often a
lookup may be tried.

Only a network error, a timeout, a 429 or a 5xx means "Telegram could not say"
(`Unavailable`, `RetryAfter`, and anything that is not one of our TelegramErrors). A 400 or a 403
is an answer: the bot is not in that group (any more), or the person is unknown there. After a
failure, the group is not asked again for a while that grows with each failure (and is at least
what a 429 asked for): while Telegram is in trouble a stranger's presses cost nothing, and a
leader hears that Telegram did not answer rather than that they are not a leader.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.sender import backoff
from groupbuy.clock import Clock
from handlers.outgoing import BadRequest, Blocked, RetryAfter

FIRST_HOLD = 2.0  # seconds without asking after a first failure; doubling, with jitter
LONGEST_HOLD = 60.0


def is_an_answer(error: Exception) -> bool:
    """A 400 or 403: Telegram answered (the bot is not in the group, the person is unknown)."""
    return isinstance(error, BadRequest | Blocked)


@dataclass
class _Failing:
    failures: int
    until: float


class Outages:
    """Groups Telegram could not be asked about lately, each until its hold is over."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._failing: dict[int, _Failing] = {}

    def now(self) -> float:
        return self._clock.now().timestamp()

    def holds(self, chat_id: int) -> bool:
        failing = self._failing.get(chat_id)
        return failing is not None and self.now() < failing.until

    def failed(self, chat_id: int, error: Exception) -> None:
        failing = self._failing.get(chat_id) or _Failing(0, 0.0)
        failing.failures += 1
        hold = backoff(failing.failures, FIRST_HOLD, LONGEST_HOLD)
        if isinstance(error, RetryAfter):
            hold = max(hold, error.seconds)
        failing.until = self.now() + hold
        self._failing[chat_id] = failing

    def answered(self, chat_id: int) -> None:
        self._failing.pop(chat_id, None)
