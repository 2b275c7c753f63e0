"""Pickup lists as drawn, kept for the next leader who asks (handlers/pickup_list.py)."""

from __future__ import annotations

import functools
import pickle
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from handlers.actions import Action, Keyboard, Later, Send, SendDocument

CHUNK = 50  # checklist messages a chunk: ~1,500 buttons, a few milliseconds to unpickle


@dataclass(frozen=True, slots=True)
class Printout:
    """One PDF of a list: the whole deal's, or, for a deal with pickup points, one point's
    (what the leader at that table prints)."""

    name: str  # its file name, without ".pdf"
    pdf: bytes = field(repr=False)
    caption: str


@dataclass(frozen=True, slots=True)
class Drawn:
    """A deal's list as drawn in one locale: the same for every leader who asks for it.

    The checklist is kept pickled, in chunks (`pack`): a list comes back from the list
    worker's process (bot/list_worker.py), and unpickled there and then a 100,000-order list's
    3,336 messages with their 100,000 buttons held the bot's event loop for 0.1–0.5 s at a
    time. As bytes they cross at once, and a chunk is unpickled only when its messages are
    about to be sent (`parts`), at a chat's pace."""

    printouts: tuple[Printout, ...]
    csv: bytes = field(repr=False)  # the whole deal's, a column naming each order's point
    checklist: tuple[bytes, ...] = field(repr=False)  # drawn for chat 0; see `pack`
    keyboard: Keyboard = ()  # under the first PDF: the list as an Excel workbook, on demand

    @staticmethod
    def pack(messages: Sequence[Send]) -> tuple[bytes, ...]:
        return tuple(
            pickle.dumps(tuple(messages[i : i + CHUNK]), pickle.HIGHEST_PROTOCOL)
            for i in range(0, len(messages), CHUNK)
        )

    def messages(self) -> Iterator[Send]:
        """The checklist messages, as drawn (for chat 0)."""
        for chunk in self.checklist:
            yield from _unpickled(chunk)

    def actions(self, deal_id: int, chat_id: int) -> list[Action]:
        """The list as sent to `chat_id`, after the update that asked for it (`Later`)."""
        return [Later(chat_id, functools.partial(self.parts, deal_id, chat_id))]

    def parts(self, deal_id: int, chat_id: int) -> Iterator[Send | SendDocument]:
        """The PDFs, the CSV, then the checklist, each message made as it is sent."""
        for n, printout in enumerate(self.printouts):
            keyboard = self.keyboard if n == 0 else ()
            pdf = f"{printout.name}.pdf"
            yield SendDocument(chat_id, pdf, printout.pdf, printout.caption, keyboard)
        yield SendDocument(chat_id, f"pickup-list-{deal_id}.csv", self.csv)
        for message in self.messages():
            yield replace(message, chat_id=chat_id)


def _unpickled(chunk: bytes) -> tuple[Send, ...]:
    # Only ever bytes that Drawn.pack made, in this process or the list worker's.
    messages: tuple[Send, ...] = pickle.loads(chunk)
    return messages


T = TypeVar("T")


class Kept(Generic[T]):
    """What was drawn lately, by deal and locale, each with what it was drawn from (the
    source: a key equal for two reads that would draw the same thing). Used from the drawing
    threads, hence the lock. A few at most: a 100k-order list is tens of megabytes."""

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[int, str], tuple[Hashable, T]] = OrderedDict()
        self.drawn = 0  # how many were drawn, and how many sent again as they were
        self.reused = 0

    def get(self, deal_id: int, locale: str, source: Hashable) -> T | None:
        with self._lock:
            kept = self._kept.get((deal_id, locale))
            if kept is None or kept[0] != source:
                return None
            self._kept.move_to_end((deal_id, locale))
            self.reused += 1
            return kept[1]

    def put(self, deal_id: int, locale: str, source: Hashable, drawn: T) -> None:
        with self._lock:
            self.drawn += 1
            self._kept[(deal_id, locale)] = (source, drawn)
            self._kept.move_to_end((deal_id, locale))
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)


class DrawnLists(Kept[Drawn]):
    """The lists drawn lately, and beside them the Excel workbooks asked for lately (drawn
    only on demand: a 10,000-order workbook is about a second of its own)."""

    def __init__(self, size: int = 8) -> None:
        super().__init__(size)
        self.workbooks: Kept[bytes] = Kept(size)


class Drawer(Protocol):
    """Draws a deal's list (or its workbook) in one locale at a time, elsewhere than the event
    loop; None when the deal or its community is gone."""

    async def __call__(self, deal_id: int, locale: str, now: datetime) -> Drawn | None: ...

    async def workbook(self, deal_id: int, locale: str, now: datetime) -> bytes | None: ...
