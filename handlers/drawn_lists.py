"""Pickup lists as drawn, kept for the next leader who asks (handlers/pickup_list.py)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import datetime

from handlers.actions import Action, Send, SendDocument


@dataclass(frozen=True, slots=True)
class Drawn:
    """A deal's list as drawn in one locale: the same for every leader who asks for it."""

    pdf: bytes = field(repr=False)
    csv: bytes = field(repr=False)
    caption: str
    messages: tuple[Send, ...]  # drawn for chat 0: the asker's chat is put in when sent

    def actions(self, deal_id: int, chat_id: int) -> list[Action]:
        """The list as sent: every part `later` (a checklist may be hundreds of messages)."""
        name = f"pickup-list-{deal_id}"
        return [
            SendDocument(chat_id, f"{name}.pdf", self.pdf, self.caption, later=True),
            SendDocument(chat_id, f"{name}.csv", self.csv, later=True),
            *(replace(m, chat_id=chat_id, later=True) for m in self.messages),
        ]


class DrawnLists:
    """The lists drawn lately, by deal and locale, each with what it was drawn from (the
    source: a key equal for two reads that would draw the same list). Used from the drawing
    threads, hence the lock. A few lists at most: a 100k-order list is tens of megabytes."""

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[int, str], tuple[Hashable, Drawn]] = OrderedDict()
        self.drawn = 0  # how many lists were drawn, and how many sent again as they were
        self.reused = 0

    def get(self, deal_id: int, locale: str, source: Hashable) -> Drawn | None:
        with self._lock:
            kept = self._kept.get((deal_id, locale))
            if kept is None or kept[0] != source:
                return None
            self._kept.move_to_end((deal_id, locale))
            self.reused += 1
            return kept[1]

    def put(self, deal_id: int, locale: str, source: Hashable, drawn: Drawn) -> None:
        with self._lock:
            self.drawn += 1
            self._kept[(deal_id, locale)] = (source, drawn)
            self._kept.move_to_end((deal_id, locale))
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)


# A deal's list drawn in one locale at a time, or None when the deal or its community is gone.
Drawer = Callable[[int, str, datetime], Awaitable[Drawn | None]]
