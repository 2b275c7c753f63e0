"""A deal's pickup list read in one statement (groupbuy.ports.PickupSheet).

Before, the list was read in seven statements (orders, their lines, residents, buyers, the
leaders who handed out, money received, refunds, claims) and turned into domain values on the
event loop. Now one statement brings every order line with its order, address, names and money,
in building/unit/room order, and the rows stay as the driver gave them: `entries()` makes the
domain values where the list is drawn, off the event loop (handlers/pickup_list.py).
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterator, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, func, select

from groupbuy.model import Order, OrderLine, PaymentStatus, Resident, User
from groupbuy.ports import SheetEntry
from storage.db import Db
from storage.tables import (
    HeldBackRow,
    OrderLineRow,
    OrderRow,
    PaymentRow,
    RefundRow,
    ResidentRow,
    UserRow,
    table_of,
)

_orders = table_of(OrderRow)
_lines = table_of(OrderLineRow)
_residents = table_of(ResidentRow)
_payments = table_of(PaymentRow)
_refunds = table_of(RefundRow)
_buyer = table_of(UserRow).alias("buyer")
_by = table_of(UserRow).alias("handed_out_by")
_held_back = table_of(HeldBackRow)


def _paid(status: PaymentStatus) -> Any:
    """Per order of the deal: the sum of its payments in `status`."""
    return (
        select(_payments.c.order_id, func.sum(_payments.c.amount).label("amount"))
        .where(_payments.c.deal_id == bindparam("deal"), _payments.c.status == status.value)
        .group_by(_payments.c.order_id)
        .subquery()
    )


_received = _paid(PaymentStatus.RECEIVED)
_claimed = _paid(PaymentStatus.CLAIMED)
_refunded = (
    select(_refunds.c.order_id, func.sum(_refunds.c.amount).label("amount"))
    .where(_refunds.c.deal_id == bindparam("deal"))
    .group_by(_refunds.c.order_id)
    .subquery()
)

# Column positions in a row, for entries() (plain tuples are read by index: 100k orders).
_SHEET = (
    select(
        _orders.c.id,  # 0
        _orders.c.deal_id,
        _orders.c.user_id,
        _orders.c.code,
        _orders.c.picked_up_at,
        _orders.c.pay_by,  # 5
        _orders.c.picked_up_by,
        _lines.c.item_id,
        _lines.c.quantity,
        _lines.c.paid_quantity,
        _residents.c.community_id,  # 10
        _residents.c.building,
        _residents.c.unit,
        _residents.c.room,
        _residents.c.phone,
        _buyer.c.first_name,  # 15
        _buyer.c.last_name,
        _by.c.first_name,
        _by.c.last_name,
        func.coalesce(_received.c.amount, 0),
        func.coalesce(_refunded.c.amount, 0),  # 20
        func.coalesce(_claimed.c.amount, 0),
        func.coalesce(_held_back.c.quantity, 0),
        _orders.c.point_id,
        _residents.c.point_id,  # 24
        _orders.c.slot_id,
        _orders.c.delivery,  # 26
    )
    .join(_lines, _lines.c.order_id == _orders.c.id)
    .outerjoin(
        _residents,
        and_(
            _residents.c.community_id == _orders.c.community_id,
            _residents.c.user_id == _orders.c.user_id,
        ),
    )
    .outerjoin(_buyer, _buyer.c.id == _orders.c.user_id)
    .outerjoin(_by, _by.c.id == _orders.c.picked_up_by)
    .outerjoin(_received, _received.c.order_id == _orders.c.id)
    .outerjoin(_refunded, _refunded.c.order_id == _orders.c.id)
    .outerjoin(_claimed, _claimed.c.order_id == _orders.c.id)
    .outerjoin(
        _held_back,
        and_(_held_back.c.order_id == _orders.c.id, _held_back.c.item_id == _lines.c.item_id),
    )
    .where(_orders.c.deal_id == bindparam("deal"), _lines.c.quantity > 0)
    # An order's lines come together; the natural order of addresses ("3" < "3A" < "10") is
    # the drawing's (messages.pickup_list.sorting): SQL sorts text as text.
    .order_by(
        _residents.c.building,
        _residents.c.unit,
        _residents.c.room,
        _orders.c.id,
        _lines.c.item_id,
    )
)
_SHEET_OF = _SHEET.where(_orders.c.id.in_(bindparam("only", expanding=True)))


async def read(db: Db, deal_id: int, only: Collection[int] | None) -> SqlPickupSheet:
    if only is None:
        result = await db.execute(_SHEET, {"deal": deal_id})
    elif not only:
        return SqlPickupSheet(())
    else:
        result = await db.execute(_SHEET_OF, {"deal": deal_id, "only": sorted(only)})
    return SqlPickupSheet(tuple(result.all()))


class SqlPickupSheet:
    def __init__(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self._rows = rows

    def fingerprint(self) -> Hashable:
        return hash(self._rows), len(self._rows)

    def entries(self) -> Iterator[SheetEntry]:
        rows = self._rows
        start = 0
        while start < len(rows):
            first = rows[start]
            end = start + 1
            while end < len(rows) and rows[end][0] == first[0]:
                end += 1
            yield _entry(rows[start:end])
            start = end


def _entry(rows: Sequence[tuple[Any, ...]]) -> SheetEntry:
    r = rows[0]
    order = Order(
        id=r[0],
        deal_id=r[1],
        user_id=r[2],
        code=r[3],
        lines=tuple(OrderLine(x[7], x[8], x[9]) for x in rows),
        picked_up_at=r[4],
        pay_by=r[5],
        picked_up_by=r[6],
        point=r[23],
        slot=r[25],
        delivery=bool(r[26]),
    )
    resident = (
        Resident(r[10], r[2], r[11], r[12], r[13], r[14], r[24]) if r[10] is not None else None
    )
    buyer = User(r[2], r[15], r[16]) if r[15] is not None else None
    by = User(r[6], r[17], r[18]) if r[6] is not None and r[17] is not None else None
    held_back = tuple((x[7], x[22]) for x in rows if x[22])
    return SheetEntry(order, resident, buyer, by, int(r[19]) - int(r[20]), int(r[21]), held_back)
