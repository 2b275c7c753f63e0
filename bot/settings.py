"""Settings from the environment and an optional .env file (pydantic-settings)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{10,100}$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str = Field(default="", description="The token BotFather gave you")
    database_url: str = "sqlite+aiosqlite:///groupbuy.db"
    telegram_api_base: str = Field(
        default="https://api.telegram.org",
        description="A local Bot API server or the emulator, e.g. http://127.0.0.1:8081",
    )
    payment_provider_token: str = Field(
        default="", description="From BotFather's Payments section; enables online (card) payments"
    )
    default_locale: str = "en"
    timezone: str = "Asia/Shanghai"
    default_currency: str = "CNY"
    reminder_before_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # Buyers with a pickup slot are reminded this long before it starts.
    slot_reminder_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # How often the scheduler sweeps for due deals, reminders and unsent notices (seconds).
    sweep_seconds: float = Field(default=15.0, gt=0)
    # At most one edit of a group's deal posts per this many seconds (Telegram: 20/min/group).
    post_edit_interval: float = Field(default=6.0, ge=0)
    # Outbound limits (Telegram: ~30/s overall, 1/s per private chat, 20/min per group).
    send_per_second: float = Field(default=25.0, gt=0)
    private_per_second: float = Field(default=1.0, gt=0)
    group_per_minute: float = Field(default=18.0, gt=0)
    admin_cache_seconds: float = Field(default=300.0, ge=0)
    # How long a getChatMember answer for a group member is trusted (strangers: 30 s).
    member_cache_seconds: float = Field(default=600.0, gt=0)
    # Updates handled at once; more wait their turn (aiogram's tasks_concurrency_limit).
    updates_in_flight: int = Field(default=64, ge=1, le=10_000)
    log_level: str = "INFO"
    # The bot's public HTTPS address, where a TLS proxy passes requests on to WEB_HOST:WEB_PORT
    # (docs/deploy.md): it serves the leaders' scanner (a Telegram Mini App, bot/mini_app.py).
    # Empty: no scanner; pickup passes and codes are typed, pasted or forwarded.
    public_url: str = ""
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        url = urlsplit(value)
        local = url.hostname in ("127.0.0.1", "localhost")  # the sandbox and the tests
        if value and not (url.scheme == "https" or (url.scheme == "http" and local)):
            raise ValueError(
                "PUBLIC_URL must be https://… (Telegram opens Mini Apps from no other)"
            )
        return value.rstrip("/")

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in ("en", "zh_Hans"):
            raise ValueError("DEFAULT_LOCALE must be en or zh_Hans")
        return value


class TokenError(ValueError):
    pass


def check_token(token: str) -> str:
    if not token:
        raise TokenError(
            "BOT_TOKEN is not set. Create a bot with @BotFather and put its token in .env"
        )
    if not TOKEN_RE.match(token):
        raise TokenError("BOT_TOKEN does not look like a bot token (expected 123456:ABC-...).")
    return token
