"""No network call while a database transaction is open: a slow Telegram would hold the
database (on SQLite, every other writer) for as long as it takes to answer.

Units of work count themselves in and out here, per task (a ContextVar), and whatever calls
Telegram asks `refuse_inside()` first, so a handler that forgets the rule fails in every test
that reaches it instead of stalling presses in production.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

_open: ContextVar[int] = ContextVar("units_of_work_open", default=0)


class TransactionOpen(RuntimeError):
    """A network call was about to be made inside a unit of work."""


def entered() -> Token[int]:
    return _open.set(_open.get() + 1)


def left(token: Token[int]) -> None:
    _open.reset(token)


def inside() -> bool:
    return _open.get() > 0


def refuse_inside(what: str) -> None:
    if inside():
        raise TransactionOpen(f"{what} asked inside an open unit of work")
