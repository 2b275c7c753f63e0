"""Is the database's schema the one this code was written for? Asked at every start.

Answered from the `alembic_version` table without loading Alembic: a bot that only checked would
otherwise carry Alembic's modules (~8 MB) for the life of the process. Alembic is loaded only when
there is something to migrate (`storage.migrate`).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

# The newest migration's revision (storage/migrations/versions/). A new migration changes it;
# tests/storage/test_migrations.py fails until it does.
HEAD = "0022"


async def is_current(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:  # no such table: a new database
        return False
    return bool(version == HEAD)
