"""Alembic migrations: every step goes down and up again, and head matches storage.tables."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, inspect
from sqlalchemy.engine import Connection

from storage import migrate
from storage.engine import make_engine
from storage.tables import Base
from tests.storage.db import in_thread, run_sync


def _revisions() -> list[tuple[str, str]]:
    """(revision, the one below it or 'base'), from the first to head."""
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    revisions = list(script.walk_revisions("base", "heads"))
    revisions.reverse()
    assert revisions, "no migrations found"
    assert len(script.get_heads()) == 1, "migrations have more than one head"
    return [(r.revision, str(r.down_revision or "base")) for r in revisions]


def _on_connection(url: str, fn: Any) -> Any:
    async def go() -> Any:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(fn)
        finally:
            await engine.dispose()

    return run_sync(go)


def _tables(url: str) -> set[str]:
    return set(_on_connection(url, lambda c: inspect(c).get_table_names()))


def _current(url: str) -> str | None:
    def current(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    result: str | None = _on_connection(url, current)
    return result


def test_stairway(database_url: str) -> None:
    in_thread(migrate.downgrade, database_url, "base")
    assert _tables(database_url) <= {"alembic_version"}
    for revision, below in _revisions():
        in_thread(migrate.upgrade, database_url, revision)
        assert _current(database_url) == revision
        in_thread(migrate.downgrade, database_url, below)
        assert _current(database_url) == (None if below == "base" else below)
        in_thread(migrate.upgrade, database_url, revision)
    assert _current(database_url) == _revisions()[-1][0]
    assert _tables(database_url) >= set(Base.metadata.tables)


def test_head_matches_the_models(database_url: str) -> None:
    in_thread(migrate.upgrade, database_url, "head")

    def diff(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    assert _on_connection(database_url, diff) == []


def test_the_comparison_sees_a_difference(database_url: str) -> None:
    """Guards the test above: a model the migrations do not make is reported."""
    in_thread(migrate.upgrade, database_url, "head")
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        copy = table.to_metadata(changed)
        if table.name == "deals":
            copy.append_column(Column("not_migrated", Integer, nullable=True))

    def diff(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, changed))

    found = _on_connection(database_url, diff)
    assert [d[0] for d in found] == ["add_column"]
    assert found[0][3].name == "not_migrated"
