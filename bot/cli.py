"""The `groupbuy` command: run the bot, apply migrations, back up the database, play it in the
sandbox."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import shlex
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import URL, make_url

from bot.settings import Settings, TokenError, check_token


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        # Every bad setting in one line, by the name it is set under (environment or .env).
        bad = "; ".join(
            f"{str(problem['loc'][0]).upper()}: {problem['msg']}" for problem in error.errors()
        )
        raise SystemExit(f"groupbuy: fix these settings (environment or .env): {bad}") from None


EXAMPLES = {
    "groupbuy": """examples:
  groupbuy sandbox                 the whole bot in a browser, no Telegram account needed
  BOT_TOKEN=123:abc groupbuy run   the real bot (token from @BotFather), SQLite in ./groupbuy.db
  groupbuy migrate                 create or upgrade the database schema
  groupbuy backup copy.db          a consistent copy of the SQLite database, while the bot runs

settings come from the environment or .env (see .env.example): BOT_TOKEN, DATABASE_URL,
TELEGRAM_API_BASE, PAYMENT_PROVIDER_TOKEN, TIMEZONE, DEFAULT_LOCALE, LOG_LEVEL, ...""",
    "run": """Polls Telegram until SIGTERM or Ctrl-C (then finishes what it has and exits 0).
Creates or upgrades the schema first. Needs BOT_TOKEN.

examples:
  BOT_TOKEN=123456:ABC-your-token groupbuy run
  DATABASE_URL=postgresql+asyncpg://bot@db/groupbuy groupbuy run
  TELEGRAM_API_BASE=http://127.0.0.1:8081 groupbuy run     a local Bot API server""",
    "migrate": """Brings the database at DATABASE_URL to the newest schema (Alembic).
Safe to run again.

examples:
  groupbuy migrate
  DATABASE_URL=postgresql+asyncpg://bot@db/groupbuy groupbuy migrate""",
    "backup": """Copies the SQLite database at DATABASE_URL into one file while the bot runs.
For PostgreSQL it prints the pg_dump command to use instead.

examples:
  groupbuy backup /var/backups/groupbuy-$(date +%F).db""",
    "sandbox": """A Telegram Bot API emulator, the real bot polling it, and a Telegram-like page,
all on one port.
A demo compound is made on first start; the chats and the bot's data survive a restart.

examples:
  groupbuy sandbox                       then open http://127.0.0.1:8080/
  groupbuy sandbox --port 9000 --fresh   start over on another port
  groupbuy sandbox --empty               no demo: add the bot to a group yourself""",
}


def _parser(name: str, help_: str, commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=help_,
        description=EXAMPLES[name],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="groupbuy",
        description="GroupBuy: a Telegram bot for community group buys (社区团购).",
        epilog=EXAMPLES["groupbuy"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _parser("run", "run the bot (long polling); applies migrations first", commands)
    _parser("migrate", "create or upgrade the database schema", commands)
    backup = _parser(
        "backup", "copy the SQLite database while the bot runs (PostgreSQL: pg_dump)", commands
    )
    backup.add_argument("path", type=Path, help="the copy to write; a file there is replaced")
    _sandbox_parser(commands)
    args = parser.parse_args(argv)
    settings = _settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # fontTools logs each font subset it makes for a PDF pickup list at INFO (a dozen lines).
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    if args.command == "sandbox":
        _sandbox(args, settings)
        return
    if args.command == "migrate":
        from storage.migrate import upgrade

        upgrade(settings.database_url)
        print(f"groupbuy: database at {settings.database_url} is up to date")
        return
    if args.command == "backup":
        raise SystemExit(_backup(settings.database_url, args.path))
    try:
        check_token(settings.bot_token)
    except TokenError as error:
        print(f"groupbuy: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    from bot.reach import TokenRefused

    try:
        asyncio.run(_run(settings))
    except TokenRefused as error:
        print(f"groupbuy: {error}", file=sys.stderr)
        raise SystemExit(2) from None


async def _run(settings: Settings) -> None:
    """The bot until SIGTERM (systemd, Docker, Kubernetes) or SIGINT (Ctrl-C): either one
    stops it gracefully (bot.runtime), and it exits 0."""
    from bot.runtime import Runtime

    runtime = Runtime(settings)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, runtime.stopping.set)
    await runtime.run()


def _backup(database_url: str, path: Path) -> int:
    """The exit code: 0 done, 1 failed (no such file, a full disk), 2 not ours to do."""
    from storage.backup import backup_sqlite

    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        # libpq's spelling of the same database, without the password (not for the terminal).
        query = dict(url.query)
        if "ssl" in query:  # asyncpg's name for libpq's sslmode
            query["sslmode"] = query.pop("ssl")
        libpq = URL.create(
            "postgresql", url.username, None, url.host, url.port, url.database, query
        )
        command = shlex.join(
            ["pg_dump", "--format=custom", f"--file={path}", libpq.render_as_string()]
        )
        print(
            "groupbuy: the database is PostgreSQL: back it up with pg_dump, which copies one"
            " consistent snapshot while the bot runs:\n"
            f"  {command}\n"
            "(it asks for the password, or takes it from PGPASSWORD or ~/.pgpass; restore with"
            " pg_restore, see docs/operations.md)",
            file=sys.stderr,
        )
        return 2
    if url.get_backend_name() != "sqlite":
        print(f"groupbuy: cannot back up a {url.get_backend_name()} database", file=sys.stderr)
        return 2
    database = Path(url.database or "")
    try:
        backup_sqlite(database, path)
    except (OSError, ValueError, sqlite3.Error) as error:
        print(f"groupbuy: backup failed: {error}", file=sys.stderr)
        return 1
    print(f"groupbuy: {database} backed up to {path}")
    return 0


def _sandbox_parser(commands: Any) -> None:
    sandbox = _parser(
        "sandbox",
        "the whole bot on this machine with no Telegram account, played in a browser",
        commands,
    )
    sandbox.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    sandbox.add_argument("--host", default="127.0.0.1", help="listen address (loopback)")
    sandbox.add_argument("--db", type=Path, default=Path("sandbox.db"), help="the bot's SQLite")
    sandbox.add_argument("--fresh", action="store_true", help="delete the sandbox's data first")
    sandbox.add_argument("--empty", action="store_true", help="no demo compound on first start")


def _sandbox(args: argparse.Namespace, settings: Settings) -> None:
    # Every update, job run and migration step is logged at INFO; in the sandbox the page shows
    # what happens instead.
    for name in ("aiogram.event", "aiogram.dispatcher", "apscheduler", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from bot.sandbox_mode import Options, serve

    options = Options(args.host, args.port, args.db, args.fresh, args.empty)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(options, settings))


if __name__ == "__main__":
    main()
