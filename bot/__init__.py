"""The runtime and composition root: settings, the `groupbuy` command, the aiogram adapter, the
sender, the scheduler and the background loops.

aiogram's types are loaded first, lazily (see bot/lean_types.py): a bot that imports them the
usual way carries ~150 MB of validators it never uses.
"""

from bot.lean_types import load_aiogram_types

load_aiogram_types()
