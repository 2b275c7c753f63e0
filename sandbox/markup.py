"""Checks on reply markup that the schema alone cannot express."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from sandbox.errors import bad_request

MAX_INLINE_BUTTONS = 100
# Exactly one of these must be present on an inline button.
_ACTION_FIELDS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def check_reply_markup(markup: dict[str, Any] | None) -> None:
    if markup is None or "inline_keyboard" not in markup:
        return
    rows: list[list[dict[str, Any]]] = markup["inline_keyboard"]
    if sum(len(r) for r in rows) > MAX_INLINE_BUTTONS:
        raise bad_request("BUTTONS_TOO_MUCH")
    for row in rows:
        for button in row:
            _check_button(button)


def _check_button(button: dict[str, Any]) -> None:
    if not button.get("text"):
        raise bad_request("BUTTON_TEXT_EMPTY")
    actions = [f for f in _ACTION_FIELDS if f in button]
    if len(actions) != 1:
        raise bad_request(
            "text buttons are unallowed in the inline keyboard"
            if not actions
            else f"inline keyboard button must have exactly one action, got {actions}"
        )
    if "callback_data" in button:
        size = len(str(button["callback_data"]).encode("utf-8"))
        if not 1 <= size <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not valid_button_url(str(button["url"])):
        raise bad_request(
            f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL"
        )


def valid_button_url(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme == "tg":
        return bool(parsed.netloc or parsed.path)
    return parsed.scheme in ("http", "https") and "." in parsed.netloc and " " not in url


def keyboard_rows(markup: dict[str, Any] | None) -> list[list[tuple[str, str]]]:
    """Inline keyboard as rows of (label, callback_data, url or a Mini App's url) for the
    driver."""
    if markup is None or "inline_keyboard" not in markup:
        return []
    return [[(b["text"], _target(b)) for b in row] for row in markup["inline_keyboard"]]


def _target(button: dict[str, Any]) -> str:
    if "web_app" in button:
        return str(button["web_app"].get("url", ""))
    return str(button.get("callback_data", button.get("url", "")))
