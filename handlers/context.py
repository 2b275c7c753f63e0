"""What every handler may use, wired once in bot/bootstrap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from groupbuy.clock import Clock
from groupbuy.model import Community, User
from groupbuy.ports import UnitOfWorkFactory
from handlers.events import Person
from messages.i18n import resolve_locale
from messages.render import Renderer


class Leaders(Protocol):
    """Who leads a community: the group's Telegram admins, asked of Telegram and cached."""

    async def is_leader(self, chat_id: int, user_id: int) -> bool: ...
    def forget(self, chat_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Config:
    bot_username: str
    default_locale: str = "en"
    default_timezone: str = "Asia/Shanghai"
    default_currency: str = "CNY"
    reminder_before: timedelta = timedelta(hours=1)
    online_payments: bool = False  # a payment provider token is configured
    pay_reminder_lead: timedelta = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Deps:
    uow: UnitOfWorkFactory
    clock: Clock
    texts: Renderer
    leaders: Leaders
    config: Config

    def user_locale(self, user: User | Person | None) -> str:
        if user is None:
            return self.config.default_locale
        chosen = user.locale if isinstance(user, User) else None
        return resolve_locale(chosen, user.language_code, self.config.default_locale)

    def community_locale(self, community: Community | None) -> str:
        return community.locale if community else self.config.default_locale

    def deep_link(self, payload: str) -> str:
        return f"https://t.me/{self.config.bot_username}?start={payload}"
