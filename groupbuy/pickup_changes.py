"""The leader moves a closed deal's pickup (place, time or both): every buyer still to pick up
is told once, with what it was and what it is now.

A new time is read like a deadline ("Sat 18:00-19:00", "明天 18:00-19:00", "12-08 18:00"): the
window as typed is what people see, and its start must be a moment still to come, so a slip
cannot send a hundred neighbours to a pickup that is already over.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from groupbuy import parsing
from groupbuy.arrival import waiting
from groupbuy.errors import DomainError, InputError
from groupbuy.model import Deal, DealStatus, PickupChange
from groupbuy.notices import Notice, NoticeKind
from groupbuy.ports import UnitOfWork

# "Sat 18:00-19:00", "18:00 – 19:00", "明天 18:00至19:00": the start, before a range's end time.
_RANGE = re.compile(
    r"^(?P<start>.*?[0-9]{1,2}[:：.][0-9]{2})\s*[-–—~～至到]\s*[0-9]{1,2}[:：.][0-9]{2}\s*$"
)


def window_start(window: str, now: datetime, tz: ZoneInfo) -> datetime:
    """When a pickup window typed by the leader begins; refused when past or not a time."""
    match = _RANGE.match(window.strip())
    start = match["start"] if match else window
    try:
        return parsing.deadline(start.replace("：", ":"), now, tz)
    except InputError as error:
        if error.key == "deadline_past":
            raise DomainError("pickup_in_past") from error
        raise DomainError("pickup_time_invalid") from error


async def change_pickup(
    uow: UnitOfWork,
    deal: Deal,
    now: datetime,
    by: int,
    tz: ZoneInfo,
    *,
    place: str | None = None,
    window: str | None = None,
) -> tuple[PickupChange, int]:
    """The change and how many buyers are told of it. The caller checked `by` leads the deal's
    group, and commits."""
    if deal.status is not DealStatus.CLOSED:
        raise DomainError("deal_not_closed")
    if window is not None:
        window_start(window, now, tz)
    new_place = deal.pickup_place if place is None else place
    new_window = deal.pickup_window if window is None else window
    if (new_place, new_window) == (deal.pickup_place, deal.pickup_window):
        raise DomainError("pickup_unchanged")
    change = await uow.deals.change_pickup(deal.id, new_place, new_window, now, by)
    # A new place alone is nothing to the buyers the leader delivers to; a new time may be.
    buyers = await waiting(uow, deal, collected=window is None)
    notices = [Notice(NoticeKind.PICKUP_MOVED, deal.community_id, deal.id, ref=change.id)]
    notices += [Notice(NoticeKind.PICKUP_CHANGED, u, deal.id, u, change.id) for u in buyers]
    await uow.outbox.add(notices, now)
    return change, len(buyers)
