"""Method registry and helpers shared by the Bot API method implementations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sandbox.errors import bad_request, forbidden
from sandbox.flood import FloodControl
from sandbox.html_check import parse_html
from sandbox.state import ChatRec, State

Params = dict[str, Any]
Handler = Callable[["Ctx", Params], Awaitable[Any]]
REGISTRY: dict[str, Handler] = {}

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


@dataclass
class Ctx:
    state: State
    flood: FloodControl
    token: str


def method(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        REGISTRY[name.lower()] = fn
        return fn

    return register


def writable_chat(ctx: Ctx, chat_id: int | str) -> ChatRec:
    """The chat the bot may post into, or the error Telegram would give."""
    chat = ctx.state.resolve_chat(chat_id)
    if chat.type == "private":
        user = ctx.state.users[chat.id]
        if user.blocked:
            raise forbidden("bot was blocked by the user")
        if not user.started_bot:
            raise forbidden("bot can't initiate conversation with a user")
    else:
        status = chat.members.get(ctx.state.bot.id)
        if status is None or status.status in ("left", "kicked"):
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        if status.status == "restricted":
            raise bad_request("not enough rights to send text messages to the chat")
    return chat


def format_text(
    text: str, parse_mode: str | None, entities: list[Any] | None, *, caption: bool
) -> tuple[str, str | None, list[dict[str, Any]]]:
    """Return (plain text, original HTML or None, entities) after Telegram's checks."""
    html: str | None = None
    mode = (parse_mode or "").lower()
    if mode == "html":
        html = text
        plain, parsed = parse_html(text)
    elif mode in ("", "markdown", "markdownv2"):
        # Markdown is passed through unparsed; the bot under test uses HTML.
        plain, parsed = text, [dict(e) for e in entities or []]
    else:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    if not plain.strip() and not caption:
        raise bad_request("message text is empty")
    limit = CAPTION_LIMIT if caption else TEXT_LIMIT
    if len(plain) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return plain, html, parsed
