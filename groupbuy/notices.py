"""Notices: messages a state change owes people, written to the outbox in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class NoticeKind(StrEnum):
    DEADLINE_REMINDER = "deadline_reminder"  # to the group, before the deadline
    DEAL_CLOSED = "deal_closed"  # to the group: the pickup notice
    PICKUP = "pickup"  # to each buyer: items, total, place, window, code
    DEAL_FAILED = "deal_failed"  # to the group
    ORDER_FAILED = "order_failed"  # to each participant of a failed deal
    DEAL_CANCELLED = "deal_cancelled"  # to the group
    ORDER_CANCELLED = "order_cancelled"  # to each participant of a cancelled deal


@dataclass(frozen=True, slots=True)
class Notice:
    """One message owed. (kind, deal_id, chat_id) is unique, so writing it twice sends it once."""

    kind: NoticeKind
    chat_id: int
    deal_id: int
    user_id: int | None = None  # the recipient in a private chat, for their language


@dataclass(frozen=True, slots=True)
class PendingNotice:
    id: int
    notice: Notice
    attempts: int
    created_at: datetime
