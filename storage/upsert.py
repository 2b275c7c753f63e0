"""INSERT … ON CONFLICT for the two dialects we run on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from storage.db import Db


def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The dialect's own insert(), so on_conflict_do_nothing/do_update are available; by name,
    for the statements built once per dialect."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def insert_for(session: Db, table: Any) -> Any:
    """The dialect's own insert() for the session's database."""
    return dialect_insert(session.get_bind().dialect.name)(table)
