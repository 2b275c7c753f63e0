"""The money ledger: payments, refunds and invoices. Charges are recorded once by their id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, bindparam, func, select, update

from groupbuy.live import Touched
from groupbuy.model import (
    Invoice,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from storage import convert
from storage.db import Db
from storage.tables import InvoiceRow, PaymentRow, RefundRow, table_of
from storage.upsert import insert_for

# asked on every press (see storage/deals.py for why it is built once)
_payments = table_of(PaymentRow)
_TOUCHED = select(_payments.c.id).where(_payments.c.order_id == bindparam("order")).limit(1)


class SqlPayments:
    def __init__(self, session: Db, touched: Touched | None = None) -> None:
        self._s = session
        self._touched = touched if touched is not None else Touched()  # see SqlOrders

    async def add(
        self,
        *,
        order_id: int,
        deal_id: int,
        user_id: int,
        method: PaymentMethod,
        status: PaymentStatus,
        amount: int,
        currency: str,
        now: datetime,
        charge_id: str | None = None,
        provider_charge_id: str | None = None,
        photo_file_id: str | None = None,
    ) -> Payment | None:
        stmt = (
            insert_for(self._s, PaymentRow)
            .values(
                order_id=order_id,
                deal_id=deal_id,
                user_id=user_id,
                method=method.value,
                status=status.value,
                amount=amount,
                currency=currency,
                charge_id=charge_id,
                provider_charge_id=provider_charge_id,
                photo_file_id=photo_file_id,
                created_at=now,
            )
            .on_conflict_do_nothing()  # the same charge id twice: a duplicate update
            .returning(PaymentRow.id)
        )
        new_id = (await self._s.execute(stmt)).scalar_one_or_none()
        if new_id is None:
            return None
        self._touched.orders.add(order_id)
        return await self.get(new_id)

    async def get(self, payment_id: int) -> Payment | None:
        row = await self._s.get(PaymentRow, payment_id, populate_existing=True)
        return convert.payment(row) if row else None

    async def by_charge(self, charge_id: str) -> Payment | None:
        row = (
            await self._s.execute(select(PaymentRow).where(PaymentRow.charge_id == charge_id))
        ).scalar_one_or_none()
        return convert.payment(row) if row else None

    async def for_order(self, order_id: int) -> list[Payment]:
        rows = await self._s.scalars(
            select(PaymentRow)
            .where(PaymentRow.order_id == order_id)
            .order_by(PaymentRow.id)
            .execution_options(populate_existing=True)
        )
        return [convert.payment(r) for r in rows]

    async def for_deal(self, deal_id: int) -> list[Payment]:
        rows = await self._s.scalars(
            select(PaymentRow)
            .where(PaymentRow.deal_id == deal_id)
            .order_by(PaymentRow.id)
            .execution_options(populate_existing=True)
        )
        return [convert.payment(r) for r in rows]

    async def decide(self, payment_id: int, status: PaymentStatus, now: datetime) -> bool:
        result = await self._s.execute(
            update(PaymentRow)
            .where(PaymentRow.id == payment_id, PaymentRow.status == PaymentStatus.CLAIMED.value)
            .values(status=status.value, decided_at=now)
            .returning(PaymentRow.order_id)
        )
        order_id = result.scalar_one_or_none()
        if order_id is not None:
            self._touched.orders.add(order_id)
        return order_id is not None

    async def attach_photo(self, payment_id: int, photo_file_id: str) -> None:
        await self._s.execute(
            update(PaymentRow)
            .where(PaymentRow.id == payment_id)
            .values(photo_file_id=photo_file_id)
        )

    async def add_refund(
        self,
        *,
        order_id: int,
        deal_id: int,
        user_id: int,
        payment_id: int | None,
        amount: int,
        currency: str,
        method: PaymentMethod,
        reason: RefundReason,
        now: datetime,
    ) -> Refund:
        row = RefundRow(
            order_id=order_id,
            deal_id=deal_id,
            user_id=user_id,
            payment_id=payment_id,
            amount=amount,
            currency=currency,
            method=method.value,
            status=RefundStatus.OWED.value,
            reason=reason.value,
            created_at=now,
        )
        self._s.add(row)
        await self._s.flush()
        self._touched.orders.add(order_id)
        return convert.refund(row)

    async def refund(self, refund_id: int) -> Refund | None:
        row = await self._s.get(RefundRow, refund_id, populate_existing=True)
        return convert.refund(row) if row else None

    async def refunds_for_order(self, order_id: int) -> list[Refund]:
        rows = await self._s.scalars(
            select(RefundRow)
            .where(RefundRow.order_id == order_id)
            .order_by(RefundRow.id)
            .execution_options(populate_existing=True)
        )
        return [convert.refund(r) for r in rows]

    async def refunds_for_deal(self, deal_id: int) -> list[Refund]:
        rows = await self._s.scalars(
            select(RefundRow)
            .where(RefundRow.deal_id == deal_id)
            .order_by(RefundRow.id)
            .execution_options(populate_existing=True)
        )
        return [convert.refund(r) for r in rows]

    async def refund_done(self, refund_id: int, now: datetime) -> bool:
        result = await self._s.execute(
            update(RefundRow)
            .where(RefundRow.id == refund_id, RefundRow.status == RefundStatus.OWED.value)
            .values(status=RefundStatus.DONE.value, done_at=now)
            .returning(RefundRow.order_id)
        )
        order_id = result.scalar_one_or_none()
        if order_id is not None:
            self._touched.orders.add(order_id)
        return order_id is not None

    async def owed_star_refunds(self, limit: int) -> list[Refund]:
        rows = await self._s.scalars(
            select(RefundRow)
            .where(
                RefundRow.status == RefundStatus.OWED.value,
                RefundRow.method == PaymentMethod.STARS.value,
            )
            .order_by(RefundRow.id)
            .limit(limit)
        )
        return [convert.refund(r) for r in rows]

    async def held(self, order_id: int) -> int:
        return (await self.held_by_order_ids([order_id])).get(order_id, 0)

    async def touched(self, order_id: int) -> bool:
        return await self._s.scalar(_TOUCHED, {"order": order_id}) is not None

    async def held_by_order(self, deal_id: int) -> dict[int, int]:
        received = await self._s.execute(
            select(PaymentRow.order_id, func.sum(PaymentRow.amount))
            .where(PaymentRow.deal_id == deal_id, PaymentRow.status == PaymentStatus.RECEIVED.value)
            .group_by(PaymentRow.order_id)
        )
        refunded = await self._s.execute(
            select(RefundRow.order_id, func.sum(RefundRow.amount))
            .where(RefundRow.deal_id == deal_id)
            .group_by(RefundRow.order_id)
        )
        return _net(received.all(), refunded.all())

    async def held_by_order_ids(self, order_ids: list[int]) -> dict[int, int]:
        received = await self._s.execute(
            select(PaymentRow.order_id, func.sum(PaymentRow.amount))
            .where(
                PaymentRow.order_id.in_(order_ids),
                PaymentRow.status == PaymentStatus.RECEIVED.value,
            )
            .group_by(PaymentRow.order_id)
        )
        refunded = await self._s.execute(
            select(RefundRow.order_id, func.sum(RefundRow.amount))
            .where(RefundRow.order_id.in_(order_ids))
            .group_by(RefundRow.order_id)
        )
        return _net(received.all(), refunded.all())

    async def add_invoice(
        self,
        token: str,
        order_id: int,
        deal_id: int,
        user_id: int,
        amount: int,
        currency: str,
        now: datetime,
    ) -> Invoice:
        row = InvoiceRow(
            token=token,
            order_id=order_id,
            deal_id=deal_id,
            user_id=user_id,
            amount=amount,
            currency=currency,
            open=True,
            created_at=now,
        )
        self._s.add(row)
        await self._s.flush()
        return convert.invoice(row)

    async def invoice(self, token: str) -> Invoice | None:
        if len(token) > 64:
            return None
        row = await self._s.get(InvoiceRow, token, populate_existing=True)
        return convert.invoice(row) if row else None

    async def void_invoices(self, order_id: int) -> list[Invoice]:
        rows = list(
            await self._s.scalars(
                select(InvoiceRow).where(InvoiceRow.order_id == order_id, InvoiceRow.open.is_(True))
            )
        )
        if rows:
            await self._s.execute(
                update(InvoiceRow)
                .where(InvoiceRow.order_id == order_id, InvoiceRow.open.is_(True))
                .values(open=False)
            )
        return [convert.invoice(r) for r in rows]

    async def pay_invoice(self, token: str) -> bool:
        result = await self._s.execute(
            update(InvoiceRow)
            .where(InvoiceRow.token == token, InvoiceRow.open.is_(True))
            # message_id goes too: a paid invoice stays in the chat as Telegram's receipt
            .values(open=False, message_id=None)
        )
        return int(getattr(result, "rowcount", 0)) == 1

    async def set_invoice_message(self, token: str, message_id: int) -> None:
        await self._s.execute(
            update(InvoiceRow).where(InvoiceRow.token == token).values(message_id=message_id)
        )

    async def invoice_messages(self, order_id: int) -> list[tuple[str, int]]:
        """(token, message id) of the order's closed invoices still shown in the chat."""
        rows = await self._s.execute(
            select(InvoiceRow.token, InvoiceRow.message_id).where(
                InvoiceRow.order_id == order_id,
                InvoiceRow.open.is_(False),
                InvoiceRow.message_id.is_not(None),
            )
        )
        return [(r.token, int(r.message_id)) for r in rows]

    async def forget_invoice_message(self, token: str) -> None:
        await self._s.execute(
            update(InvoiceRow).where(InvoiceRow.token == token).values(message_id=None)
        )


def _net(received: Sequence[Row[int, int]], refunded: Sequence[Row[int, int]]) -> dict[int, int]:
    held: dict[int, int] = {}
    for order_id, amount in received:
        held[int(order_id)] = held.get(int(order_id), 0) + int(amount)
    for order_id, amount in refunded:
        held[int(order_id)] = held.get(int(order_id), 0) - int(amount)
    return held
