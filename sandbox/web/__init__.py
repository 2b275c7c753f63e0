"""The sandbox's web client: a Telegram-like page over the emulator's driver."""
