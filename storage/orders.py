"""Residents' orders and their lines. Quantities move only through conditional UPDATEs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Executable, bindparam, delete, exists, func, literal, select, update

from groupbuy.codes import new_code
from groupbuy.live import Touched
from groupbuy.model import Deal, DealStatus, NoShow, NoShowOutcome, Order
from groupbuy.orders import raise_and_reserve, take_in_steps
from groupbuy.ports import Taken
from storage import convert, sheets
from storage.db import Db
from storage.deals import SqlDeals
from storage.sheets import SqlPickupSheet
from storage.tables import (
    DealRow,
    HeldBackRow,
    ItemRow,
    NoShowRow,
    OrderLineRow,
    OrderRow,
    ReorderWatchRow,
    table_of,
)
from storage.upsert import dialect_insert, insert_for

_CODE_ATTEMPTS = 8

# The statements of a button press, built once (see storage/deals.py): an order with its lines in
# one read, and the writes as plain-table statements.
_orders = table_of(OrderRow)
_lines = table_of(OrderLineRow)
_WITH_LINES = select(
    _orders.c.id,
    _orders.c.deal_id,
    _orders.c.user_id,
    _orders.c.code,
    _orders.c.picked_up_at,
    _orders.c.picked_up_by,
    _orders.c.pay_by,
    _orders.c.point_id,
    _orders.c.slot_id,
    _orders.c.delivery,
    _lines.c.item_id,
    _lines.c.quantity,
    _lines.c.paid_quantity,
).outerjoin(_lines, _lines.c.order_id == _orders.c.id)
_BY_ID = _WITH_LINES.where(_orders.c.id == bindparam("order"))
_OF_USER = _WITH_LINES.where(
    _orders.c.deal_id == bindparam("deal"), _orders.c.user_id == bindparam("user")
)
_LOWER = (
    update(_lines)
    .where(
        _lines.c.order_id == bindparam("order"),
        _lines.c.item_id == bindparam("item"),
        _lines.c.quantity + bindparam("delta") >= 0,
    )
    .values(quantity=_lines.c.quantity + bindparam("delta"))
    .returning(_lines.c.quantity)
)
_PRESS_WRITES: dict[str, dict[str, Executable]] = {}


def _press_writes(dialect: str) -> dict[str, Executable]:
    """The dialect's INSERT … ON CONFLICT statements of a press, built on first use."""
    built = _PRESS_WRITES.get(dialect)
    if built is not None:
        return built
    insert = dialect_insert(dialect)
    # no conflict target: covers both (deal, user) and (community, code) uniqueness
    new_order = (
        insert(_orders)
        .values(
            deal_id=bindparam("deal"),
            community_id=bindparam("community"),
            user_id=bindparam("user"),
            code=bindparam("code"),
            created_at=bindparam("now"),
        )
        .on_conflict_do_nothing()
        .returning(_orders.c.id)
    )
    # a new line, or the existing one raised (while within the limit, when there is one)
    line = insert(_lines).values(
        order_id=bindparam("order"),
        item_id=bindparam("item"),
        quantity=bindparam("delta"),
        paid_quantity=0,
    )
    raised = {"quantity": _lines.c.quantity + bindparam("delta")}
    built = {
        "new_order": new_order,
        "raise": line.on_conflict_do_update(
            index_elements=["order_id", "item_id"], set_=raised
        ).returning(_lines.c.quantity),
        "raise_within": line.on_conflict_do_update(
            index_elements=["order_id", "item_id"],
            set_=raised,
            where=_lines.c.quantity + bindparam("delta") <= bindparam("limit"),
        ).returning(_lines.c.quantity),
    }
    _PRESS_WRITES[dialect] = built
    return built


def _order_of(rows: Any) -> Order | None:
    """An order from the rows of _WITH_LINES (one per line, or one with no line)."""
    rows = list(rows)
    if not rows:
        return None
    lines = [(r.item_id, r.quantity, r.paid_quantity) for r in rows if r.item_id is not None]
    return convert.order(rows[0], lines)


# Deals whose orders may hold unpaid units for a payment window: open ones, and closed ones
# whose Stars shortfall re-invoiced what did arrive (groupbuy.payments._keep_paid_units).
_HOLDING = (DealStatus.OPEN.value, DealStatus.CLOSED.value)


def _take_new() -> Executable:
    """PostgreSQL: `Orders.take` for a resident's first units in a deal, in one statement. Each
    write reads the one before it, so they run in take_in_steps' order (and lock in the order a
    close does: the deal first); a refusal shows as a NULL, and the caller rolls back."""
    deals, items = table_of(DealRow), table_of(ItemRow)
    # Parameter names that are no column's: an UPDATE would SET a column named like one.
    typed = {
        c: bindparam(f"new_{c}", type_=_orders.c[c].type)
        for c in ("community_id", "user_id", "code", "created_at")
    }
    locked = (
        update(deals)
        .where(deals.c.id == bindparam("deal"), deals.c.status == DealStatus.OPEN.value)
        .values(post_version=deals.c.post_version + 1)
        .returning(deals.c.id)
        .cte("locked")
    )
    made = (
        dialect_insert("postgresql")(_orders)
        .from_select(
            ["deal_id", "community_id", "user_id", "code", "created_at"],
            select(
                locked.c.id,
                typed["community_id"],
                typed["user_id"],
                typed["code"],
                typed["created_at"],
            ),
            # Python-side defaults of a statement nested in WITH are not filled in at
            # execution: the server's defaults are the table's (pay_reminded, versions).
            include_defaults=False,
        )
        .on_conflict_do_nothing()  # theirs already, or the code clashed
        .returning(_orders.c.id)
        .cte("made")
    )
    quantity = bindparam("quantity", type_=_lines.c.quantity.type)
    line = (
        dialect_insert("postgresql")(_lines)
        .from_select(
            ["order_id", "item_id", "quantity", "paid_quantity"],
            select(
                made.c.id,
                bindparam("item", type_=_lines.c.item_id.type),
                quantity,
                literal(0),
            ),
            include_defaults=False,
        )
        .returning(_lines.c.quantity)
        .cte("line")
    )
    taken = (
        update(items)
        .where(
            items.c.id == bindparam("item"),
            items.c.deal_id == bindparam("deal"),
            items.c.sold + quantity <= items.c.stock,
            exists(select(line.c.quantity)),
        )
        .values(sold=items.c.sold + quantity)
        .returning((items.c.stock - items.c.sold).label("left"))
        .cte("taken")
    )
    return select(
        select(func.count()).select_from(locked).scalar_subquery().label("open"),
        select(made.c.id).scalar_subquery().label("made"),
        select(taken.c.left).scalar_subquery().label("left"),
    )


_TAKE_NEW = _take_new()


class SqlOrders:
    def __init__(self, session: Db, touched: Touched | None = None) -> None:
        self._s = session
        # The orders whose lines, money or pickup this unit of work changed: the messages that
        # show them are marked stale at commit (groupbuy.live).
        self._touched = touched if touched is not None else Touched()

    async def _lines(self, order_ids: list[int]) -> dict[int, list[tuple[int, int, int]]]:
        lines: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for i in range(0, len(order_ids), 900):
            rows = await self._s.execute(
                select(
                    OrderLineRow.order_id,
                    OrderLineRow.item_id,
                    OrderLineRow.quantity,
                    OrderLineRow.paid_quantity,
                ).where(OrderLineRow.order_id.in_(order_ids[i : i + 900]))
            )
            for order_id, item_id, quantity, paid in rows:
                lines[order_id].append((item_id, quantity, paid))
        return lines

    async def _one(self, row: OrderRow | None) -> Order | None:
        if row is None:
            return None
        lines = await self._lines([row.id])
        return convert.order(row, lines[row.id])

    async def get(self, order_id: int) -> Order | None:
        return _order_of(await self._s.execute(_BY_ID, {"order": order_id}))

    async def of_user(self, deal_id: int, user_id: int) -> Order | None:
        return _order_of(await self._s.execute(_OF_USER, {"deal": deal_id, "user": user_id}))

    async def open_order(
        self, deal_id: int, community_id: int, user_id: int, now: datetime
    ) -> Order:
        # Inserted first, read only when it was there already: most presses are a resident's
        # first in a deal, and then one statement does (an existing order costs one more).
        new_order = _press_writes(self._s.get_bind().dialect.name)["new_order"]
        for _ in range(_CODE_ATTEMPTS):
            code = new_code()
            params = {
                "deal": deal_id,
                "community": community_id,
                "user": user_id,
                "code": code,
                "now": now,
            }
            made = (await self._s.execute(new_order, params)).first()
            if made is not None:
                return Order(id=made.id, deal_id=deal_id, user_id=user_id, code=code, lines=())
            found = await self.of_user(deal_id, user_id)
            if found is not None:  # theirs already, or made meanwhile by another press
                return found
            # neither: the code clashed with another order in the community; draw again
        raise RuntimeError("could not allocate a pickup code")

    async def take(
        self,
        deal_id: int,
        community_id: int,
        user_id: int,
        item_id: int,
        quantity: int,
        limit: int | None,
        now: datetime,
    ) -> Taken:
        deals = SqlDeals(self._s, self._touched)
        if self._s.get_bind().dialect.name != "postgresql" or (
            limit is not None and quantity > limit
        ):
            return await take_in_steps(
                deals, self, deal_id, community_id, user_id, item_id, quantity, limit, now
            )
        code = new_code()
        params = {
            "deal": deal_id,
            "new_community_id": community_id,
            "new_user_id": user_id,
            "new_code": code,
            "new_created_at": now,
            "item": item_id,
            "quantity": quantity,
        }
        row = (await self._s.execute(_TAKE_NEW, params)).one()
        if not row.open:
            return Taken(None)
        if row.made is None:
            # Theirs already (or a pickup code clash): the deal is locked now, and the rest
            # goes step by step.
            order = await self.of_user(deal_id, user_id) or await self.open_order(
                deal_id, community_id, user_id, now
            )
            return await raise_and_reserve(deals, self, order, item_id, quantity, limit)
        self._touched.orders.add(row.made)
        order = Order(id=row.made, deal_id=deal_id, user_id=user_id, code=code, lines=())
        return Taken(order, quantity, None if row.left is None else int(row.left))

    async def change_line(
        self, order_id: int, item_id: int, delta: int, limit: int | None
    ) -> int | None:
        self._touched.orders.add(order_id)
        if delta > 0:
            if limit is not None and delta > limit:
                return None
            writes = _press_writes(self._s.get_bind().dialect.name)
            params = {"order": order_id, "item": item_id, "delta": delta, "limit": limit}
            statement = writes["raise"] if limit is None else writes["raise_within"]
        elif limit is not None:
            # only a negative delta with a limit reaches here (none of our callers): keep it exact
            statement = (
                update(_lines)
                .where(
                    _lines.c.order_id == order_id,
                    _lines.c.item_id == item_id,
                    _lines.c.quantity + delta >= 0,
                    _lines.c.quantity + delta <= limit,
                )
                .values(quantity=_lines.c.quantity + delta)
                .returning(_lines.c.quantity)
            )
            params = {}
        else:
            statement, params = _LOWER, {"order": order_id, "item": item_id, "delta": delta}
        row = (await self._s.execute(statement, params)).first()
        return None if row is None else int(row[0])

    async def watch(
        self, user_id: int, community_id: int, deal_id: int, names: Collection[str], now: datetime
    ) -> None:
        statement = insert_for(self._s, ReorderWatchRow).values(
            user_id=user_id,
            deal_id=deal_id,
            community_id=community_id,
            names="\n".join(names),
            created_at=now,
        )
        await self._s.execute(statement.on_conflict_do_nothing())

    async def watchers(self, community_id: int) -> list[tuple[int, int, tuple[str, ...]]]:
        rows = await self._s.execute(
            select(ReorderWatchRow.user_id, ReorderWatchRow.deal_id, ReorderWatchRow.names)
            .where(ReorderWatchRow.community_id == community_id)
            .order_by(ReorderWatchRow.created_at)
        )
        return [(user, deal, tuple(names.split("\n"))) for user, deal, names in rows]

    async def unwatch(self, user_id: int, deal_id: int) -> None:
        await self._s.execute(
            delete(ReorderWatchRow).where(
                ReorderWatchRow.user_id == user_id, ReorderWatchRow.deal_id == deal_id
            )
        )

    async def for_deal(self, deal_id: int) -> list[Order]:
        # Plain columns, two statements whatever the size: a 100k-order pickup list reads these.
        rows = (
            await self._s.execute(
                select(
                    OrderRow.id,
                    OrderRow.deal_id,
                    OrderRow.user_id,
                    OrderRow.code,
                    OrderRow.picked_up_at,
                    OrderRow.picked_up_by,
                    OrderRow.pay_by,
                    OrderRow.point_id,
                    OrderRow.slot_id,
                    OrderRow.delivery,
                )
                .where(OrderRow.deal_id == deal_id)
                .order_by(OrderRow.id)
            )
        ).all()
        found = await self._s.execute(
            select(
                OrderLineRow.order_id,
                OrderLineRow.item_id,
                OrderLineRow.quantity,
                OrderLineRow.paid_quantity,
            )
            .join(OrderRow, OrderRow.id == OrderLineRow.order_id)
            .where(OrderRow.deal_id == deal_id)
        )
        lines: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for order_id, item_id, quantity, paid in found:
            lines[order_id].append((item_id, quantity, paid))
        orders = [convert.order(r, lines[r.id]) for r in rows]
        return [o for o in orders if o.active]

    async def pickup_sheet(
        self, deal_id: int, only: Collection[int] | None = None
    ) -> SqlPickupSheet:
        return await sheets.read(self._s, deal_id, only)

    async def active_for_user(self, user_id: int, limit: int) -> list[tuple[Deal, Order]]:
        rows = list(
            await self._s.scalars(
                select(OrderRow)
                .join(DealRow, DealRow.id == OrderRow.deal_id)
                .where(
                    OrderRow.user_id == user_id,
                    DealRow.status.in_([DealStatus.OPEN.value, DealStatus.CLOSED.value]),
                    OrderRow.picked_up_at.is_(None),
                    # only orders with units, so emptied ones do not use up the limit
                    exists().where(OrderLineRow.order_id == OrderRow.id, OrderLineRow.quantity > 0),
                )
                .order_by(DealRow.deadline, OrderRow.id)
                .limit(limit)
            )
        )
        lines = await self._lines([r.id for r in rows])
        deals = SqlDeals(self._s)
        found: list[tuple[Deal, Order]] = []
        for r in rows:
            order = convert.order(r, lines[r.id])
            deal = await deals.get(r.deal_id)
            if order.active and deal is not None:
                found.append((deal, order))
        return found

    async def set_point(self, order_id: int, point_id: int) -> None:
        await self._s.execute(
            update(OrderRow).where(OrderRow.id == order_id).values(point_id=point_id)
        )
        self._touched.orders.add(order_id)

    async def set_delivery(self, order_id: int, delivery: bool) -> None:
        await self._s.execute(
            update(OrderRow).where(OrderRow.id == order_id).values(delivery=delivery)
        )
        self._touched.orders.add(order_id)

    async def set_slot(self, order_id: int, slot_id: int | None) -> None:
        await self._s.execute(
            update(OrderRow).where(OrderRow.id == order_id).values(slot_id=slot_id)
        )
        self._touched.orders.add(order_id)

    async def by_code(self, community_id: int, code: str) -> Order | None:
        row = (
            await self._s.execute(
                select(OrderRow).where(OrderRow.community_id == community_id, OrderRow.code == code)
            )
        ).scalar_one_or_none()
        return await self._one(row)

    async def mark_picked_up(self, order_id: int, now: datetime, by: int) -> bool:
        self._touched.orders.add(order_id)
        result = await self._s.execute(
            update(OrderRow)
            .where(OrderRow.id == order_id, OrderRow.picked_up_at.is_(None))
            .values(picked_up_at=now, picked_up_by=by)
        )
        return int(getattr(result, "rowcount", 0)) == 1

    async def hold_back(self, order_id: int, item_id: int, quantity: int) -> bool:
        self._touched.orders.add(order_id)
        values = {"order_id": order_id, "item_id": item_id, "quantity": quantity}
        stmt = insert_for(self._s, HeldBackRow).values(values).on_conflict_do_nothing()
        return int(getattr(await self._s.execute(stmt), "rowcount", 0)) == 1

    async def held_back(self, order_id: int) -> dict[int, int]:
        rows = await self._s.execute(
            select(HeldBackRow.item_id, HeldBackRow.quantity).where(
                HeldBackRow.order_id == order_id
            )
        )
        return {item: quantity for item, quantity in rows.all()}

    async def held_back_orders(self, deal_id: int) -> set[int]:
        rows = await self._s.execute(
            select(HeldBackRow.order_id)
            .join(OrderRow, OrderRow.id == HeldBackRow.order_id)
            .where(OrderRow.deal_id == deal_id)
            .distinct()
        )
        return set(rows.scalars())

    async def hand_rest(self, order_id: int) -> dict[int, int]:
        self._touched.orders.add(order_id)
        rows = await self._s.execute(
            delete(HeldBackRow)
            .where(HeldBackRow.order_id == order_id)
            .returning(HeldBackRow.item_id, HeldBackRow.quantity)
        )
        return {item: quantity for item, quantity in rows.all()}

    async def decide_no_show(self, decision: NoShow) -> bool:
        self._touched.orders.add(decision.order_id)
        values = {
            "order_id": decision.order_id,
            "deal_id": decision.deal_id,
            "outcome": decision.outcome.value,
            "decided_at": decision.at,
            "decided_by": decision.by,
        }
        stmt = insert_for(self._s, NoShowRow).values(values)
        # Kept for the next pickup is not the end: the buyer may still not come. Anything else
        # is (and two leaders deciding at once: PostgreSQL re-checks the WHERE after the lock).
        if decision.outcome is not NoShowOutcome.MOVED:
            stmt = stmt.on_conflict_do_update(
                index_elements=[NoShowRow.order_id],
                set_={k: v for k, v in values.items() if k != "order_id"},
                where=NoShowRow.outcome == NoShowOutcome.MOVED.value,
            )
        else:
            stmt = stmt.on_conflict_do_nothing()
        return int(getattr(await self._s.execute(stmt), "rowcount", 0)) == 1

    async def no_shows(self, deal_id: int) -> dict[int, NoShow]:
        rows = await self._s.execute(select(NoShowRow).where(NoShowRow.deal_id == deal_id))
        return {
            r.order_id: NoShow(
                r.order_id, r.deal_id, NoShowOutcome(r.outcome), r.decided_at, r.decided_by
            )
            for r in rows.scalars()
        }

    async def set_pay_by(self, order_id: int, pay_by: datetime | None) -> None:
        self._touched.orders.add(order_id)
        await self._s.execute(
            update(OrderRow)
            .where(OrderRow.id == order_id)
            .values(pay_by=pay_by, pay_reminded=False)
        )

    async def cover(self, order_id: int) -> None:
        self._touched.orders.add(order_id)
        await self._s.execute(
            update(OrderLineRow)
            .where(OrderLineRow.order_id == order_id)
            .values(paid_quantity=OrderLineRow.quantity)
        )

    async def uncover(self, order_id: int) -> None:
        self._touched.orders.add(order_id)
        await self._s.execute(
            update(OrderLineRow).where(OrderLineRow.order_id == order_id).values(paid_quantity=0)
        )

    async def cap_paid(self, order_id: int) -> None:
        self._touched.orders.add(order_id)
        await self._s.execute(
            update(OrderLineRow)
            .where(
                OrderLineRow.order_id == order_id,
                OrderLineRow.paid_quantity > OrderLineRow.quantity,
            )
            .values(paid_quantity=OrderLineRow.quantity)
        )

    async def revert_to_paid(self, order_id: int) -> list[tuple[int, int]]:
        self._touched.orders.add(order_id)
        rows = (
            await self._s.execute(
                select(
                    OrderLineRow.item_id, OrderLineRow.quantity, OrderLineRow.paid_quantity
                ).where(
                    OrderLineRow.order_id == order_id,
                    OrderLineRow.quantity > OrderLineRow.paid_quantity,
                )
            )
        ).all()
        dropped: list[tuple[int, int]] = []
        for item_id, quantity, paid in rows:
            result = await self._s.execute(
                update(OrderLineRow)
                .where(
                    OrderLineRow.order_id == order_id,
                    OrderLineRow.item_id == item_id,
                    OrderLineRow.quantity == quantity,  # unchanged since read, or skip it
                )
                .values(quantity=paid)
            )
            if int(getattr(result, "rowcount", 0)) == 1:
                dropped.append((item_id, quantity - paid))
        return dropped

    async def lapsing(self, now: datetime, limit: int) -> list[int]:
        rows = await self._s.scalars(
            select(OrderRow.id)
            .join(DealRow, DealRow.id == OrderRow.deal_id)
            .where(OrderRow.pay_by <= now, DealRow.status.in_(_HOLDING))
            .order_by(OrderRow.pay_by, OrderRow.id)
            .limit(limit)
        )
        return list(rows)

    async def pay_reminders_due(self, now: datetime, lead: timedelta, limit: int) -> list[int]:
        rows = await self._s.scalars(
            select(OrderRow.id)
            .join(DealRow, DealRow.id == OrderRow.deal_id)
            .where(
                OrderRow.pay_by <= now + lead,
                OrderRow.pay_by > now,
                OrderRow.pay_reminded.is_(False),
                DealRow.status.in_(_HOLDING),
            )
            .order_by(OrderRow.pay_by, OrderRow.id)
            .limit(limit)
        )
        return list(rows)

    async def claim_pay_reminder(self, order_id: int) -> bool:
        result = await self._s.execute(
            update(OrderRow)
            .where(OrderRow.id == order_id, OrderRow.pay_reminded.is_(False))
            .values(pay_reminded=True)
        )
        return int(getattr(result, "rowcount", 0)) == 1

    async def want_invoice(self, order_id: int) -> None:
        await self._s.execute(
            update(OrderRow)
            .where(OrderRow.id == order_id)
            .values(invoice_version=OrderRow.invoice_version + 1)
        )

    async def invoices_wanted(self, limit: int) -> list[tuple[int, int]]:
        rows = await self._s.execute(
            select(OrderRow.id, OrderRow.invoice_version)
            .where(OrderRow.invoice_version > OrderRow.invoice_issued_version)
            .order_by(OrderRow.id)
            .limit(limit)
        )
        return [(r.id, r.invoice_version) for r in rows]

    async def invoice_issued(self, order_id: int, version: int) -> None:
        await self._s.execute(
            update(OrderRow)
            .where(OrderRow.id == order_id, OrderRow.invoice_issued_version < version)
            .values(invoice_issued_version=version)
        )
