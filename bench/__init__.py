# Before anything here imports aiogram (the emulator does): its types load lazily, as in the
# bot (bot/lean.py). A bench program is also the main module its list worker's process imports
# again (multiprocessing's spawn), so this keeps that process as lean as the bot's own.
import bot.lean  # noqa: F401
