"""Alembic migrations: every step goes down and up again, and head matches storage.tables."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, inspect, text
from sqlalchemy.engine import Connection

from storage import migrate, schema_version
from storage.engine import make_engine, make_sessions
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


def test_the_stairway_has_the_payments_step() -> None:
    assert [r for r, _ in _revisions()][:2] == ["0001", "0002"]


def test_payments_migration_keeps_existing_data(database_url: str) -> None:
    """Rows written before 0002 come through it with the defaults the code expects: cash, a
    30-minute window, nothing paid, no hold, notices with ref 0 still sent once."""
    from datetime import UTC, datetime

    from sqlalchemy import bindparam

    from groupbuy.model import OrderLine, PaymentMode
    from groupbuy.notices import Notice, NoticeKind
    from storage.tables import UTCDateTime
    from storage.unit_of_work import SqlUnitOfWorkFactory

    t0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
    in_thread(migrate.downgrade, database_url, "base")
    in_thread(migrate.upgrade, database_url, "0001")
    rows = [
        "INSERT INTO communities (chat_id, title, name, buildings, currency, timezone, locale,"
        " configured) VALUES (-5, 'Old', '', '', 'CNY', 'Asia/Shanghai', 'en', true)",
        "INSERT INTO deals (id, community_id, leader_id, title, description, currency, deadline,"
        " reminder_sent, pickup_place, pickup_window, minimum_kind, minimum, buildings, status,"
        " created_at, post_version, post_synced_version) VALUES (1, -5, 7, 'Old deal', '',"
        " 'CNY', :t, false, 'Gate', 'Sat', 'none', 0, '', 'open', :t, 0, 0)",
        "INSERT INTO items (id, deal_id, position, name, unit, price, stock, sold)"
        " VALUES (1, 1, 0, 'Apples', 'box', 1250, 10, 2)",
        "INSERT INTO orders (id, deal_id, community_id, user_id, code, created_at)"
        " VALUES (1, 1, -5, 11, 'ABCDE', :t)",
        "INSERT INTO order_lines (order_id, item_id, quantity) VALUES (1, 1, 2)",
        "INSERT INTO outbox (kind, chat_id, deal_id, user_id, created_at, attempts, due_at, done)"
        " VALUES ('pickup', 11, 1, 11, :t, 0, :t, false)",
    ]

    def write(conn: Connection) -> None:
        for sql in rows:
            stmt = text(sql)
            if ":t" in sql:
                stmt = stmt.bindparams(bindparam("t", t0, type_=UTCDateTime()))
            conn.execute(stmt)
        conn.commit()

    _on_connection(database_url, write)
    in_thread(migrate.upgrade, database_url, "head")

    async def read() -> None:
        engine = make_engine(database_url)
        try:
            factory = SqlUnitOfWorkFactory(make_sessions(engine))
            async with factory() as uow:
                chat = await uow.communities.get(-5)
                assert chat is not None and chat.payment_mode is PaymentMode.CASH
                assert chat.payment_window_minutes == 30
                deal = await uow.deals.get(1)
                assert deal is not None and deal.payment_mode is PaymentMode.CASH
                order = await uow.orders.get(1)
                assert order is not None and order.pay_by is None
                assert order.lines == (OrderLine(1, 2, 0),)
                assert await uow.payments.held(1) == 0
                await uow.outbox.add([Notice(NoticeKind.PICKUP, 11, 1, 11)], t0)  # a duplicate
                await uow.outbox.add([Notice(NoticeKind.PICKUP, 11, 1, 11, 1)], t0)  # ref 1: new
                claimed = await uow.outbox.claim(t0, 10, 60)
                assert [p.notice.ref for p in claimed] == [0, 1]
        finally:
            await engine.dispose()

    run_sync(read)

    # And back down: notices told apart by ref cannot live under 0001's narrower key; the
    # downgrade drops them instead of failing on the unique index.
    in_thread(migrate.downgrade, database_url, "0001")
    assert _current(database_url) == "0001"

    def count(conn: Connection) -> int:
        return int(conn.execute(text("SELECT count(*) FROM outbox")).scalar_one())

    assert _on_connection(database_url, count) == 1  # the notice from before 0002 remains


def test_the_head_the_runtime_checks_is_alembics() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert script.get_current_head() == schema_version.HEAD


def test_schema_version_tells_when_to_migrate(database_url: str) -> None:
    def current() -> bool:
        async def go() -> bool:
            engine = make_engine(database_url)
            try:
                return await schema_version.is_current(engine)
            finally:
                await engine.dispose()

        return run_sync(go)

    in_thread(migrate.upgrade, database_url, "head")  # whatever the tests before left
    assert current()
    in_thread(migrate.downgrade, database_url, "base")
    assert not current()  # an empty alembic_version table
    _on_connection(database_url, lambda c: c.execute(text("DROP TABLE alembic_version")))
    assert not current()  # no table at all: a new database
    in_thread(migrate.upgrade, database_url, "head")
    assert current()
