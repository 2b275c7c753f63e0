"""The floor: a bare aiogram bot that only answers each press. No database, no texts, no limits.

Run by the benchmarks as its own process:

    python bench/bare_bot.py TOKEN API_BASE [LOG_LEVEL] [fair|stock] [IN_FLIGHT]

`fair` (the default) gives it every generic speed-up the bot has, so that a ratio to it measures
what the bot's own work costs and nothing else (issue 13):

- aiogram's Bot API types loaded lazily (`bot.lean_types`): about half the memory;
- aiogram's FSM off (`Dispatcher(disable_fsm=True)`): no per-update FSM context to resolve;
- what start-up made moved out of the collector's sight (`gc.freeze()`), as the runtime does;
- the same polling: long polls of 10 s, and at most IN_FLIGHT updates handled at once
  (the bot's `UPDATES_IN_FLIGHT`, default 64), the rest waiting in Telegram's queue.

`stock` is aiogram as it comes (eager types, FSM on, no freeze, a task per update, no limit):
the floor the figures before issue 13 were compared to, kept to show the difference.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script


async def main(token: str, base: str, fair: bool, in_flight: int) -> None:
    if fair:
        from bot.lean_types import load_aiogram_types

        load_aiogram_types()  # before aiogram.types is imported by anything below
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import CallbackQuery

    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(base)))
    dp = Dispatcher(disable_fsm=True) if fair else Dispatcher()

    @dp.callback_query()
    async def on_press(query: CallbackQuery) -> None:
        await query.answer()

    await bot.delete_webhook(drop_pending_updates=False)
    if fair:
        gc.collect()
        gc.freeze()
        # stops on SIGINT / SIGTERM
        await dp.start_polling(bot, polling_timeout=10, tasks_concurrency_limit=in_flight)
    else:
        await dp.start_polling(bot, polling_timeout=10)


if __name__ == "__main__":
    level = sys.argv[3] if len(sys.argv) > 3 else "WARNING"
    kind = sys.argv[4] if len(sys.argv) > 4 else "fair"
    in_flight = int(sys.argv[5]) if len(sys.argv) > 5 else 64
    if kind not in ("fair", "stock"):
        raise SystemExit(f"floor kind must be fair or stock, not {kind!r}")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(main(sys.argv[1], sys.argv[2], kind == "fair", in_flight))
