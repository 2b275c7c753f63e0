"""Telegram ``parse_mode="HTML"`` parsing with Telegram's strictness.

Returns the plain text and the entities Telegram would produce, or raises
``400 Bad Request: can't parse entities: ...``. Offsets are in UTF-16 code units
like the real API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import ApiError, bad_request

_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*?)?)\s*>")
_ATTR_RE = re.compile(r"""\s*([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    start: int  # UTF-16 offset in the output
    attrs: dict[str, str] = field(default_factory=dict)


def _error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


def _byte_offset(source: str, pos: int) -> int:
    return len(source[:pos].encode("utf-8"))


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    out_len = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    pos = 0
    while pos < len(source):
        ch = source[pos]
        if ch == "<":
            m = _TAG_RE.match(source, pos)
            if m is None:
                raise _error(
                    f"Unexpected end of name token at byte offset {_byte_offset(source, pos)}"
                )
            closing, name, raw_attrs = m.group(1) == "/", m.group(2).lower(), m.group(3)
            if closing:
                if not stack:
                    raise _error(f"Unexpected end tag at byte offset {_byte_offset(source, pos)}")
                top = stack.pop()
                if top.tag != name:
                    raise _error(
                        f"Unmatched end tag at byte offset {_byte_offset(source, pos)}, "
                        f'expected "</{top.tag}>", found "</{name}>"'
                    )
                entity = _entity(top, out_len)
                if entity is not None:
                    entities.append(entity)
            else:
                attrs = _attrs(raw_attrs)
                _check_start(name, attrs, source, pos)
                stack.append(_Open(name, out_len, attrs))
            pos = m.end()
            continue
        if ch == "&":
            m = _ENTITY_RE.match(source, pos)
            text = _decode(m.group(1)) if m else None
            if m is None or text is None:
                raise _error(
                    "Character entity expected at byte offset "
                    f"{_byte_offset(source, pos)}; use &amp; for a literal ampersand"
                )
            pos = m.end()
        elif ch == ">":
            # Telegram tolerates a bare ">" in text.
            text = ch
            pos += 1
        else:
            nxt = min(
                (i for i in (source.find("<", pos), source.find("&", pos)) if i != -1),
                default=len(source),
            )
            text = source[pos:nxt]
            pos = nxt
        out.append(text)
        out_len += utf16_len(text)
    if stack:
        raise _error(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _attrs(raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for m in _ATTR_RE.finditer(raw):
        if m.group(0).strip():
            attrs[m.group(1).lower()] = next((g for g in m.groups()[1:] if g is not None), "")
    return attrs


def _check_start(name: str, attrs: dict[str, str], source: str, pos: int) -> None:
    where = f"at byte offset {_byte_offset(source, pos)}"
    if name not in _SIMPLE:
        raise _error(f'Unsupported start tag "{name}" {where}')
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise _error(f'Tag "span" must have class "tg-spoiler" {where}')
    if name == "tg-emoji" and "emoji-id" not in attrs:
        raise _error(f'Tag "tg-emoji" must have attribute "emoji-id" {where}')
    if name == "a" and not attrs.get("href"):
        raise _error(f'Tag "a" must have attribute "href" {where}')


def _entity(top: _Open, end: int) -> dict[str, Any] | None:
    length = end - top.start
    if length == 0:
        return None  # Telegram drops empty entities
    kind = _SIMPLE[top.tag]
    entity: dict[str, Any] = {"type": kind, "offset": top.start, "length": length}
    if top.tag == "a":
        entity["url"] = top.attrs["href"]
    elif top.tag == "blockquote" and "expandable" in top.attrs:
        entity["type"] = "expandable_blockquote"
    elif top.tag == "tg-emoji":
        entity["custom_emoji_id"] = top.attrs["emoji-id"]
    elif top.tag == "code" and top.attrs.get("class", "").startswith("language-"):
        entity["language"] = top.attrs["class"][9:]
    return entity


def _decode(name: str) -> str | None:
    if name.startswith(("#x", "#X")):
        code = int(name[2:], 16)
    elif name.startswith("#"):
        code = int(name[1:])
    else:
        return _NAMED.get(name)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF or code == 0:
        return None
    return chr(code)
