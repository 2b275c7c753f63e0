"""Storage fixtures: a migrated database per module (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set) emptied before each test.

`database_url` is parametrized over the SQL backends. Tests that take `backend` instead run on the
in-memory fakes too, which checks that tests/fakes.py keeps the semantics of the real storage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from groupbuy.ports import UnitOfWorkFactory
from storage import migrate
from storage.engine import make_engine, make_sessions
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import FakeUnitOfWorkFactory
from tests.storage import db


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", ["fake", *db.SQL_BACKENDS], indirect=True, scope="module")
    elif "database_url" in metafunc.fixturenames:
        metafunc.parametrize("database_url", db.SQL_BACKENDS, indirect=True, scope="module")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    if db.PG_URL is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    url = db.create_pg_database()
    yield url
    db.drop_pg_database(url)


def _migrated(kind: str, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        path = request.getfixturevalue("tmp_path_factory").mktemp("sqlite") / "groupbuy.db"
        return db.new_sqlite(path)
    url: str = request.getfixturevalue("pg_database")
    db.reset_pg_schema(url)
    db.in_thread(migrate.upgrade, url)
    return url


@pytest.fixture(scope="module")
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of a database migrated to head, fresh for the module."""
    return _migrated(request.param, request)


@pytest.fixture(scope="module")
def backend(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """(kind, url): 'fake' with no URL, or a SQL backend as database_url."""
    kind: str = request.param
    return kind, None if kind == "fake" else _migrated(kind, request)


@pytest_asyncio.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    await db.delete_all(engine)
    yield make_sessions(engine)
    await engine.dispose()


@pytest_asyncio.fixture
async def sql_factory(
    sessions: async_sessionmaker[AsyncSession],
) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(sessions)


@pytest_asyncio.fixture
async def any_factory(backend: tuple[str, str | None]) -> AsyncIterator[UnitOfWorkFactory]:
    """A unit-of-work factory on the fakes or on a SQL database, emptied."""
    _, url = backend
    if url is None:
        yield FakeUnitOfWorkFactory()
        return
    engine = make_engine(url)
    await db.delete_all(engine)
    yield SqlUnitOfWorkFactory(make_sessions(engine))
    await engine.dispose()
