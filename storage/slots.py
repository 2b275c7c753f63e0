"""A deal's pickup slots (groupbuy.slots). A slot's seats are counted, not kept: booking locks
the slot's row, then counts the active orders that hold it, so an order that is cancelled or
emptied frees its seat without anyone having to give it back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, exists, func, select, update

from groupbuy.live import Touched
from groupbuy.model import DealStatus, Slot
from storage.db import Db
from storage.tables import DealRow, OrderLineRow, OrderRow, SlotRow

# The active orders holding each slot: an order with units (a handed-out order kept its seat).
_HELD = (
    select(OrderRow.slot_id, func.count().label("booked"))
    .where(
        OrderRow.slot_id.is_not(None),
        exists().where(OrderLineRow.order_id == OrderRow.id, OrderLineRow.quantity > 0),
    )
    .group_by(OrderRow.slot_id)
)


def _slot(row: SlotRow, booked: int) -> Slot:
    return Slot(row.id, row.deal_id, row.starts_at, row.ends_at, row.capacity, booked)


class SqlSlots:
    def __init__(self, session: Db, touched: Touched | None = None) -> None:
        self._s = session
        self._touched = touched if touched is not None else Touched()

    async def set(
        self, deal_id: int, stretches: Sequence[tuple[datetime, datetime]], capacity: int
    ) -> list[Slot]:
        await self._s.execute(
            update(OrderRow).where(OrderRow.deal_id == deal_id).values(slot_id=None)
        )
        await self._s.execute(delete(SlotRow).where(SlotRow.deal_id == deal_id))
        rows = [
            SlotRow(deal_id=deal_id, starts_at=start, ends_at=end, capacity=capacity, version=0)
            for start, end in stretches
        ]
        for row in rows:
            self._s.add(row)
        await self._s.flush()
        self._touched.deals.add(deal_id)  # the order cards show the slots
        return [_slot(r, 0) for r in rows]

    async def of_deal(self, deal_id: int) -> list[Slot]:
        held = _HELD.where(OrderRow.deal_id == deal_id).subquery()
        rows = await self._s.execute(
            select(SlotRow, func.coalesce(held.c.booked, 0))
            .outerjoin(held, held.c.slot_id == SlotRow.id)
            .where(SlotRow.deal_id == deal_id)
            .order_by(SlotRow.starts_at, SlotRow.id)
        )
        return [_slot(row, int(booked)) for row, booked in rows]

    async def lock(self, deal_id: int, slot_id: int) -> Slot | None:
        # An UPDATE takes the row's lock on PostgreSQL (a second booking waits here until the
        # first commits, then counts its seat); SQLite has one writer at a time anyway.
        locked = await self._s.execute(
            update(SlotRow)
            .where(SlotRow.id == slot_id, SlotRow.deal_id == deal_id)
            .values(version=SlotRow.version + 1)
            .returning(SlotRow.id)
        )
        if locked.first() is None:
            return None
        row = await self._s.get(SlotRow, slot_id, populate_existing=True)
        assert row is not None
        booked = await self._s.scalar(
            select(func.count())
            .select_from(OrderRow)
            .where(
                OrderRow.slot_id == slot_id,
                exists().where(OrderLineRow.order_id == OrderRow.id, OrderLineRow.quantity > 0),
            )
        )
        return _slot(row, int(booked or 0))

    async def reminders_due(self, until: datetime, limit: int) -> list[Slot]:
        rows = await self._s.scalars(
            select(SlotRow)
            .join(DealRow, and_(DealRow.id == SlotRow.deal_id))
            .where(
                SlotRow.reminded_at.is_(None),
                SlotRow.starts_at <= until,
                DealRow.status == DealStatus.CLOSED.value,
            )
            .order_by(SlotRow.starts_at, SlotRow.id)
            .limit(limit)
        )
        return [_slot(r, 0) for r in rows]

    async def claim_reminder(self, slot_id: int, now: datetime) -> bool:
        result = await self._s.execute(
            update(SlotRow)
            .where(SlotRow.id == slot_id, SlotRow.reminded_at.is_(None))
            .values(reminded_at=now)
        )
        return int(getattr(result, "rowcount", 0)) == 1
