"""What goes out, free of any framework: the adapters in bot/ perform these through their Bot."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from groupbuy.live import Live


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    data: str | None = None  # callback data, ≤ 64 bytes (handlers.callbacks packs it)
    url: str | None = None
    web_app: str | None = None  # a Mini App's HTTPS address (private chats only)


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Venue:
    """A place on the map (sendVenue): a pickup point."""

    latitude: float
    longitude: float
    title: str
    address: str


@dataclass(frozen=True, slots=True)
class Send:
    chat_id: int
    text: str  # HTML
    keyboard: Keyboard = ()
    photo_file_id: str | None = None  # then text is the caption
    # A photo uploaded with the message (a pickup pass's QR code, PNG); then text is the caption.
    photo_upload: bytes | None = field(default=None, repr=False)
    # Where the sent message's id should be recorded (a deal post), filled by the adapter.
    post_of_deal: int | None = None
    thread_id: int | None = None  # the forum topic to post in (None: General, or no forum)
    live: Live | None = None  # what it shows, to be kept current once sent (groupbuy.live)
    # A map pin instead of a message (sendVenue, which has no text): a pickup point's place.
    venue: Venue | None = None
    # An answer for the sender of a group message alone (a refusal, /help): it goes to their
    # private chat instead when they have started the bot (handlers.router), not to the group.
    personal: bool = False


@dataclass(frozen=True, slots=True)
class Edit:
    chat_id: int
    message_id: int
    text: str
    keyboard: Keyboard = ()
    live: Live | None = None  # as Send's: the message shows this now


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer to a button press; every press gets exactly one."""

    query_id: str
    text: str | None = None
    alert: bool = False
    url: str | None = None


@dataclass(frozen=True, slots=True)
class SendDocument:
    chat_id: int
    filename: str
    content: bytes = field(repr=False)
    caption: str = ""
    keyboard: Keyboard = ()


@dataclass(frozen=True, slots=True)
class SendInvoice:
    chat_id: int
    title: str
    description: str
    payload: str  # the invoice token: opaque, the database knows what it pays for
    currency: str
    prices: tuple[tuple[str, int], ...]  # (label, amount in minor units)
    order_id: int  # where the sent message's id is recorded, by the adapter


@dataclass(frozen=True, slots=True)
class Delete:
    chat_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class AnswerPreCheckout:
    query_id: str
    error: str | None = None  # None: take the money; else the reason shown to the payer


@dataclass(frozen=True, slots=True)
class RefundStars:
    user_id: int
    charge_id: str


@dataclass(frozen=True, slots=True)
class Later:
    """A long answer (a pickup list: its documents and checklist), sent after the update that
    asked for it is done, in the background (bot.sender.Sender.perform_later): at a chat's
    pace of a message a second it is minutes of sending, which must hold up neither the
    asker's next updates nor Telegram's queue. `parts` makes its actions as they are sent (a
    100,000-order checklist is 3,336 messages, never all made at once)."""

    chat_id: int
    parts: Callable[[], Iterator[Send | SendDocument]] = field(repr=False, compare=False)


Action = (
    Send
    | Edit
    | Answer
    | SendDocument
    | SendInvoice
    | Delete
    | AnswerPreCheckout
    | RefundStars
    | Later
)
