"""What every handler may use, wired once in bot/bootstrap."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from groupbuy.clock import Clock
from groupbuy.model import Community, User
from groupbuy.ports import UnitOfWork, UnitOfWorkFactory, Writer
from handlers.drawn_lists import Drawer, DrawnLists
from handlers.events import Person
from messages.i18n import resolve_locale
from messages.render import Renderer

T = TypeVar("T")


class Leaders(Protocol):
    """Who leads a community: the group's Telegram admins, asked of Telegram and cached.
    Never asked inside a unit of work (it may call Telegram)."""

    async def is_leader(self, chat_id: int, user_id: int) -> bool:
        """Raises a DomainError (bot.lookups.NotAnswered) when Telegram could not say."""
        ...

    def known(self, chat_id: int, user_id: int) -> bool | None:
        """Without asking Telegram; None when only a lookup can say."""
        ...

    def note(self, chat_id: int, user_id: int, admin: bool) -> None: ...
    def forget(self, chat_id: int) -> None: ...


class Members(Protocol):
    """Who belongs to a group: a resident's button or link needs it."""

    def known(self, chat_id: int, user_id: int) -> bool | None:
        """Without asking Telegram; None when only Telegram can say."""
        ...

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        """May ask Telegram (getChatMember): never inside a unit of work. Raises a DomainError
        (bot.lookups.NotAnswered) when Telegram could not say."""
        ...

    def note(self, chat_id: int, user_id: int, member: bool) -> None: ...
    def back_in(self, chat_id: int) -> None:
        """The bot was added to the group (again)."""
        ...

    def moved(self, old: int, new: int) -> None:
        """The group moved to a new chat id: what was known about its members holds there."""
        ...


@dataclass(frozen=True, slots=True)
class Config:
    bot_username: str
    default_locale: str = "en"
    default_timezone: str = "Asia/Shanghai"
    default_currency: str = "CNY"
    reminder_before: timedelta = timedelta(hours=1)
    online_payments: bool = False  # a payment provider token is configured
    pay_reminder_lead: timedelta = timedelta(minutes=10)
    slot_reminder_before: timedelta = timedelta(minutes=30)  # groupbuy.slots.remind_slots
    # Signs the pickup passes' QR codes (groupbuy.pickup_pass); the runtime derives it from the
    # bot's token. Tests run with the empty key: still a key, and the same on both sides.
    pass_key: bytes = field(default=b"", repr=False)
    # The leader's scanner page (bot/mini_app.py) at the bot's public HTTPS address; empty
    # when none is configured: pickup passes are then typed or pasted.
    scanner_url: str = ""


class KnownPeople:
    """Users recorded lately, by their Telegram profile. A hit skips one write per update. Kept
    short (a minute): a /lang choice made through another worker shows after at most that."""

    def __init__(self, clock: Clock, size: int = 20_000, ttl: timedelta = timedelta(minutes=1)):
        self._clock = clock
        self._size = size
        self._ttl = ttl
        self._users: OrderedDict[int, tuple[datetime, Person, User]] = OrderedDict()

    def get(self, person: Person, private: bool) -> User | None:
        hit = self._users.get(person.id)
        if hit is None:
            return None
        at, seen_as, user = hit
        if (
            seen_as != person
            or (private and not user.started)
            or self._clock.now() - at > self._ttl
        ):
            return None
        return user

    def keep(self, person: Person, user: User) -> None:
        self._users[person.id] = (self._clock.now(), person, user)
        self._users.move_to_end(person.id)
        if len(self._users) > self._size:
            self._users.popitem(last=False)

    def forget(self, user_id: int) -> None:
        self._users.pop(user_id, None)


@dataclass(frozen=True, slots=True)
class Deps:
    uow: UnitOfWorkFactory
    clock: Clock
    texts: Renderer
    leaders: Leaders
    config: Config
    people: KnownPeople
    members: Members
    # The writer of the hottest path (a press's change): the group commit on SQLite
    # (storage.group_commit); None runs the work in a unit of work of its own.
    writer: Writer | None = None
    # Pickup lists as last drawn, sent again while nothing on them changed.
    lists: DrawnLists = field(default_factory=DrawnLists)
    # Draws a deal's pickup list in a process of its own (bot/list_worker.py); None draws it
    # in a worker thread of this process.
    drawer: Drawer | None = None

    async def write(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run `work` in a unit of work; it commits or not. It must not await anything but the
        unit of work: under group commit it runs with other presses' work in one transaction."""
        if self.writer is not None:
            return await self.writer(work)
        async with self.uow() as uow:
            return await work(uow)

    def user_locale(self, user: User | Person | None) -> str:
        if user is None:
            return self.config.default_locale
        chosen = user.locale if isinstance(user, User) else None
        return resolve_locale(chosen, user.language_code, self.config.default_locale)

    def community_locale(self, community: Community | None) -> str:
        return community.locale if community else self.config.default_locale

    def deep_link(self, payload: str) -> str:
        return f"https://t.me/{self.config.bot_username}?start={payload}"
