"""The unit of work: one short transaction per use case; rolls back unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from groupbuy.ports import Communities, Deals, Dialogs, Orders, Outbox, Payments, Users
from storage.communities import SqlCommunities, SqlUsers
from storage.deals import SqlDeals
from storage.orders import SqlOrders
from storage.outbox import SqlDialogs, SqlOutbox
from storage.payments import SqlPayments


class SqlUnitOfWork:
    communities: Communities
    users: Users
    deals: Deals
    orders: Orders
    outbox: Outbox
    dialogs: Dialogs
    payments: Payments

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        session = self._sessions()
        self._session = session
        self.communities = SqlCommunities(session)
        self.users = SqlUsers(session)
        self.deals = SqlDeals(session)
        self.orders = SqlOrders(session)
        self.outbox = SqlOutbox(session)
        self.dialogs = SqlDialogs(session)
        self.payments = SqlPayments(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None

    async def commit(self) -> None:
        assert self._session is not None
        await self._session.commit()


class SqlUnitOfWorkFactory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)
