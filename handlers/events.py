"""What comes in, free of any framework: the adapters in bot/ build these from Telegram updates."""

from __future__ import annotations

from dataclasses import dataclass

from groupbuy.model import BotStatus


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True, slots=True)
class Chat:
    id: int
    type: str  # "private", "group", "supergroup"
    title: str | None = None
    username: str | None = None  # a public group has one: anyone may read it without joining

    @property
    def is_private(self) -> bool:
        return self.type == "private"

    @property
    def members_only(self) -> bool:
        """Only members can see this group's messages (and so press their buttons)."""
        return not self.is_private and self.username is None


@dataclass(frozen=True, slots=True)
class PaymentIn:
    """Telegram's successful_payment."""

    currency: str
    total_amount: int
    payload: str
    charge_id: str
    provider_charge_id: str | None


@dataclass(frozen=True, slots=True)
class MessageIn:
    chat: Chat
    sender: Person
    message_id: int
    text: str = ""
    photo_file_id: str | None = None
    # A group admin posting as the group: we do not know who it is until they press a button.
    anonymous_admin: bool = False
    payment: PaymentIn | None = None
    # Sent on behalf of a chat (the group itself for an anonymous admin, or a channel): the
    # sender is then one of Telegram's stand-ins, shared by everyone who posts that way.
    sender_chat_id: int | None = None
    thread_id: int | None = None  # written in this forum topic (None: General, or no forum)
    forwarded: bool = False  # forwarded from elsewhere (its text is someone else's)


@dataclass(frozen=True, slots=True)
class Press:
    """An inline button pressed."""

    query_id: str
    sender: Person
    chat: Chat
    message_id: int
    data: str
    thread_id: int | None = None  # the pressed message's forum topic


@dataclass(frozen=True, slots=True)
class BotAdded:
    chat: Chat
    by: Person
    status: BotStatus = BotStatus.MEMBER


@dataclass(frozen=True, slots=True)
class BotStanding:
    """The bot's standing in a group changed otherwise than by being added: kicked, left,
    muted, an admin's rights taken or given (my_chat_member)."""

    chat: Chat
    by: Person
    status: BotStatus


@dataclass(frozen=True, slots=True)
class GroupMoved:
    """Telegram moved a group to a new chat id (a basic group became a supergroup): said by a
    service message in the old chat (`migrate_to_chat_id`) and one in the new (`migrate_from`)."""

    old_chat_id: int
    new_chat_id: int
    by: Person


@dataclass(frozen=True, slots=True)
class PreCheckout:
    """Telegram asks, before taking the money, whether the order can still be paid."""

    query_id: str
    sender: Person
    currency: str
    total_amount: int
    payload: str


Incoming = MessageIn | Press | BotAdded | BotStanding | GroupMoved | PreCheckout


def serial_key(event: Incoming) -> tuple[int, int]:
    """Whose updates are handled one at a time, in order: a person's. Someone posting as a
    chat (an anonymous admin, a channel) arrives as Telegram's stand-in account, the same for
    all of them in every group: the chat they post as tells them apart."""
    if isinstance(event, BotAdded | BotStanding | GroupMoved):
        return event.by.id, 0
    if isinstance(event, MessageIn) and event.sender_chat_id is not None:
        return event.sender.id, event.sender_chat_id
    return event.sender.id, 0
