"""Deals and their items. Stock moves only through conditional UPDATEs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update

from groupbuy.live import Touched
from groupbuy.model import (
    Arrival,
    BotStatus,
    CaseRule,
    CloseReason,
    Deal,
    DealSpec,
    DealStats,
    DealStatus,
    PaymentMode,
    PickupChange,
    Resident,
    StalePost,
)
from groupbuy.tiers import stored
from storage import convert
from storage.db import Db
from storage.tables import (
    ArrivalRow,
    CommunityRow,
    DealRow,
    ItemRow,
    OrderLineRow,
    OrderRow,
    PickupChangeRow,
    ResidentRow,
    SpareRow,
    table_of,
)
from storage.upsert import insert_for

# The statements of a button press, built once: SQLAlchemy then finds each compiled form by the
# object itself, and plain table columns skip the ORM's row loading (a press is ~10 of these).
_deals = table_of(DealRow)
_items = table_of(ItemRow)
_GET = (
    select(_deals, *(c.label(f"item_{c.name}") for c in _items.c))
    .outerjoin(_items, _items.c.deal_id == _deals.c.id)
    .where(_deals.c.id == bindparam("deal"))
)
_residents = table_of(ResidentRow)
_GET_FOR = (
    select(
        _deals,
        *(c.label(f"item_{c.name}") for c in _items.c),
        *(c.label(f"resident_{c.name}") for c in _residents.c),
    )
    .outerjoin(_items, _items.c.deal_id == _deals.c.id)
    .outerjoin(
        _residents,
        and_(
            _residents.c.community_id == _deals.c.community_id,
            _residents.c.user_id == bindparam("user"),
        ),
    )
    .where(_deals.c.id == bindparam("deal"))
)
_BEGIN_CHANGE = (
    update(_deals)
    .where(_deals.c.id == bindparam("deal"), _deals.c.status == DealStatus.OPEN.value)
    .values(post_version=_deals.c.post_version + 1)
)
_RESERVE = (
    update(_items)
    .where(
        _items.c.id == bindparam("item"),
        _items.c.deal_id == bindparam("deal"),
        _items.c.sold + bindparam("quantity") <= _items.c.stock,
    )
    .values(sold=_items.c.sold + bindparam("quantity"))
    .returning(_items.c.stock - _items.c.sold)
)
_RELEASE = (
    update(_items)
    .where(
        _items.c.id == bindparam("item"),
        _items.c.deal_id == bindparam("deal"),
        _items.c.sold >= bindparam("quantity"),
    )
    .values(sold=_items.c.sold - bindparam("quantity"))
)
_LEFT = (
    select(func.count())
    .select_from(_items)
    .where(_items.c.deal_id == bindparam("deal"), _items.c.sold < _items.c.stock)
)


class SqlDeals:
    def __init__(self, session: Db, touched: Touched | None = None) -> None:
        self._s = session
        self._touched = touched if touched is not None else Touched()  # see SqlOrders

    async def add(
        self,
        community_id: int,
        leader_id: int,
        currency: str,
        spec: DealSpec,
        now: datetime,
        remind_at: datetime | None,
        payment_mode: PaymentMode = PaymentMode.CASH,
    ) -> Deal:
        row = DealRow(
            community_id=community_id,
            leader_id=leader_id,
            title=spec.title,
            description=spec.description,
            currency=currency,
            deadline=spec.deadline,
            remind_at=remind_at,
            reminder_sent=False,
            pickup_place=spec.pickup_place,
            pickup_window=spec.pickup_window,
            minimum_kind=spec.minimum_kind.value,
            minimum=spec.minimum,
            buildings="\n".join(spec.buildings),
            photo_file_id=spec.photo_file_id,
            status=DealStatus.OPEN.value,
            created_at=now,
            post_version=0,
            post_synced_version=0,
            payment_mode=payment_mode.value,
            open_link=spec.open_link,
            thread_id=spec.thread_id,
            points="\n".join(str(p) for p in spec.points),
            delivery_fee=spec.delivery_fee,
            delivery_free_from=spec.delivery_free_from,
            case_rule=spec.case_rule.value,
            case_wait=spec.case_wait,
            case_tolerance=spec.case_tolerance,
        )
        self._s.add(row)
        await self._s.flush()
        for position, it in enumerate(spec.items):
            self._s.add(
                ItemRow(
                    deal_id=row.id,
                    position=position,
                    name=it.name,
                    unit=it.unit,
                    price=it.price,
                    stock=it.stock,
                    per_person_limit=it.limit,
                    sold=0,
                    tiers=stored(it.tiers),
                    case_size=it.case_size,
                )
            )
        await self._s.flush()
        deal = await self.get(row.id)
        assert deal is not None
        return deal

    async def get(self, deal_id: int) -> Deal | None:
        # One statement for the deal and its items (read on every press), as plain columns: the
        # conditional UPDATEs bypass any identity map, so nothing here is cached.
        rows = (await self._s.execute(_GET, {"deal": deal_id})).all()
        if not rows:
            return None
        items = [convert.item_of(row, "item_") for row in rows if row.item_id is not None]
        return convert.deal(rows[0], items)

    async def get_for(self, deal_id: int, user_id: int) -> tuple[Deal, Resident | None] | None:
        rows = (await self._s.execute(_GET_FOR, {"deal": deal_id, "user": user_id})).all()
        if not rows:
            return None
        items = [convert.item_of(row, "item_") for row in rows if row.item_id is not None]
        home = rows[0]._mapping
        resident = (
            None
            if home["resident_user_id"] is None
            else Resident(
                home["resident_community_id"],
                home["resident_user_id"],
                home["resident_building"],
                home["resident_unit"],
                home["resident_room"],
                home["resident_phone"],
                home["resident_point_id"],
            )
        )
        return convert.deal(rows[0], items), resident

    async def set_post(self, deal_id: int, chat_id: int, message_id: int) -> None:
        await self._s.execute(
            update(DealRow)
            .where(DealRow.id == deal_id)
            .values(post_chat_id=chat_id, post_message_id=message_id)
        )

    async def reserve(self, deal_id: int, item_id: int, quantity: int) -> int | None:
        params = {"deal": deal_id, "item": item_id, "quantity": quantity}
        left = (await self._s.execute(_RESERVE, params)).first()
        return None if left is None else int(left[0])

    async def release(self, deal_id: int, item_id: int, quantity: int) -> None:
        params = {"deal": deal_id, "item": item_id, "quantity": quantity}
        await self._s.execute(_RELEASE, params)

    async def fix_prices(self, deal_id: int, prices: dict[int, int]) -> None:
        for item_id, price in prices.items():
            await self._s.execute(
                update(ItemRow)
                .where(ItemRow.deal_id == deal_id, ItemRow.id == item_id)
                .values(fixed_price=price)
            )

    async def wait_for_cases(self, deal_id: int, deadline: datetime) -> None:
        # Once: at the new deadline the close rounds down whatever is still short.
        await self._s.execute(
            update(DealRow)
            .where(DealRow.id == deal_id)
            .values(
                deadline=deadline,
                case_rule=CaseRule.DOWN.value,
                post_version=DealRow.post_version + 1,
            )
        )

    async def all_taken(self, deal_id: int) -> bool:
        return not await self._s.scalar(_LEFT, {"deal": deal_id})

    async def move(
        self,
        deal_id: int,
        src: DealStatus,
        dst: DealStatus,
        now: datetime,
        reason: CloseReason | None,
    ) -> bool:
        result = await self._s.execute(
            update(DealRow)
            .where(DealRow.id == deal_id, DealRow.status == src.value)
            .values(
                status=dst.value,
                closed_at=now,
                close_reason=reason.value if reason else None,
                post_version=DealRow.post_version + 1,
            )
        )
        moved = _one(result)
        if moved:
            self._touched.deals.add(deal_id)
        return moved

    async def due(self, now: datetime, limit: int) -> list[int]:
        rows = await self._s.scalars(
            select(DealRow.id)
            .where(DealRow.status == DealStatus.OPEN.value, DealRow.deadline <= now)
            .order_by(DealRow.deadline)
            .limit(limit)
        )
        return list(rows)

    async def claim_reminder(self, deal_id: int) -> bool:
        result = await self._s.execute(
            update(DealRow)
            .where(
                DealRow.id == deal_id,
                DealRow.status == DealStatus.OPEN.value,
                DealRow.reminder_sent.is_(False),
            )
            .values(reminder_sent=True)
        )
        return _one(result)

    async def reminders_due(self, now: datetime, limit: int) -> list[int]:
        rows = await self._s.scalars(
            select(DealRow.id)
            .where(
                DealRow.status == DealStatus.OPEN.value,
                DealRow.reminder_sent.is_(False),
                DealRow.remind_at <= now,
                DealRow.deadline > now,
            )
            .order_by(DealRow.remind_at, DealRow.id)
            .limit(limit)
        )
        return list(rows)

    async def open_deals(self) -> list[Deal]:
        ids = await self._s.scalars(
            select(DealRow.id).where(DealRow.status == DealStatus.OPEN.value)
        )
        deals = [await self.get(i) for i in list(ids)]
        return [d for d in deals if d is not None]

    async def for_community(
        self, community_id: int, statuses: Sequence[DealStatus], limit: int
    ) -> list[Deal]:
        ids = await self._s.scalars(
            select(DealRow.id)
            .where(
                DealRow.community_id == community_id,
                DealRow.status.in_([s.value for s in statuses]),
            )
            .order_by(DealRow.id.desc())
            .limit(limit)
        )
        deals = [await self.get(i) for i in list(ids)]
        return [d for d in deals if d is not None]

    async def begin_change(self, deal_id: int) -> bool:
        return _one(await self._s.execute(_BEGIN_CHANGE, {"deal": deal_id}))

    async def leave_topic(self, community_id: int, thread_id: int) -> list[int]:
        where = (DealRow.community_id == community_id, DealRow.thread_id == thread_id)
        ids = list(await self._s.scalars(select(DealRow.id).where(*where).order_by(DealRow.id)))
        if ids:
            await self._s.execute(update(DealRow).where(*where).values(thread_id=None))
        return ids

    async def touch_post(self, deal_id: int) -> None:
        await self._s.execute(
            update(DealRow)
            .where(DealRow.id == deal_id)
            .values(post_version=DealRow.post_version + 1)
        )

    async def stale_posts(self, limit: int, after: int = 0) -> list[StalePost]:
        rows = await self._s.execute(
            select(DealRow.id, DealRow.post_version, DealRow.post_chat_id, DealRow.status)
            .where(
                DealRow.id > after,
                DealRow.post_version > DealRow.post_synced_version,
                DealRow.post_message_id.is_not(None),
                # A post in a group the bot may not write in is edited when it may again.
                DealRow.post_chat_id.not_in(
                    select(CommunityRow.chat_id).where(
                        CommunityRow.bot_status.in_([s.value for s in BotStatus if not s.can_post])
                    )
                ),
            )
            .order_by(DealRow.id)
            .limit(limit)
        )
        return [
            StalePost(r.id, r.post_version, r.post_chat_id or 0, r.status == DealStatus.OPEN.value)
            for r in rows
        ]

    async def post_synced(self, deal_id: int, version: int) -> None:
        await self._s.execute(
            update(DealRow)
            .where(DealRow.id == deal_id, DealRow.post_synced_version < version)
            .values(post_synced_version=version)
        )

    async def stats(self, deal_id: int) -> DealStats:
        unpaid = OrderLineRow.quantity - OrderLineRow.paid_quantity
        per_order = (
            select(
                func.sum(OrderLineRow.quantity).label("q"),
                func.sum(case((unpaid > 0, unpaid), else_=0)).label("u"),
            )
            .join(OrderRow, OrderRow.id == OrderLineRow.order_id)
            .where(and_(OrderRow.deal_id == deal_id))
            .group_by(OrderLineRow.order_id)
            .having(func.sum(OrderLineRow.quantity) > 0)
            .subquery()
        )
        row = (
            await self._s.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(per_order.c.q), 0),
                    func.coalesce(func.sum(case((per_order.c.u == 0, 1), else_=0)), 0),
                )
            )
        ).one()
        return DealStats(participants=int(row[0]), quantity=int(row[1]), paid=int(row[2]))

    async def claim_unpaid_reminder(self, deal_id: int, now: datetime, every: timedelta) -> bool:
        return await self._claim(deal_id, DealRow.unpaid_reminded_at, now, every)

    async def _claim(self, deal_id: int, last: Any, now: datetime, every: timedelta) -> bool:
        """Set the deal's `last` reminder time to now, unless it is within `every` of now."""
        result = await self._s.execute(
            update(DealRow)
            .where(DealRow.id == deal_id, or_(last.is_(None), last <= now - every))
            .values({last: now})
        )
        return _one(result)

    async def arrive(self, arrival: Arrival) -> bool:
        values = {
            "deal_id": arrival.deal_id,
            "point": arrival.point,
            "arrived_at": arrival.at,
            "arrived_by": arrival.by,
        }
        stmt = insert_for(self._s, ArrivalRow).values(values).on_conflict_do_nothing()
        return _one(await self._s.execute(stmt))

    async def arrival(self, deal_id: int, point: int) -> Arrival | None:
        row = (
            await self._s.execute(
                select(ArrivalRow.arrived_at, ArrivalRow.arrived_by).where(
                    ArrivalRow.deal_id == deal_id, ArrivalRow.point == point
                )
            )
        ).one_or_none()
        return None if row is None else Arrival(deal_id, point, row.arrived_at, row.arrived_by)

    async def change_pickup(
        self, deal_id: int, place: str, window: str, now: datetime, by: int
    ) -> PickupChange:
        old = (
            await self._s.execute(
                update(DealRow)
                .where(DealRow.id == deal_id)
                .values(post_version=DealRow.post_version + 1)  # and lock it: one move at a time
                .returning(DealRow.pickup_place, DealRow.pickup_window)
            )
        ).one()
        await self._s.execute(
            update(DealRow)
            .where(DealRow.id == deal_id)
            .values(pickup_place=place, pickup_window=window)
        )
        row = PickupChangeRow(
            deal_id=deal_id,
            old_place=old.pickup_place,
            old_window=old.pickup_window,
            place=place,
            window=window,
            changed_at=now,
            changed_by=by,
        )
        self._s.add(row)
        await self._s.flush()
        return _change(row)

    async def pickup_change(self, change_id: int) -> PickupChange | None:
        row = await self._s.get(PickupChangeRow, change_id)
        return None if row is None else _change(row)

    async def claim_pickup_reminder(self, deal_id: int, now: datetime, every: timedelta) -> bool:
        return await self._claim(deal_id, DealRow.pickup_reminded_at, now, every)

    async def add_spare(self, deal_id: int, item_id: int, quantity: int) -> None:
        stmt = insert_for(self._s, SpareRow).values(
            deal_id=deal_id, item_id=item_id, quantity=quantity
        )
        await self._s.execute(
            stmt.on_conflict_do_update(
                index_elements=[SpareRow.deal_id, SpareRow.item_id],
                set_={"quantity": SpareRow.quantity + stmt.excluded.quantity},
            )
        )

    async def spare(self, deal_id: int) -> dict[int, int]:
        rows = await self._s.execute(
            select(SpareRow.item_id, SpareRow.quantity).where(SpareRow.deal_id == deal_id)
        )
        return {item: quantity for item, quantity in rows.all()}


def _change(row: PickupChangeRow) -> PickupChange:
    return PickupChange(
        row.id,
        row.deal_id,
        row.old_place,
        row.old_window,
        row.place,
        row.window,
        row.changed_at,
        row.changed_by,
    )


def _one(result: object) -> bool:
    return int(getattr(result, "rowcount", 0)) == 1
