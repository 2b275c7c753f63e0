"""Pickup points: where a community's residents collect (the property office, a shop, a lobby).

A leader describes each point once for the community; a deal offers one or several of them and
each order is collected at one. The point a resident chose last is theirs by default: a deal
that offers it gives it to their next order without asking.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from groupbuy import limits, parsing
from groupbuy.errors import DomainError, InputError
from groupbuy.model import Deal, DealSpec, DealStatus, Order, PickupPoint, PointSpec, Resident
from groupbuy.ports import UnitOfWork

# A point is "Name | Address | Hours | latitude, longitude", the last three optional.
_FIELDS = re.compile(r"\s*[|｜]\s*")
_LOCATION = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*[,，]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
# Names of points in a deal's pickup line (the one-message format): "Office / Shop 12".
_NAMES = re.compile(r"\s*[/／;；、]\s*")


def parse_point(text: str) -> PointSpec:
    fields = _FIELDS.split(parsing.clean_text(text).strip())
    if len(fields) > 4:
        raise InputError("point_format")
    name = parsing.bounded_text(fields[0], limits.POINT_NAME_MAX, key="point_name")
    address = _optional(fields, 1, limits.POINT_ADDRESS_MAX)
    hours = _optional(fields, 2, limits.POINT_HOURS_MAX)
    latitude = longitude = None
    if len(fields) == 4 and fields[3].strip():
        latitude, longitude = _location(fields[3])
    return PointSpec(name, address, hours, latitude, longitude)


def _optional(fields: Sequence[str], index: int, maximum: int) -> str:
    if len(fields) <= index or not fields[index].strip():
        return ""
    return parsing.bounded_text(fields[index], maximum)


def _location(text: str) -> tuple[float, float]:
    match = _LOCATION.match(parsing.typed_digits(text))
    if match is None:
        raise InputError("point_location_invalid")
    latitude, longitude = float(match.group(1)), float(match.group(2))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or not all(
        math.isfinite(x) for x in (latitude, longitude)
    ):
        raise InputError("point_location_invalid")
    return latitude, longitude


async def add_point(
    uow: UnitOfWork, community_id: int, spec: PointSpec, now: datetime
) -> PickupPoint:
    """A new point for the community: its name is new there, and there is room for it."""
    points = await uow.points.of_community(community_id)
    if any(p.name.casefold() == spec.name.casefold() for p in points):
        raise InputError("point_exists", name=spec.name)
    if len(points) >= limits.POINTS_MAX:
        raise InputError("points_too_many", limit=limits.POINTS_MAX)
    return await uow.points.add(community_id, spec, now)


async def remove_point(
    uow: UnitOfWork, community_id: int, point_id: int, now: datetime
) -> PickupPoint:
    """New deals no longer offer it; the deals that did keep it, and their orders with it."""
    point = (await uow.points.many([point_id])).get(point_id)
    if point is None or point.community_id != community_id or point.removed:
        raise DomainError("point_unknown")
    await uow.points.remove(point_id, now)
    return point


def named(text: str, points: Iterable[PickupPoint]) -> tuple[int, ...] | None:
    """The points a deal's pickup line names ("Office / Shop 12"), when every part of it is the
    name of one of the community's points; None: it is a place of its own."""
    by_name = {p.name.casefold(): p.id for p in points}
    parts = [x for x in _NAMES.split(text.strip()) if x]
    if not parts or any(x.casefold() not in by_name for x in parts):
        return None
    chosen = tuple(dict.fromkeys(by_name[x.casefold()] for x in parts))
    if len(chosen) > limits.POINTS_OFFERED:
        raise InputError("points_offered_too_many", limit=limits.POINTS_OFFERED)
    return chosen


async def offering(uow: UnitOfWork, community_id: int, spec: DealSpec) -> DealSpec:
    """The deal as it will be opened: when its pickup place names the community's points, it
    offers them (and its place reads as their names)."""
    points = await uow.points.of_community(community_id)
    chosen = named(spec.pickup_place, points) if points else None
    if chosen is None:
        return replace(spec, points=())
    by_id = {p.id: p for p in points}
    return replace(spec, points=chosen, pickup_place=place_of([by_id[i] for i in chosen]))


def place_of(points: Sequence[PickupPoint]) -> str:
    """A deal's pickup place when it offers points: their names, for the texts that show one."""
    return " / ".join(p.name for p in points)[: limits.PLACE_MAX]


def point_for(deal: Deal, resident: Resident | None) -> int:
    """The point a new order of the resident is collected at, in a deal that offers points: the
    one they chose last when the deal offers it, else the deal's first (they may choose another
    on their order card)."""
    if resident is not None and resident.point in deal.points:
        return resident.point
    return deal.points[0]


def asks(deal: Deal, resident: Resident | None) -> bool:
    """Whether a resident's new order should ask them where they collect: the deal offers a
    choice, and none of it is the one they chose before."""
    return len(deal.points) > 1 and (resident is None or resident.point not in deal.points)


def offered(deal: Deal, points: Mapping[int, PickupPoint]) -> list[PickupPoint]:
    """The deal's points, in its order (those read)."""
    return [points[i] for i in deal.points if i in points]


async def choose_point(
    uow: UnitOfWork, deal: Deal, order: Order, point_id: int, community_id: int
) -> bool:
    """The buyer collects their order at `point_id` from now on, and it is their default in
    the community. False: it was that already."""
    if point_id not in deal.points:
        raise DomainError("point_not_offered")
    if deal.status not in (DealStatus.OPEN, DealStatus.CLOSED) or not order.active:
        raise DomainError("deal_not_open")
    if order.picked_up_at is not None:
        raise DomainError("point_after_pickup", code=order.code)
    await uow.users.remember_point(community_id, order.user_id, point_id)
    if order.point == point_id:
        return False
    await uow.orders.set_point(order.id, point_id)
    return True
