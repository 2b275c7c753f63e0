"""The schema as typed SQLAlchemy 2 models. Money columns are integers in minor units."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend; SQLite would otherwise hand back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


def table_of(row: type[Base]) -> Table:
    """A mapped class's Table, typed as one, for the plain-table statements of the hot path."""
    return Base.metadata.tables[row.__tablename__]


class CommunityRow(Base):
    __tablename__ = "communities"
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(128), default="")
    buildings: Mapped[str] = mapped_column(Text, default="")  # '\n'-joined, in the leader's order
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    locale: Mapped[str] = mapped_column(String(16), default="en")
    configured: Mapped[bool] = mapped_column(Boolean, default=False)
    payment_mode: Mapped[str] = mapped_column(String(16), default="cash", server_default="cash")
    payment_window_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    # What Telegram last said of the bot in the group (my_chat_member, or a 403 from it):
    # administrator, member, muted, kicked or left (groupbuy.model.BotStatus).
    bot_status: Mapped[str] = mapped_column(String(16), default="member", server_default="member")
    # The forum topic deals go to unless typed in one (where /setup or a setting was sent).
    topic_id: Mapped[int | None] = mapped_column(BigInteger)
    # Pay-the-leader mode: how to pay (the leader's words) and their collection code's photo.
    payee: Mapped[str] = mapped_column(Text, default="", server_default="")
    payee_photo: Mapped[str | None] = mapped_column(String(256))


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(256))
    last_name: Mapped[str | None] = mapped_column(String(256))
    username: Mapped[str | None] = mapped_column(String(64))
    language_code: Mapped[str | None] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(16))
    started: Mapped[bool] = mapped_column(Boolean, default=False)


class ResidentRow(Base):
    __tablename__ = "residents"
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.chat_id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    building: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(32))
    room: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    # The pickup point they chose last in the community: offered first when a deal has it.
    point_id: Mapped[int | None] = mapped_column(Integer)


class DealRow(Base):
    __tablename__ = "deals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.chat_id"), index=True)
    leader_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    deadline: Mapped[datetime]
    remind_at: Mapped[datetime | None]
    reminder_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    pickup_place: Mapped[str] = mapped_column(String(256))
    pickup_window: Mapped[str] = mapped_column(String(128))
    minimum_kind: Mapped[str] = mapped_column(String(16))
    minimum: Mapped[int] = mapped_column(Integer, default=0)
    buildings: Mapped[str] = mapped_column(Text, default="")
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(16))
    post_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    post_message_id: Mapped[int | None] = mapped_column(BigInteger)
    post_version: Mapped[int] = mapped_column(Integer, default=0)
    post_synced_version: Mapped[int] = mapped_column(Integer, default=0)
    payment_mode: Mapped[str] = mapped_column(String(16), default="cash", server_default="cash")
    unpaid_reminded_at: Mapped[datetime | None]
    pickup_reminded_at: Mapped[datetime | None]  # the leader's "remind them all" to pick up
    # Anyone with a deep link may join (the leader's choice); otherwise members of the group only.
    open_link: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # The forum topic its post, replies and notices go to (None: General, or no topics).
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    # The community's pickup points it offers, '\n'-joined ids in the leader's order ("": its
    # own pickup place alone).
    points: Mapped[str] = mapped_column(Text, default="", server_default="")
    delivery_fee: Mapped[int | None] = mapped_column(BigInteger)  # minor units; None: none
    delivery_free_from: Mapped[int | None] = mapped_column(BigInteger)
    # A last case not full at the close (groupbuy.cases): "down", "up" or "wait" (case_wait
    # more hours, once); a case at least case_tolerance percent full counts as full.
    case_rule: Mapped[str] = mapped_column(String(8), default="down", server_default="down")
    case_wait: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    case_tolerance: Mapped[int] = mapped_column(Integer, default=100, server_default="100")
    __table_args__ = (
        Index("ix_deals_status_deadline", "status", "deadline"),
        Index("ix_deals_post_stale", "post_version", "post_synced_version"),
    )


class PickupPointRow(Base):
    """A place where a community's residents pick up (the property office, a shop, a lobby)."""

    __tablename__ = "pickup_points"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.chat_id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(256), default="")
    hours: Mapped[str] = mapped_column(String(128), default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    created_at: Mapped[datetime]
    # Removed points stay for the deals that offered them; new deals no longer can.
    removed_at: Mapped[datetime | None]


class SlotRow(Base):
    """A stretch of a deal's pickup window with its seats. Booking one locks its row first
    (`version`), then counts the active orders holding it: never more than `capacity`."""

    __tablename__ = "slots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=0)
    reminded_at: Mapped[datetime | None]  # its buyers were reminded it is coming


class ArrivalRow(Base):
    """The goods of a deal (at one pickup point) arrived: recorded once, its notices sent once."""

    __tablename__ = "arrivals"
    deal_id: Mapped[int] = mapped_column(
        ForeignKey("deals.id", ondelete="CASCADE"), primary_key=True
    )
    point: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    arrived_at: Mapped[datetime]
    arrived_by: Mapped[int] = mapped_column(BigInteger)


class PickupChangeRow(Base):
    """A closed deal's pickup moved by its leader: the buyers are told once, old and new."""

    __tablename__ = "pickup_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    old_place: Mapped[str] = mapped_column(String(256))
    old_window: Mapped[str] = mapped_column(String(128))
    place: Mapped[str] = mapped_column(String(256))
    window: Mapped[str] = mapped_column(String(128))
    changed_at: Mapped[datetime]
    changed_by: Mapped[int] = mapped_column(BigInteger)


class ItemRow(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(128))
    unit: Mapped[str] = mapped_column(String(32))
    price: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int] = mapped_column(Integer)
    per_person_limit: Mapped[int | None] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)
    # Lower prices from more units, "50:3500;100:3200" (groupbuy.tiers.stored): read with
    # the item on every press, so a column of its row rather than a table of its own.
    tiers: Mapped[str] = mapped_column(String(120), default="", server_default="")
    fixed_price: Mapped[int | None] = mapped_column(BigInteger)  # a tiered price, at the close
    case_size: Mapped[int | None] = mapped_column(Integer)  # sold by the case of this many
    __table_args__ = (
        # The last line of defence: even a buggy caller cannot oversell.
        CheckConstraint("sold >= 0 AND sold <= stock", name="sold_within_stock"),
    )


class OrderRow(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    code: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    picked_up_at: Mapped[datetime | None]
    picked_up_by: Mapped[int | None] = mapped_column(BigInteger)  # who handed it out
    pay_by: Mapped[datetime | None]  # invoiced modes: unpaid units are held until then
    pay_reminded: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    invoice_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    invoice_issued_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    point_id: Mapped[int | None] = mapped_column(Integer)  # where it is picked up (deal's points)
    slot_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the pickup slot booked
    # The leader delivers it to the buyer's door (the deal's delivery fee is in its amount).
    delivery: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    __table_args__ = (
        Index("ix_orders_pay_by", "pay_by"),
        Index("ix_orders_invoice_wanted", "invoice_version", "invoice_issued_version"),
        UniqueConstraint("deal_id", "user_id", name="uq_orders_deal_user"),
        UniqueConstraint("community_id", "code", name="uq_orders_community_code"),
    )


class OrderLineRow(Base):
    __tablename__ = "order_lines"
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    paid_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("paid_quantity >= 0", name="paid_quantity_not_negative"),
    )


class HeldBackRow(Base):
    """A line of a handed-out order the resident did not take yet (partial pickup): its units
    are to be handed out later. No row: the whole line went with the order."""

    __tablename__ = "held_back"
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class NoShowRow(Base):
    """What the leader decided for an order nobody came for (groupbuy.no_shows): one row per
    order, changed only from 'moved' (kept for the next pickup) to a final outcome."""

    __tablename__ = "no_shows"
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime]
    decided_by: Mapped[int] = mapped_column(BigInteger)


class SpareRow(Base):
    """Goods of a closed deal left with the leader: units of orders nobody came for."""

    __tablename__ = "spare"
    deal_id: Mapped[int] = mapped_column(
        ForeignKey("deals.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class OutboxRow(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    deal_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    ref: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]  # next attempt; a claim pushes it forward as a lease
    sent_at: Mapped[datetime | None]
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("kind", "deal_id", "chat_id", "ref", name="uq_outbox_once"),
        Index("ix_outbox_pending", "done", "due_at"),
    )


class LiveMessageRow(Base):
    """A message the bot keeps true after it was sent (groupbuy.live): a resident's order card,
    a line of a leader's pickup checklist, a leader's payments view. A change to what it shows
    raises `version`; the refresher edits the message and records the version it showed, and
    the hash of the text it showed, so a change that alters nothing the message says costs no
    call to Telegram."""

    __tablename__ = "live_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    subject_id: Mapped[int] = mapped_column(BigInteger)  # card: the resident; checklist: order
    version: Mapped[int] = mapped_column(Integer, default=1)
    shown_version: Mapped[int] = mapped_column(Integer, default=0)
    shown_hash: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime]
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id", "subject_id", name="uq_live_messages_subject"),
        Index("ix_live_messages_of", "kind", "deal_id", "subject_id"),
        Index("ix_live_messages_stale", "version", "shown_version"),
    )


class HandledUpdateRow(Base):
    """A Telegram update whose effects are committed: written in the same transaction as them,
    so a second delivery of the update (a crash before it was confirmed, a webhook retry) finds
    it and changes nothing (groupbuy.delivery). Kept a week: Telegram keeps updates for a day."""

    __tablename__ = "handled_updates"
    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime] = mapped_column(index=True)


class GroupAdminRow(Base):
    """Who administers a group, as last heard from Telegram (getChatAdministrators, chat_member
    updates): asked without a Telegram call when someone writes to the bot in private."""

    __tablename__ = "group_admins"
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, index=True
    )
    recorded_at: Mapped[datetime]


class ReorderWatchRow(Base):
    """Someone asked to be told when what they bought in a deal is open again (一键复购)."""

    __tablename__ = "reorder_watches"
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    deal_id: Mapped[int] = mapped_column(
        ForeignKey("deals.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    community_id: Mapped[int] = mapped_column(BigInteger, index=True)
    names: Mapped[str] = mapped_column(Text)  # the items' names as groupbuy.reorder keys them
    created_at: Mapped[datetime]


class DialogRow(Base):
    __tablename__ = "dialogs"
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class PaymentRow(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units
    currency: Mapped[str] = mapped_column(String(3))
    # Telegram's id of the charge: unique, so a repeated successful_payment records nothing.
    charge_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    provider_charge_id: Mapped[str | None] = mapped_column(String(128))
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)


class RefundRow(Base):
    __tablename__ = "refunds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)


class InvoiceRow(Base):
    __tablename__ = "invoices"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
