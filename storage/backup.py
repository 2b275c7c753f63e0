"""The online backup of a SQLite file while the bot runs (`groupbuy backup`; docs/operations.md)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

from storage.engine import sqlite_pragmas

BACKUP_STEP_PAGES = 1024  # pages copied per step: 4 MiB at SQLite's default page size


def backup_sqlite(
    database: Path,
    target: Path,
    *,
    pages: int = BACKUP_STEP_PAGES,
    progress: Callable[[int, int, int], object] | None = None,
) -> None:
    """Copy a SQLite database that a running bot is writing to into `target`, consistently:
    the copy is the database as it was when the backup began.

    SQLite's online backup API copies `pages` at a time. Between two steps it would start over
    whenever another connection committed, so under a steady stream of presses it might never
    finish; here the source connection holds one read transaction for the whole copy instead, a
    WAL snapshot: the copy is of one moment, and the bot's writers are not blocked by it (a
    reader never blocks a WAL writer; only the checkpoint waits, so the WAL grows meanwhile).

    The copy is written beside `target` and renamed over it once complete, so `target` is
    either the previous file or a whole backup; it is one self-contained file (rollback
    journal mode, no -wal to go with it). `progress(status, remaining, total)` is called after
    each step (sqlite3.Connection.backup)."""
    if not database.is_file():
        raise FileNotFoundError(f"no database file at {database}")
    if target.resolve() == database.resolve():
        raise ValueError("the backup cannot be the database itself")
    for suffix in ("-wal", "-shm"):
        # SQLite would read a stale -wal beside the new file as part of it.
        if Path(f"{target}{suffix}").exists():
            raise FileExistsError(f"{target}{suffix} exists: is {target} open somewhere?")
    # mode=rw: never create an empty database where the bot's should be.
    source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=rw", uri=True)
    source.isolation_level = None  # transactions are ours to begin (below)
    fd, partial = tempfile.mkstemp(prefix=f"{target.name}.", suffix=".partial", dir=target.parent)
    os.close(fd)
    try:
        sqlite_pragmas(source, busy_ms=30_000)
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts
        copy = sqlite3.connect(partial, isolation_level=None)
        try:
            source.backup(copy, pages=pages, progress=progress)
            # The copied header says WAL; a backup is better one file. Synced (the default
            # synchronous=FULL of a rollback journal) before the rename below.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
        os.replace(partial, target)
    except BaseException:
        for leftover in (partial, f"{partial}-journal", f"{partial}-wal", f"{partial}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)
        raise
    finally:
        source.close()  # ends the read transaction
    _sync_directory(target.parent)


def _sync_directory(directory: Path) -> None:
    """Make a rename in `directory` survive a power cut (POSIX; elsewhere nothing to do)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
