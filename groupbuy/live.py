"""Messages kept true after they were sent.

A resident's order card, a leader's pickup checklist and payments view show state that keeps
changing after the message went out: a +1 pressed in the group, a payment, a lapse, the close,
a pickup. Each such message is recorded with what it shows (its kind, deal and subject); a
change to that state raises the message's version in the same transaction as the change
(storage.unit_of_work), and the refresher (bot.background) edits the message through the
sender, paced per chat, never while anyone's lock is held. Changes coalesce: the edit shows the
state at the time it is made, however many changes came in between.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum


class LiveKind(StrEnum):
    CARD = "card"  # a resident's order card in private (subject: the resident)
    CHECKLIST = "checklist"  # a message of a leader's pickup list (subjects: its orders)
    PAYMENTS = "payments"  # a leader's payments summary of a deal (subject: 0)


@dataclass(frozen=True, slots=True)
class Live:
    """What a message being sent shows, so that it is kept current."""

    kind: LiveKind
    deal_id: int
    subjects: tuple[int, ...] = (0,)


@dataclass(frozen=True, slots=True)
class Shown:
    """One subject of a recorded message, at the version it had when it was read."""

    row_id: int
    subject_id: int
    version: int


@dataclass(frozen=True, slots=True)
class StaleMessage:
    """A recorded message one of whose subjects changed since it was last shown."""

    kind: LiveKind
    deal_id: int
    chat_id: int
    message_id: int
    shown_hash: str
    rows: tuple[Shown, ...]

    @property
    def subjects(self) -> tuple[int, ...]:
        return tuple(row.subject_id for row in self.rows)


@dataclass(slots=True)
class Touched:
    """What a unit of work changed that a live message may show: orders (their lines, their
    money, their pickup) and deals whose status moved."""

    orders: set[int] = field(default_factory=set)
    deals: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.orders or self.deals)

    def clear(self) -> None:
        self.orders.clear()
        self.deals.clear()


def fingerprint(text: str, keyboard: object) -> str:
    """Of what a message shows: equal fingerprints need no edit."""
    return hashlib.md5(f"{text}\x00{keyboard!r}".encode(), usedforsecurity=False).hexdigest()
