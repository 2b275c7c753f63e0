"""The runtime and composition root: settings, the `groupbuy` command, the aiogram adapter, the
sender, the scheduler and the background loops.

aiogram's types are loaded lazily (see bot/lean_types.py): a bot that imports them the usual way
carries ~150 MB of validators it never uses. Every module here that imports aiogram imports
`bot.lean` first, which does it.
"""
