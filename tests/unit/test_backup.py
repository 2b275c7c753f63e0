"""Durable commits and the online backup (issue 21, "Durability").

- every SQLite connection the bot makes (the async engine's, group commit's) syncs each commit:
  `PRAGMA synchronous` is FULL (2);
- `groupbuy backup PATH` copies a SQLite file while a writer keeps committing: the copy opens,
  passes SQLite's integrity check, holds every transaction committed before it began, whole, and
  none that began after; the writer was never held up meanwhile;
- for PostgreSQL the command names pg_dump, with the exact command, and exits 2.

SQLite only, on real files in tmp_path.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from bot.cli import main
from storage.backup import backup_sqlite
from storage.engine import make_engine, sqlite_pragmas
from storage.group_commit import GroupCommit

FULL = 2  # what PRAGMA synchronous reports for FULL


async def test_the_engine_syncs_every_commit(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gb.db'}")
    try:
        for _ in range(2):  # a fresh connection each time: the pragma is set on connect
            async with engine.connect() as conn:
                synchronous = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar()
                journal = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            assert (synchronous, journal) == (FULL, "wal")
            await engine.dispose()
    finally:
        await engine.dispose()


async def test_group_commit_syncs_every_commit(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gb.db'}")
    writer = GroupCommit(engine)
    try:
        # Its own synchronous connection, the one every batch of presses is committed on.
        with writer._sync.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == FULL
    finally:
        await writer.close()
        await engine.dispose()


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    sqlite_pragmas(conn, busy_ms=30_000)
    return conn


def _pair(conn: sqlite3.Connection, n: int) -> None:
    """One transaction, two tables: a copy that holds half of it is not consistent."""
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO payments (id, pad) VALUES (?, ?)", (n, "p" * 200))
    conn.execute("INSERT INTO orders (id, pad) VALUES (?, ?)", (n, "o" * 200))
    conn.execute("COMMIT")


def test_backup_while_a_writer_commits(tmp_path: Path) -> None:
    database, copy = tmp_path / "gb.db", tmp_path / "backup" / "gb.db"
    copy.parent.mkdir()
    conn = _connect(database)
    conn.execute("CREATE TABLE payments (id INTEGER PRIMARY KEY, pad TEXT)")
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, pad TEXT)")
    for n in range(1, 3001):  # some hundreds of pages, copied one page per step below
        _pair(conn, n)
    committed = 3000  # the last id committed; written only by the writer thread
    stop = threading.Event()

    def write() -> None:
        nonlocal committed
        while not stop.is_set():
            _pair(conn, committed + 1)
            committed += 1

    steps = 0
    during = 0

    def progress(_status: int, _remaining: int, _total: int) -> None:
        nonlocal steps, during
        steps += 1
        if steps == 1:  # the backup has begun: the writer must get through meanwhile
            goal = committed + 20
            writer.start()
            for _ in range(2000):
                if committed >= goal:
                    break
                stop.wait(0.005)
            during = committed

    writer = threading.Thread(target=write)
    before = committed
    try:
        backup_sqlite(database, copy, pages=1, progress=progress)
    finally:
        stop.set()
        if writer.is_alive():
            writer.join()
        conn.close()

    assert steps > 100  # it was copied page by page
    assert during >= before + 20, "the writer was held up by the backup"
    backup = sqlite3.connect(copy)
    assert backup.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert backup.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file
    payments = [row[0] for row in backup.execute("SELECT id FROM payments ORDER BY id")]
    orders = [row[0] for row in backup.execute("SELECT id FROM orders ORDER BY id")]
    backup.close()
    # A snapshot of the moment the backup began: everything committed before, whole, and
    # nothing the writer committed while it ran.
    assert payments == orders == list(range(1, before + 1))
    assert not list(tmp_path.glob("backup/*.partial*"))


def test_the_command_backs_up_the_bots_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database, copy = tmp_path / "gb.db", tmp_path / "copy.db"
    conn = _connect(database)
    conn.execute("CREATE TABLE payments (id INTEGER PRIMARY KEY, pad TEXT)")
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, pad TEXT)")
    _pair(conn, 1)
    copy.write_bytes(b"yesterday's backup")  # replaced
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    with pytest.raises(SystemExit) as exited:
        main(["backup", str(copy)])
    conn.close()
    assert exited.value.code == 0, capsys.readouterr().err
    backup = sqlite3.connect(copy)
    assert backup.execute("SELECT id FROM payments").fetchall() == [(1,)]
    backup.close()


@pytest.mark.parametrize("name", ["missing.db", "gb.db"])
def test_the_command_refuses_a_missing_database_or_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    _connect(tmp_path / "gb.db").close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / name}")
    with pytest.raises(SystemExit) as exited:
        main(["backup", str(tmp_path / "gb.db")])
    assert exited.value.code == 1
    assert "backup failed" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()  # not created by looking for it


def test_postgresql_is_pg_dumps_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://gb:secret@db.internal:5433/groupbuy")
    with pytest.raises(SystemExit) as exited:
        main(["backup", "/backups/gb.dump"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert (
        "pg_dump --format=custom --file=/backups/gb.dump"
        " postgresql://gb@db.internal:5433/groupbuy" in err
    )
    assert "secret" not in err
