"""The `groupbuy` command: run the bot, apply migrations."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys

from pydantic import ValidationError

from bot.settings import Settings, TokenError, check_token


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        raise SystemExit(f"groupbuy: bad setting {first['loc'][0]}: {first['msg']}") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="groupbuy", description="Community group-buy bot")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot (long polling); applies migrations first")
    commands.add_parser("migrate", help="create or upgrade the database schema")
    args = parser.parse_args(argv)
    settings = _settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "migrate":
        from storage.migrate import upgrade

        upgrade(settings.database_url)
        print(f"groupbuy: database at {settings.database_url} is up to date")
        return
    try:
        check_token(settings.bot_token)
    except TokenError as error:
        print(f"groupbuy: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    from bot.runtime import Runtime

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(Runtime(settings).run())


if __name__ == "__main__":
    main()
