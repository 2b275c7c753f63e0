"""Transactions PostgreSQL gave up on and that succeed when simply run again.

Two updates handled side by side can lock the same rows in opposite orders (a payment touching
its order and then its deal's post, the background issuing an invoice for the same order): one
of the two is then stopped with "deadlock detected" (40P01), or "could not serialize access"
(40001), and everything it did is rolled back. Nothing of it is in the database, so the whole
update is handled again; giving up instead lost a payment Telegram had already taken.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)
T = TypeVar("T")
TRANSIENT = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
ATTEMPTS = 4


def is_transient(error: BaseException) -> bool:
    """A failure that running the same transaction again can cure: a deadlock, a serialization
    failure, or a connection the server had dropped (the pool is invalidated with it, so the
    next try gets a fresh one; storage.engine does not ping before each checkout)."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    for cause in (error.orig, getattr(error.orig, "__cause__", None)):
        code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if code in TRANSIENT:
            return True
    return False


def _always() -> bool:
    return True


async def again_if_transient(
    run: Callable[[], Awaitable[T]],
    what: object = "",
    repeatable: Callable[[], bool] = _always,
) -> T:
    """`run()`, run again (up to ATTEMPTS times, after a short random pause) while it fails
    with a transient database error and `repeatable()` says nothing of it was kept (a run that
    committed an effect before it failed is not run again: the effect would be made twice).
    What it did outside transactions (recording who wrote) must be safe to do twice."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await run()
        except DBAPIError as error:
            if attempt == ATTEMPTS or not is_transient(error) or not repeatable():
                raise
            log.warning("%s: %s, run again (attempt %d)", what, error.orig, attempt + 1)
            await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)
    raise AssertionError("unreachable")  # pragma: no cover
