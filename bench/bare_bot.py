"""The floor: a bare aiogram bot that only answers each press. No database, no texts, no limits.

Run by the benchmarks as its own process: python bench/bare_bot.py TOKEN API_BASE [LOG_LEVEL]
"""

from __future__ import annotations

import asyncio
import logging
import sys

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery


async def main(token: str, base: str) -> None:
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(base)))
    dp = Dispatcher()

    @dp.callback_query()
    async def on_press(query: CallbackQuery) -> None:
        await query.answer()

    await bot.delete_webhook(drop_pending_updates=False)
    await dp.start_polling(bot, polling_timeout=10)  # stops on SIGINT / SIGTERM


if __name__ == "__main__":
    level = sys.argv[3] if len(sys.argv) > 3 else "WARNING"
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(main(sys.argv[1], sys.argv[2]))
