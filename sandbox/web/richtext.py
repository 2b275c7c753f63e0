"""Message text + entities → safe HTML, limited to Telegram's own formatting.

The page never shows the bot's HTML as sent: it rebuilds markup from the plain text and the
entities the emulator parsed, so only Telegram's tag set can appear and every character of text
is escaped. Offsets are UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlparse

_TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "spoiler": ('<span class="spoiler">', "</span>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote>", "</blockquote>"),
    "bot_command": ('<span class="cmd">', "</span>"),
}
# Outer containers first when two entities cover the same span (<pre><code>...</code></pre>).
_RANK = {"blockquote": 0, "expandable_blockquote": 0, "pre": 1}


def _open_close(entity: dict[str, Any], segment: str) -> tuple[str, str]:
    kind = str(entity.get("type"))
    if kind in ("text_link", "url"):
        url = str(entity.get("url") or segment)
        if urlparse(url).scheme in ("http", "https"):
            return f'<a href="{escape(url, quote=True)}" rel="noopener noreferrer">', "</a>"
        return '<span class="link">', "</span>"
    return _TAGS.get(kind, ("", ""))


def to_html(text: str, entities: list[dict[str, Any]] | None) -> str:
    units = text.encode("utf-16-le")
    size = len(units) // 2

    def piece(start: int, end: int) -> str:
        return units[start * 2 : end * 2].decode("utf-16-le", errors="replace")

    ordered = sorted(
        (e for e in entities or [] if int(e.get("length", 0)) > 0),
        key=lambda e: (int(e["offset"]), -int(e["length"]), _RANK.get(str(e.get("type")), 9)),
    )
    out: list[str] = []
    stack: list[tuple[int, str]] = []  # (end, closing tag)
    pos = 0
    for entity in ordered:
        start = max(pos, min(int(entity["offset"]), size))
        while stack and stack[-1][0] <= start:
            end, closing = stack.pop()
            out.append(escape(piece(pos, end)))
            out.append(closing)
            pos = end
        out.append(escape(piece(pos, start)))
        pos = start
        end = min(start + int(entity["length"]), size, stack[-1][0] if stack else size)
        opening, closing = _open_close(entity, piece(start, end))
        out.append(opening)
        stack.append((end, closing))
    while stack:
        end, closing = stack.pop()
        out.append(escape(piece(pos, end)))
        out.append(closing)
        pos = end
    out.append(escape(piece(pos, size)))
    return "".join(out)
