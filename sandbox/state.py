"""In-memory world of the emulator: users, chats, messages, files, updates.

Every mutation calls ``changed()`` which wakes all waiters (getUpdates long polls,
driver ``wait_until``, the ``/_driver/events`` stream) without busy sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import Clock
from sandbox.errors import ApiError, bad_request
from sandbox.payments import PaymentBook

ANONYMOUS_ADMIN_ID = 1087968824  # @GroupAnonymousBot, as in real Telegram
MAX_EVENTS = 10_000
MAX_CONFIRMED = 10_000  # confirmed updates kept for Driver.unconfirm
# Telegram delivers everything except these unless allowed_updates asks for them.
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class UserRec:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False
    started_bot: bool = False
    blocked: bool = False


@dataclass
class MemberRec:
    user_id: int
    status: str  # creator | administrator | member | left | kicked
    is_anonymous: bool = False


@dataclass
class ChatRec:
    id: int
    type: str  # private | group (a basic group) | supergroup
    title: str | None = None
    members: dict[int, MemberRec] = field(default_factory=dict)
    pinned: list[int] = field(default_factory=list)
    migrated_to: int | None = None  # a basic group upgraded to this supergroup
    is_forum: bool = False  # a supergroup with topics
    topics: dict[int, bool] = field(default_factory=dict)  # thread id -> closed


@dataclass
class FileRec:
    file_id: str
    file_unique_id: str
    data: bytes
    file_name: str | None
    mime_type: str | None
    file_path: str
    kind: str  # photo | document


@dataclass
class MessageRec:
    chat_id: int
    message_id: int
    from_id: int
    date: int
    text: str | None = None  # plain text after entity parsing
    caption: str | None = None
    html: str | None = None  # what the bot sent, with markup, when parse_mode=HTML
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    photo: str | None = None  # file_id
    document: str | None = None  # file_id
    sender_chat_id: int | None = None
    reply_to: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # service fields, raw
    history: list[tuple[float, str | None, dict[str, Any] | None]] = field(default_factory=list)
    deleted: bool = False


@dataclass
class CallbackRec:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float
    answer: dict[str, Any] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class RequestLogEntry:
    method: str
    params: dict[str, Any]
    ok: bool
    error: str | None
    time: float


class State:
    def __init__(self, bot: UserRec, clock: Clock) -> None:
        self.bot = bot
        self.clock = clock
        self.users: dict[int, UserRec] = {bot.id: bot}
        self.chats: dict[int, ChatRec] = {}
        self.messages: dict[int, list[MessageRec]] = {}
        self.files: dict[str, FileRec] = {}
        self.callbacks: dict[str, CallbackRec] = {}
        self.updates: list[tuple[int, str, dict[str, Any]]] = []  # not yet confirmed
        # Recently confirmed updates, for a test to deliver again (Driver.unconfirm).
        self.confirmed: OrderedDict[int, tuple[int, str, dict[str, Any]]] = OrderedDict()
        self.last_update_id = 0
        self.allowed_updates: list[str] | None = None
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.requests_log: list[RequestLogEntry] = []
        self.events: list[dict[str, Any]] = []
        self.payments = PaymentBook()
        self._update_ids = itertools.count(1)
        self._event_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self.closing = False  # set on shutdown so long polls return at once

    # --- change notification ---------------------------------------------------
    def changed(self, event: dict[str, Any] | None = None) -> None:
        if event is not None:
            self.events.append({"seq": next(self._event_ids), "time": self.clock.now(), **event})
            if len(self.events) > MAX_EVENTS:
                # Followers poll with ``after=seq``; very old events are not needed.
                del self.events[: len(self.events) - MAX_EVENTS]
        ev, self._changed = self._changed, asyncio.Event()
        ev.set()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Wait until ``predicate()`` is true; re-checked on every state change."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("condition not met in time")
            ev = self._changed
            try:
                await asyncio.wait_for(ev.wait(), remaining)
            except TimeoutError:
                if not predicate():
                    raise TimeoutError("condition not met in time") from None

    # --- ids and lookups -------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def next_id_number(self) -> int:
        """The number ``new_id`` will use next (for snapshots)."""
        n = next(self._ids)
        self._ids = itertools.count(n)
        return n

    def continue_ids_from(self, n: int) -> None:
        self._ids = itertools.count(max(n, 1))

    def next_update_id(self) -> int:
        """The id the next update will get (for snapshots): Telegram's ids go on rising across
        a bot's restarts, and the bot's record of handled updates relies on it."""
        n = next(self._update_ids)
        self._update_ids = itertools.count(n)
        return n

    def continue_update_ids_from(self, n: int) -> None:
        self._update_ids = itertools.count(max(n, 1))

    def push_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.updates.append((update_id, kind, payload))
        self.last_update_id = update_id
        self.changed()
        return update_id

    def confirm_below(self, offset: int) -> None:
        """getUpdates with `offset`: every update below it is confirmed, gone from the queue."""
        kept: list[tuple[int, str, dict[str, Any]]] = []
        for update in self.updates:
            if update[0] >= offset:
                kept.append(update)
            else:
                self.confirmed[update[0]] = update
        if len(kept) < len(self.updates):
            self.updates = kept
            while len(self.confirmed) > MAX_CONFIRMED:
                self.confirmed.popitem(last=False)
            self.changed()  # a wait for the bot to have taken everything ends now

    def add_message(self, msg: MessageRec) -> MessageRec:
        self.messages.setdefault(msg.chat_id, []).append(msg)
        self.changed({"type": "message", "chat_id": msg.chat_id, "message_id": msg.message_id})
        return msg

    def next_message_id(self, chat_id: int) -> int:
        existing = self.messages.get(chat_id)
        return existing[-1].message_id + 1 if existing else 1

    def resolve_chat(self, chat_id: int | str) -> ChatRec:
        if isinstance(chat_id, str):
            if chat_id.lstrip("-").isdigit():
                chat_id = int(chat_id)
            else:
                user = self.user_by_username(chat_id.lstrip("@"))
                if user is None or user.id not in self.chats:
                    raise bad_request("chat not found")
                chat_id = user.id
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            # What Telegram answers every call naming a basic group that became a supergroup.
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        return chat

    def user_by_username(self, username: str) -> UserRec | None:
        for user in self.users.values():
            if user.username and user.username.lower() == username.lower():
                return user
        return None

    def find_message(self, chat_id: int, message_id: int) -> MessageRec | None:
        for msg in self.messages.get(chat_id, []):
            if msg.message_id == message_id and not msg.deleted:
                return msg
        return None
