"""Read-only snapshots the driver hands to tests (and serialises over HTTP)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sandbox.markup import keyboard_rows
from sandbox.state import MessageRec, State


@dataclass(frozen=True)
class DocumentInfo:
    file_id: str
    file_name: str | None
    mime_type: str | None
    size: int


_NOT_SERVICE = {"invoice", "message_thread_id", "is_topic_message"}


@dataclass(frozen=True)
class SentMessage:
    chat_id: int
    message_id: int
    from_id: int
    from_bot: bool  # sent by the bot under test
    date: int
    text: str | None  # current plain text, or caption for media
    html: str | None  # as the bot sent it when parse_mode=HTML
    keyboard: list[list[tuple[str, str]]]  # rows of (label, callback_data or url)
    photo: str | None
    document: DocumentInfo | None
    edit_count: int
    deleted: bool
    reply_to: int | None
    history: list[str | None] = field(default_factory=list)  # previous texts, oldest first
    service: dict[str, Any] = field(default_factory=dict)  # e.g. new_chat_members
    invoice: dict[str, Any] | None = None  # title, description, currency, total_amount, ...
    thread_id: int | None = None  # the forum topic it is in (None: General, or no forum)

    def button_labels(self) -> list[str]:
        return [label for row in self.keyboard for label, _ in row]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CallbackAnswer:
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def snapshot(state: State, rec: MessageRec) -> SentMessage:
    doc = None
    if rec.document is not None:
        f = state.files[rec.document]
        doc = DocumentInfo(f.file_id, f.file_name, f.mime_type, len(f.data))
    return SentMessage(
        chat_id=rec.chat_id,
        message_id=rec.message_id,
        from_id=rec.from_id,
        from_bot=rec.from_id == state.bot.id,
        date=rec.date,
        text=rec.text if rec.text is not None else rec.caption,
        html=rec.html,
        keyboard=keyboard_rows(rec.reply_markup),
        photo=rec.photo,
        document=doc,
        edit_count=len(rec.history),
        deleted=rec.deleted,
        reply_to=rec.reply_to,
        history=[text for _, text, _ in rec.history],
        service={k: v for k, v in rec.extra.items() if k not in _NOT_SERVICE},
        invoice=rec.extra.get("invoice"),
        thread_id=rec.extra.get("message_thread_id"),
    )
