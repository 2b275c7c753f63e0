"""What goes out, free of any framework: the adapters in bot/ perform these through their Bot."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    data: str | None = None  # callback data, ≤ 64 bytes (handlers.callbacks packs it)
    url: str | None = None


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Send:
    chat_id: int
    text: str  # HTML
    keyboard: Keyboard = ()
    photo_file_id: str | None = None  # then text is the caption
    # Where the sent message's id should be recorded (a deal post), filled by the adapter.
    post_of_deal: int | None = None


@dataclass(frozen=True, slots=True)
class Edit:
    chat_id: int
    message_id: int
    text: str
    keyboard: Keyboard = ()


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


Action = Send | Edit | Answer | SendDocument
