"""A community's pickup points (groupbuy.pickup_points)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update

from groupbuy.model import PickupPoint, PointSpec
from storage.db import Db
from storage.tables import PickupPointRow


def _point(row: PickupPointRow) -> PickupPoint:
    return PickupPoint(
        id=row.id,
        community_id=row.community_id,
        name=row.name,
        address=row.address,
        hours=row.hours,
        latitude=row.latitude,
        longitude=row.longitude,
        removed=row.removed_at is not None,
    )


class SqlPickupPoints:
    def __init__(self, session: Db) -> None:
        self._s = session

    async def add(self, community_id: int, spec: PointSpec, now: datetime) -> PickupPoint:
        row = PickupPointRow(
            community_id=community_id,
            name=spec.name,
            address=spec.address,
            hours=spec.hours,
            latitude=spec.latitude,
            longitude=spec.longitude,
            created_at=now,
        )
        self._s.add(row)
        await self._s.flush()
        return _point(row)

    async def of_community(self, community_id: int) -> list[PickupPoint]:
        rows = await self._s.scalars(
            select(PickupPointRow)
            .where(PickupPointRow.community_id == community_id, PickupPointRow.removed_at.is_(None))
            .order_by(PickupPointRow.id)
        )
        return [_point(r) for r in rows]

    async def many(self, point_ids: Collection[int]) -> dict[int, PickupPoint]:
        if not point_ids:
            return {}
        rows = await self._s.scalars(
            select(PickupPointRow).where(PickupPointRow.id.in_(sorted(set(point_ids))))
        )
        return {r.id: _point(r) for r in rows}

    async def remove(self, point_id: int, now: datetime) -> bool:
        result = await self._s.execute(
            update(PickupPointRow)
            .where(PickupPointRow.id == point_id, PickupPointRow.removed_at.is_(None))
            .values(removed_at=now)
        )
        return int(getattr(result, "rowcount", 0)) == 1
