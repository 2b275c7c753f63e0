"""Rows to domain objects: repositories hand out plain frozen dataclasses, never ORM rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from groupbuy.model import (
    BotStatus,
    CaseRule,
    CloseReason,
    Community,
    Deal,
    DealStatus,
    Invoice,
    Item,
    MinimumKind,
    Order,
    OrderLine,
    Payment,
    PaymentMethod,
    PaymentMode,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    Resident,
    User,
)
from groupbuy.tiers import read_stored
from storage.tables import (
    CommunityRow,
    DealRow,
    InvoiceRow,
    ItemRow,
    PaymentRow,
    RefundRow,
    ResidentRow,
    UserRow,
)


def split_lines(text: str) -> tuple[str, ...]:
    return tuple(x for x in text.split("\n") if x)


def community(row: CommunityRow | Any) -> Community:
    return Community(
        chat_id=row.chat_id,
        title=row.title,
        name=row.name,
        buildings=split_lines(row.buildings),
        currency=row.currency,
        timezone=row.timezone,
        locale=row.locale,
        configured=row.configured,
        payment_mode=PaymentMode(row.payment_mode),
        payment_window_minutes=row.payment_window_minutes,
        bot_status=BotStatus(row.bot_status),
        topic_id=row.topic_id,
        payee=row.payee,
        payee_photo=row.payee_photo,
    )


def user(row: UserRow | Any) -> User:
    return User(
        id=row.id,
        first_name=row.first_name,
        last_name=row.last_name,
        username=row.username,
        language_code=row.language_code,
        locale=row.locale,
        started=row.started,
    )


def resident(row: ResidentRow | Any) -> Resident:
    return Resident(
        row.community_id, row.user_id, row.building, row.unit, row.room, row.phone, row.point_id
    )


def item(row: ItemRow) -> Item:
    return Item(
        id=row.id,
        deal_id=row.deal_id,
        position=row.position,
        name=row.name,
        unit=row.unit,
        price=row.price,
        stock=row.stock,
        limit=row.per_person_limit,
        sold=row.sold,
        tiers=read_stored(row.tiers),
        fixed_price=row.fixed_price,
        case_size=row.case_size,
    )


def item_of(row: Any, prefix: str) -> Item:
    """An item from a joined row whose item columns are labelled `prefix` + name."""
    m = row._mapping
    return Item(
        id=m[prefix + "id"],
        deal_id=m[prefix + "deal_id"],
        position=m[prefix + "position"],
        name=m[prefix + "name"],
        unit=m[prefix + "unit"],
        price=m[prefix + "price"],
        stock=m[prefix + "stock"],
        limit=m[prefix + "per_person_limit"],
        sold=m[prefix + "sold"],
        tiers=read_stored(m[prefix + "tiers"]),
        fixed_price=m[prefix + "fixed_price"],
        case_size=m[prefix + "case_size"],
    )


def deal(row: DealRow | Any, items: Iterable[ItemRow | Item]) -> Deal:
    return Deal(
        id=row.id,
        community_id=row.community_id,
        leader_id=row.leader_id,
        title=row.title,
        description=row.description,
        currency=row.currency,
        deadline=row.deadline,
        pickup_place=row.pickup_place,
        pickup_window=row.pickup_window,
        minimum_kind=MinimumKind(row.minimum_kind),
        minimum=row.minimum,
        buildings=split_lines(row.buildings),
        photo_file_id=row.photo_file_id,
        status=DealStatus(row.status),
        created_at=row.created_at,
        closed_at=row.closed_at,
        close_reason=CloseReason(row.close_reason) if row.close_reason else None,
        post_chat_id=row.post_chat_id,
        post_message_id=row.post_message_id,
        items=tuple(
            sorted((i if isinstance(i, Item) else item(i) for i in items), key=lambda i: i.position)
        ),
        payment_mode=PaymentMode(row.payment_mode),
        open_link=bool(row.open_link),
        thread_id=row.thread_id,
        points=tuple(int(x) for x in split_lines(row.points)),
        delivery_fee=row.delivery_fee,
        delivery_free_from=row.delivery_free_from,
        case_rule=CaseRule(row.case_rule),
        case_wait=row.case_wait,
        case_tolerance=row.case_tolerance,
    )


def order(row: Any, lines: Iterable[tuple[int, int, int]]) -> Order:
    """From an OrderRow or a row of the same columns (the bulk reads use plain columns)."""
    return Order(
        id=row.id,
        deal_id=row.deal_id,
        user_id=row.user_id,
        code=row.code,
        lines=tuple(OrderLine(item_id, qty, paid) for item_id, qty, paid in sorted(lines)),
        picked_up_at=row.picked_up_at,
        pay_by=row.pay_by,
        picked_up_by=row.picked_up_by,
        point=row.point_id,
        slot=row.slot_id,
        delivery=bool(row.delivery),
    )


def payment(row: PaymentRow) -> Payment:
    return Payment(
        id=row.id,
        order_id=row.order_id,
        deal_id=row.deal_id,
        user_id=row.user_id,
        method=PaymentMethod(row.method),
        status=PaymentStatus(row.status),
        amount=row.amount,
        currency=row.currency,
        charge_id=row.charge_id,
        provider_charge_id=row.provider_charge_id,
        photo_file_id=row.photo_file_id,
        created_at=row.created_at,
    )


def refund(row: RefundRow) -> Refund:
    return Refund(
        id=row.id,
        order_id=row.order_id,
        deal_id=row.deal_id,
        user_id=row.user_id,
        payment_id=row.payment_id,
        amount=row.amount,
        currency=row.currency,
        method=PaymentMethod(row.method),
        status=RefundStatus(row.status),
        reason=RefundReason(row.reason),
        created_at=row.created_at,
        done_at=row.done_at,
    )


def invoice(row: InvoiceRow) -> Invoice:
    return Invoice(
        token=row.token,
        order_id=row.order_id,
        deal_id=row.deal_id,
        user_id=row.user_id,
        amount=row.amount,
        currency=row.currency,
        open=row.open,
        message_id=row.message_id,
    )
