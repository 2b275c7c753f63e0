"""Imported first by every module of the bot that imports aiogram: aiogram's Bot API types are
then loaded lazily (bot/lean_types.py), not the usual way that builds ~150 MB of validators.

Not done in `bot/__init__.py`: the pickup-list worker (bot/list_worker.py) runs in a process of
its own, imports `bot` and never uses aiogram; loading its types there took ~2.5 s of the
worker's start and ~70 MB of its memory.
"""

from bot.lean_types import load_aiogram_types

load_aiogram_types()
