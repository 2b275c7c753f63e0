"""Notices: messages a state change owes people, written to the outbox in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from groupbuy.model import Deal


class NoticeKind(StrEnum):
    DEADLINE_REMINDER = "deadline_reminder"  # to the group, before the deadline
    DEAL_CLOSED = "deal_closed"  # to the group: the pickup notice
    PICKUP = "pickup"  # to each buyer: items, total, place, window, code
    DEAL_FAILED = "deal_failed"  # to the group
    ORDER_FAILED = "order_failed"  # to each participant of a failed deal
    DEAL_CANCELLED = "deal_cancelled"  # to the group
    ORDER_CANCELLED = "order_cancelled"  # to each participant of a cancelled deal
    PAYMENT_RECEIPT = "payment_receipt"  # to the payer (ref: payment id)
    PAYMENT_REJECTED = "payment_rejected"  # the leader did not find the transfer (ref: payment)
    PAYMENT_REMINDER = "payment_reminder"  # the hold on unpaid units ends soon (ref: its time)
    ORDER_LAPSED = "order_lapsed"  # unpaid units released (ref: the time)
    REFUND_OWED = "refund_owed"  # to the resident: a refund is on its way (ref: refund id)
    REFUND_DONE = "refund_done"  # to the resident: the refund was made (ref: refund id)
    SHORTFALL = "shortfall"  # fewer goods arrived: the resident's order was cut (ref: item, order)
    DEAL_PHOTO = "deal_photo"  # to the group: the deal's photo, just before its post
    DEAL_POST = "deal_post"  # to the group: the deal's post with its buttons (its id recorded)
    POST_UNDELIVERED = "post_undelivered"  # to the leader: the post could not be put up
    INVOICE_UNDELIVERED = "invoice_undelivered"  # to the leader: a buyer's invoice (ref: order)
    REFUND_REFUSED = "refund_refused"  # to the leader: Telegram refused a Stars refund (ref: it)
    GROUP_MOVED = "group_moved"  # to the leader: the group became a supergroup (ref: -old id)
    BOT_REMOVED = "bot_removed"  # to the leader: the bot may not post in the group (ref: when)
    BOT_DEMOTED = "bot_demoted"  # to the leader: the bot is no longer an admin (ref: when)
    TOPIC_GONE = "topic_gone"  # to the leader: deals' topic closed or deleted (ref: the topic)
    GOODS_ARRIVED = "goods_arrived"  # to the group: the goods are here, come and pick them up
    PICKUP_MOVED = "pickup_moved"  # to the group: the pickup moved (ref: the change)
    PICKUP_CHANGED = "pickup_changed"  # to each buyer still to pick up (ref: the change)
    PICKUP_REMINDER = "pickup_reminder"  # to a buyer not come yet: their order waits (ref: time)
    ARRIVED = "arrived"  # to each buyer still to pick up: the goods are here (code, what to bring)
    NOT_COLLECTED = "not_collected"  # to a buyer who never came: the goods went back (ref: order)
    KEPT_FOR_NEXT = "kept_for_next"  # to a buyer who never came: kept till next pickup (ref: order)
    SLOT_REMINDER = "slot_reminder"  # to a buyer with a slot: it starts soon (ref: the slot)
    SLOTS_OPEN = "slots_open"  # to a buyer with no slot: book one (ref: the first slot)
    CASE_WAIT = "case_wait"  # to the group: open longer to fill a case (ref: the new deadline)
    CASE_CUT = "case_cut"  # to a buyer: units beyond the last full case cut (ref: item, order)
    REORDER_OPEN = "reorder_open"  # to a buyer who asked: bought before, open again (ref: deal)


def deal_posted(deal_id: int, chat_id: int, photo: bool) -> list[Notice]:
    """What publishing a deal owes the group: its post, after its photo if it has one."""
    post = Notice(NoticeKind.DEAL_POST, chat_id, deal_id)
    return [Notice(NoticeKind.DEAL_PHOTO, chat_id, deal_id), post] if photo else [post]


@dataclass(frozen=True, slots=True)
class Notice:
    """One message owed. (kind, deal_id, chat_id, ref) is unique: written twice, sent once."""

    kind: NoticeKind
    chat_id: int
    deal_id: int
    user_id: int | None = None  # the recipient in a private chat, for their language
    ref: int = 0  # tells apart repeatable notices (a payment's or a refund's id)


@dataclass(frozen=True, slots=True)
class PendingNotice:
    id: int
    notice: Notice
    attempts: int
    created_at: datetime


def to_leaders(kind: NoticeKind, deals: Iterable[Deal], ref: int) -> list[Notice]:
    """One notice per leader of these deals (a notice about their group, not about each deal),
    naming the first of their deals; `ref` keeps one change's notices apart from the next's."""
    first: dict[int, int] = {}
    for deal in deals:
        first.setdefault(deal.leader_id, deal.id)
    return [Notice(kind, leader, deal_id, leader, ref) for leader, deal_id in first.items()]
