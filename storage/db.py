"""What the repositories need from a session, and a synchronous session that offers it.

The repositories are written against `Db`: the few AsyncSession methods they call. AsyncSession
(aiosqlite, asyncpg) is one; `InlineSession` is the other: a synchronous Session (the stdlib
sqlite3 driver) behind the same awaitable methods, each of which returns without ever
suspending. The group commit (`storage.group_commit`) runs the same repositories, and so the
same use cases, over it: a whole unit of work costs no hand-off to a database thread.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar, TypeVarTuple, overload

from sqlalchemy import Connection, Engine, Executable, Result, ScalarResult
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TypedReturnsRows

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class Db(Protocol):
    @overload
    async def execute(  # type: ignore[overload-overlap]  # as SQLAlchemy's own
        self, statement: TypedReturnsRows[*Ts], params: Any = None
    ) -> Result[*Ts]: ...
    @overload
    async def execute(self, statement: Executable, params: Any = None) -> Result[Any]: ...

    @overload
    async def scalars(
        self, statement: TypedReturnsRows[T], params: Any = None
    ) -> ScalarResult[T]: ...
    @overload
    async def scalars(self, statement: Executable, params: Any = None) -> ScalarResult[Any]: ...

    @overload
    async def scalar(self, statement: TypedReturnsRows[T], params: Any = None) -> T | None: ...
    @overload
    async def scalar(self, statement: Executable, params: Any = None) -> Any: ...

    async def get(
        self, entity: type[T], ident: Any, *, populate_existing: bool = False
    ) -> T | None: ...

    def add(self, instance: object) -> None: ...

    async def flush(self, objects: Any = None) -> None: ...

    def get_bind(self) -> Engine | Connection: ...


class SessionLike(Db, Protocol):
    """A Db that a unit of work opens, commits or rolls back, and closes."""

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def close(self) -> None: ...


class InlineSession:
    """A synchronous Session with AsyncSession's awaitable surface; nothing here suspends."""

    def __init__(self, session: Session) -> None:
        self._s = session

    @overload
    async def execute(  # type: ignore[overload-overlap]  # as SQLAlchemy's own
        self, statement: TypedReturnsRows[*Ts], params: Any = None
    ) -> Result[*Ts]: ...
    @overload
    async def execute(self, statement: Executable, params: Any = None) -> Result[Any]: ...
    async def execute(self, statement: Executable, params: Any = None) -> Result[Any]:
        return self._s.execute(statement, params)

    @overload
    async def scalars(
        self, statement: TypedReturnsRows[T], params: Any = None
    ) -> ScalarResult[T]: ...
    @overload
    async def scalars(self, statement: Executable, params: Any = None) -> ScalarResult[Any]: ...
    async def scalars(self, statement: Executable, params: Any = None) -> ScalarResult[Any]:
        return self._s.scalars(statement, params)

    @overload
    async def scalar(self, statement: TypedReturnsRows[T], params: Any = None) -> T | None: ...
    @overload
    async def scalar(self, statement: Executable, params: Any = None) -> Any: ...
    async def scalar(self, statement: Executable, params: Any = None) -> Any:
        return self._s.scalar(statement, params)

    async def get(
        self, entity: type[T], ident: Any, *, populate_existing: bool = False
    ) -> T | None:
        return self._s.get(entity, ident, populate_existing=populate_existing)

    def add(self, instance: object) -> None:
        self._s.add(instance)

    async def flush(self, objects: Any = None) -> None:
        self._s.flush(objects)

    def get_bind(self) -> Engine | Connection:
        return self._s.get_bind()

    async def commit(self) -> None:
        self._s.commit()

    async def rollback(self) -> None:
        self._s.rollback()

    async def close(self) -> None:
        self._s.close()
