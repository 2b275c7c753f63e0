"""Pickup slots: the deal's pickup window cut into stretches with seats (18:00–18:30, 25 each),
so that a hundred neighbours do not all come at 18:00. Each buyer books one with a button, and
may move to another while it has seats; full slots say so.

Seats are counted, not kept: booking locks the slot's row (`Slots.lock`) and counts the active
orders holding it in the same transaction, so two neighbours pressing for the last seat at once
get it once, the other a refusal naming the next slot with room; and an order that is cancelled
or emptied frees its seat without anyone giving it back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from groupbuy import limits, parsing
from groupbuy.arrival import waiting
from groupbuy.errors import DomainError, InputError
from groupbuy.model import Deal, DealStatus, Order, Slot
from groupbuy.notices import Notice, NoticeKind
from groupbuy.pickup_changes import window_start
from groupbuy.ports import UnitOfWork

# "Sat 18:00-20:00 | 30 | 25": the window, the minutes of a slot, the seats of each.
_SPEC = re.compile(r"^(?P<window>.+?)\s*[|｜]\s*(?P<minutes>\S+)\s*[|｜]\s*(?P<seats>\S+)\s*$")
_END = re.compile(r"[-–—~～至到]\s*(?P<hour>[0-9]{1,2})[:：.](?P<minute>[0-9]{2})\s*$")


@dataclass(frozen=True, slots=True)
class SlotPlan:
    """A leader's slots as typed, understood: when each starts and ends, and the seats."""

    stretches: tuple[tuple[datetime, datetime], ...]
    seats: int


def parse_slots(text: str, now: datetime, tz: ZoneInfo) -> SlotPlan:
    """'Sat 18:00-20:00 | 30 | 25': four slots of 30 minutes, 25 seats each. The window must
    be still to come and end after it starts, the same day."""
    match = _SPEC.match(parsing.typed_digits(parsing.clean_text(text)).strip())
    if match is None:
        raise InputError("slots_format")
    window = match["window"]
    end = _END.search(window)
    if end is None:
        raise InputError("slots_format")
    start = window_start(window, now, tz)
    minutes = parsing.positive_int(match["minutes"], limits.SLOT_MINUTES_MAX, key="minutes")
    seats = parsing.positive_int(match["seats"], limits.SLOT_SEATS_MAX, key="seats")
    local = start.astimezone(tz)
    try:
        until = local.replace(hour=int(end["hour"]), minute=int(end["minute"]))
    except ValueError as error:
        raise InputError("slots_format") from error
    if until <= local:
        raise InputError("slots_end_before_start")
    length = timedelta(minutes=minutes)
    count = math.ceil((until - local) / length)
    if count > limits.SLOTS_MAX:
        raise InputError("slots_too_many", limit=limits.SLOTS_MAX)
    stop = until.astimezone(start.tzinfo)
    stretches = tuple(
        (start + n * length, min(start + (n + 1) * length, stop)) for n in range(count)
    )
    return SlotPlan(stretches, seats)


def slots_in_window(text: str, window: str, now: datetime, tz: ZoneInfo) -> SlotPlan:
    """The slots a leader gives while opening a deal: '30 | 25' cuts the deal's pickup window
    into 30-minute slots of 25 seats; the whole 'Sat 18:00-20:00 | 30 | 25' names its own."""
    parts = re.split(r"[|｜]", text)
    if len(parts) != 2:
        return parse_slots(text, now, tz)
    try:
        return parse_slots(f"{window} | {text}", now, tz)
    except InputError as error:
        if error.key != "slots_format":
            raise
        # The window is words ("weekend mornings"): there is nothing to cut.
        raise InputError("slots_window_unclear", window=window) from error


async def set_slots(uow: UnitOfWork, deal: Deal, plan: SlotPlan) -> list[Slot]:
    """The deal's slots from now on. Refused once a buyer holds a seat: their booking would
    silently disappear (the leader moves the pickup with /pickuptime instead)."""
    if deal.status not in (DealStatus.OPEN, DealStatus.CLOSED):
        raise DomainError("deal_not_open")
    held = sum(s.booked for s in await uow.slots.of_deal(deal.id))
    if held:
        raise DomainError("slots_booked", count=held)
    return await uow.slots.set(deal.id, plan.stretches, plan.seats)


async def open_slots(
    uow: UnitOfWork, deal: Deal, plan: SlotPlan, now: datetime
) -> tuple[list[Slot], int]:
    """`set_slots`, and after the close every buyer still to pick up is asked to book one,
    once (before it, their pickup notice carries the buttons). The slots and how many were
    asked; the caller commits."""
    slots = await set_slots(uow, deal, plan)
    if deal.status is not DealStatus.CLOSED:
        return slots, 0
    buyers = await waiting(uow, deal, collected=True)  # delivered orders need no slot
    ref = slots[0].id  # slots set again (before anyone booked) ask again
    await uow.outbox.add([Notice(NoticeKind.SLOTS_OPEN, u, deal.id, u, ref) for u in buyers], now)
    return slots, len(buyers)


def next_free(slots: Sequence[Slot], after: Slot, now: datetime) -> Slot | None:
    """The slot to offer instead of a full one: the first later one with a seat, else the
    first earlier one still to come."""
    open_ = [s for s in slots if s.id != after.id and s.left > 0 and s.ends_at > now]
    later = [s for s in open_ if s.starts_at >= after.starts_at]
    found = later or open_
    return found[0] if found else None


async def book(
    uow: UnitOfWork, deal: Deal, order: Order, slot_id: int, now: datetime, tz: str
) -> tuple[Slot, bool]:
    """The order's buyer takes a seat in the slot (leaving the one they had): the slot as it
    is now, and False when it was theirs already. `tz`: the community's, for the refusal that
    names a time. The caller commits."""
    if deal.status not in (DealStatus.OPEN, DealStatus.CLOSED) or not order.active:
        raise DomainError("deal_not_open")
    if order.picked_up_at is not None:
        raise DomainError("slot_after_pickup", code=order.code)
    if order.delivery:
        raise DomainError("slot_delivered")
    slot = await uow.slots.lock(deal.id, slot_id)
    if slot is None:
        raise DomainError("slot_unknown")
    if slot.ends_at <= now:
        raise DomainError("slot_over", at=slot.starts_at, tz=tz)
    if order.slot == slot.id:
        return slot, False
    if slot.booked >= slot.capacity:
        other = next_free(await uow.slots.of_deal(deal.id), slot, now)
        raise DomainError(
            "slot_full", at=slot.starts_at, next=other.starts_at if other else None, tz=tz
        )
    await uow.orders.set_slot(order.id, slot.id)
    return replace(slot, booked=slot.booked + 1), True


async def remind_slots(uow: UnitOfWork, now: datetime, before: timedelta, limit: int) -> int:
    """Each slot starting within `before`: its buyers still to pick up are reminded, once.
    How many slots were done; the caller commits."""
    done = 0
    for slot in await uow.slots.reminders_due(now + before, limit):
        if not await uow.slots.claim_reminder(slot.id, now):
            continue
        done += 1
        if slot.ends_at <= now:
            continue  # over already (the bot was down): a reminder now would mislead
        deal = await uow.deals.get(slot.deal_id)
        if deal is None:
            continue
        partly = await uow.orders.held_back_orders(deal.id)
        buyers = [
            o.user_id
            for o in await uow.orders.for_deal(deal.id)
            if o.slot == slot.id and o.waits(o.id in partly)
        ]
        notices = [Notice(NoticeKind.SLOT_REMINDER, u, deal.id, u, slot.id) for u in buyers]
        await uow.outbox.add(notices, now)
    return done
