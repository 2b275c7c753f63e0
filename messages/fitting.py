"""Typed text made to fit Telegram's limits: clipped with "…", or a list cut short with the
number left out. Jinja filters (`clip`, `clip_bytes`, `fit`); the templates choose the widths.

Lengths are in characters (Unicode code points), as Telegram counts message and alert texts;
`clip_bytes` counts UTF-8 bytes, as Telegram counts a button's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from html.parser import HTMLParser
from typing import NamedTuple

ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """`text` if it has at most `limit` characters, else its start and "…" in `limit` in all."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(ELLIPSIS), 0)] + ELLIPSIS


def clip_bytes(text: str, limit: int) -> str:
    """`text` if it has at most `limit` UTF-8 bytes, else its first whole characters and "…"
    in `limit` bytes in all."""
    data = text.encode()
    if len(data) <= limit:
        return text
    room = max(limit - len(ELLIPSIS.encode()), 0)
    return data[:room].decode(errors="ignore") + ELLIPSIS  # "ignore": a character cut in two


class Fitted(NamedTuple):
    shown: str  # the entries that fit, joined
    more: int  # how many were left out


def fit(entries: str | Sequence[str], width: int, sep: str = ", ") -> Fitted:
    """As many whole entries as fit in `width` characters once joined by `sep`, and how many
    did not. The first is always shown (clipped if it alone is too wide). A string is a list
    already joined by `sep` (as error parameters come: "1, 2, 3A")."""
    if isinstance(entries, str):
        entries = entries.split(sep) if entries else []
    shown: list[str] = []
    used = 0
    for entry in entries:
        needed = len(entry) + (len(sep) if shown else 0)
        if used + needed > width:
            break
        shown.append(entry)
        used += needed
    if not shown and entries:
        shown = [clip(entries[0], width)]
    return Fitted(sep.join(shown), len(entries) - len(shown))


class _Shown(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def shown_length(html: str) -> int:
    """How long Telegram counts a message written in its HTML: the text without the tags,
    entities decoded (a caption may have 1024 such characters, a message 4096)."""
    parser = _Shown()
    parser.feed(html)
    parser.close()
    return sum(len(part) for part in parser.parts)
