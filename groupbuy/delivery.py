"""Which Telegram update the current task is handling, so its effects can carry it.

Telegram delivers an update at least once: again after a crash before it was confirmed, again
when a webhook's answer was late. The update's id is written in the same transaction as its
effects (storage.handled), so the second delivery finds it there and changes nothing. The runtime
sets the delivery for the task that serves the update; the unit of work reads it at commit.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass(slots=True)
class Delivery:
    bot_id: int
    update_id: int
    marked: bool = False  # its id is in the database (committed with its first effect)


class AlreadyHandled(Exception):
    """The update's effects were committed by an earlier delivery: this one must change nothing."""


_current: ContextVar[Delivery | None] = ContextVar("delivery", default=None)


def current() -> Delivery | None:
    return _current.get()


def begin(delivery: Delivery | None) -> Token[Delivery | None]:
    return _current.set(delivery)


def end(token: Token[Delivery | None]) -> None:
    _current.reset(token)
