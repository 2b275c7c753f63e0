"""INSERT … ON CONFLICT for the two dialects we run on."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from storage.db import Db


def insert_for(session: Db, table: Any) -> Any:
    """The dialect's own insert() so on_conflict_do_nothing/do_update are available."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
