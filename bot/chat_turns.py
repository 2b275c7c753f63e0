"""Updates taken from Telegram and waiting for a handler slot, served chat by chat in turn.

On a Saturday morning one group's post can bring 300 presses a second while the leader hands
out boxes with ✓ presses in their private chat. With every handler slot busy, a single line
put the leader's press behind every join taken before it; with a line per chat served in turn,
it waits for the next free slot only. Within a chat the order stays the order Telegram sent.

The oldest waiting update is no longer always the first one: `oldest` is what the poller must
not confirm past (bot.polling.Poller.offset).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterator
from typing import Any

Raw = dict[str, Any]


def chat_of(raw: Raw) -> int:
    """The chat an update belongs to (a button's: the chat of its message; a payment's or an
    inline query's: the person's own); 0 when it names none."""
    for key, value in raw.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        chat = value.get("chat")
        if chat is None and isinstance(value.get("message"), dict):
            chat = value["message"].get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return int(chat["id"])
        person = value.get("from")
        if isinstance(person, dict) and "id" in person:
            return int(person["id"])
    return 0


class ChatTurns:
    """A first-in-first-out line per chat; `popleft` takes the head of the chat whose turn it
    is, then that chat goes to the back."""

    def __init__(self) -> None:
        self._lines: OrderedDict[int, deque[Raw]] = OrderedDict()
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[Raw]:
        for line in self._lines.values():
            yield from line

    def append(self, raw: Raw) -> None:
        chat = chat_of(raw)
        line = self._lines.get(chat)
        if line is None:
            line = self._lines[chat] = deque()
        line.append(raw)
        self._count += 1

    def popleft(self) -> Raw:
        if not self._count:
            raise IndexError("no update is waiting")
        chat, line = next(iter(self._lines.items()))
        raw = line.popleft()
        self._count -= 1
        if line:
            self._lines.move_to_end(chat)
        else:
            del self._lines[chat]
        return raw

    def oldest(self) -> int | None:
        """The lowest update id waiting (each line is in Telegram's order: its head)."""
        return min((int(line[0]["update_id"]) for line in self._lines.values()), default=None)

    def clear(self) -> None:
        self._lines.clear()
        self._count = 0
