"""The unit of work: one short transaction per use case; rolls back unless committed."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import Token
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from groupbuy import delivery, transaction_guard
from groupbuy.live import Touched
from groupbuy.ports import (
    Communities,
    Deals,
    Dialogs,
    LiveMessages,
    Orders,
    Outbox,
    Payments,
    PickupPoints,
    Slots,
    Users,
)
from storage import handled
from storage.communities import SqlCommunities, SqlUsers
from storage.db import SessionLike
from storage.deals import SqlDeals
from storage.live import SqlLiveMessages
from storage.orders import SqlOrders
from storage.outbox import SqlDialogs, SqlOutbox
from storage.payments import SqlPayments
from storage.pickup_points import SqlPickupPoints
from storage.slots import SqlSlots


class SqlUnitOfWork:
    communities: Communities
    points: PickupPoints
    slots: Slots
    users: Users
    deals: Deals
    orders: Orders
    outbox: Outbox
    dialogs: Dialogs
    payments: Payments
    live: LiveMessages

    def __init__(
        self,
        sessions: Callable[[], SessionLike],
        held: list[Callable[[], None]] | None = None,
    ) -> None:
        """`held`: where to leave the after-commit callbacks when the commit here is not yet
        the transaction's (group commit's savepoints); None runs them at commit."""
        self._sessions = sessions
        self._session: SessionLike | None = None
        self._held = held
        self._after: list[Callable[[], None]] = []
        self._guard: Token[int] | None = None
        self._touched = Touched()

    async def __aenter__(self) -> Self:
        self._guard = transaction_guard.entered()
        session = self._sessions()
        self._session = session
        touched = self._touched
        self.communities = SqlCommunities(session)
        self.points = SqlPickupPoints(session)
        self.slots = SqlSlots(session, touched)
        self.users = SqlUsers(session)
        self.deals = SqlDeals(session, touched)
        self.orders = SqlOrders(session, touched)
        self.outbox = SqlOutbox(session)
        self.dialogs = SqlDialogs(session)
        self.payments = SqlPayments(session, touched)
        self._live = self.live = SqlLiveMessages(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            try:
                await self._session.rollback()
            finally:
                await self._session.close()
                self._session = None
        finally:  # even when closing failed: a stuck guard would stop every later Telegram call
            if self._guard is not None:
                transaction_guard.left(self._guard)
                self._guard = None

    async def commit(self, *, mark: bool = True) -> None:
        """`mark`: this commit carries the update being handled (groupbuy.delivery) if no
        earlier commit of it did, and raises AlreadyHandled (rolling back) if an earlier
        delivery of the update committed it. False only for what may be done twice (recording
        who wrote): otherwise a crash between that commit and the effect's would lose the
        effect, its redelivery taken for a duplicate."""
        assert self._session is not None
        current = delivery.current()
        marking = mark and current is not None and not current.marked
        postgresql = self._session.get_bind().dialect.name == "postgresql"
        if marking and current is not None and self._touched and postgresql:
            # The record and the bump below in one round trip.
            bot_id, update_id = current.bot_id, current.update_id
            if not await handled.mark_and_bump(self._session, bot_id, update_id, self._touched):
                raise delivery.AlreadyHandled(update_id)
            self._touched.clear()
        elif (
            marking
            and current is not None
            and not await handled.mark(self._session, current.bot_id, current.update_id)
        ):
            raise delivery.AlreadyHandled(current.update_id)
        if self._touched:
            # The messages that show what changed are stale from this same commit on.
            await self._live.bump(self._touched)
            self._touched.clear()
        await self._session.commit()
        if marking and current is not None:
            # Now, not after group commit's COMMIT: a second commit of the same piece of work
            # (the same transaction) must not insert it again.
            current.marked = True
        callbacks, self._after = self._after, []
        if self._held is not None:
            self._held.extend(callbacks)
        else:
            for callback in callbacks:
                callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after.append(callback)


class SqlUnitOfWorkFactory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(lambda: self._sessions())
