"""The messages kept current (groupbuy.live): recorded when sent, marked stale in the
transaction that changes what they show, refreshed by the background loop."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import BindParameter, ColumnElement, bindparam, delete, or_, select, tuple_, update

from groupbuy.live import Live, LiveKind, Shown, StaleMessage, Touched
from storage.db import Db
from storage.tables import LiveMessageRow, OrderRow, table_of
from storage.upsert import insert_for

_live = table_of(LiveMessageRow)
_SHOWN = (
    update(_live)
    .where(_live.c.id == bindparam("row"), _live.c.shown_version < bindparam("seen"))
    .values(shown_version=bindparam("seen"), shown_hash=bindparam("hash"))
)

# The messages that show these orders: each buyer's order card, the checklist lines of these
# orders, and the payments views of their deals.
_touched_orders: BindParameter[list[int]] = bindparam("orders", expanding=True)
_orders = table_of(OrderRow)
SHOWING_ORDERS = or_(
    (_live.c.kind == LiveKind.CARD.value)
    & tuple_(_live.c.deal_id, _live.c.subject_id).in_(
        select(_orders.c.deal_id, _orders.c.user_id).where(_orders.c.id.in_(_touched_orders))
    ),
    (_live.c.kind == LiveKind.CHECKLIST.value) & _live.c.subject_id.in_(_touched_orders),
    (_live.c.kind == LiveKind.PAYMENTS.value)
    & _live.c.deal_id.in_(select(_orders.c.deal_id).where(_orders.c.id.in_(_touched_orders))),
)
# Every message of these deals.
SHOWING_DEALS = _live.c.deal_id.in_(bindparam("deals", expanding=True))
_SHOWING_EITHER = or_(SHOWING_ORDERS, SHOWING_DEALS)
_BUMP_ORDERS = update(_live).where(SHOWING_ORDERS).values(version=_live.c.version + 1)
_BUMP_DEALS = update(_live).where(SHOWING_DEALS).values(version=_live.c.version + 1)


def showing(touched: Touched) -> tuple[ColumnElement[bool], dict[str, list[int]]]:
    """The live messages that show what `touched` changed, with the parameters to find them."""
    if touched.orders and touched.deals:
        both = {"orders": sorted(touched.orders), "deals": sorted(touched.deals)}
        return _SHOWING_EITHER, both
    if touched.orders:
        return SHOWING_ORDERS, {"orders": sorted(touched.orders)}
    return SHOWING_DEALS, {"deals": sorted(touched.deals)}


class SqlLiveMessages:
    def __init__(self, session: Db) -> None:
        self._s = session

    async def record(
        self, live: Live, chat_id: int, message_id: int, shown_hash: str, now: datetime
    ) -> list[int]:
        L = LiveMessageRow
        replaced: list[int] = []
        if live.kind is LiveKind.CARD:
            older = (
                L.kind == live.kind.value,
                L.deal_id == live.deal_id,
                L.subject_id.in_(live.subjects),
                L.chat_id == chat_id,
                L.message_id != message_id,
            )
            replaced = list(await self._s.scalars(select(L.message_id).where(*older)))
            if replaced:
                await self._s.execute(delete(L).where(*older))
        insert = insert_for(self._s, L)
        rows = [
            {
                "kind": live.kind.value,
                "deal_id": live.deal_id,
                "chat_id": chat_id,
                "message_id": message_id,
                "subject_id": subject,
                # Stale from the start: the refresher reads it once more, so a change committed
                # while the message was on its way is shown (equal text: no call to Telegram).
                "version": 1,
                "shown_version": 0,
                "shown_hash": shown_hash,
                "created_at": now,
            }
            for subject in live.subjects
        ]
        await self._s.execute(
            insert.on_conflict_do_update(
                index_elements=["chat_id", "message_id", "subject_id"],
                set_={"version": L.version + 1, "shown_hash": insert.excluded.shown_hash},
            ),
            rows,
        )
        return replaced

    async def stale(self, limit: int) -> list[StaleMessage]:
        L = LiveMessageRow
        messages = (
            await self._s.execute(
                select(L.chat_id, L.message_id)
                .where(L.version > L.shown_version)
                .group_by(L.chat_id, L.message_id)
                .order_by(L.chat_id, L.message_id)
                .limit(limit)
            )
        ).all()
        if not messages:
            return []
        # Every subject of those messages, not only the changed ones: a checklist message is
        # rendered whole.
        rows = await self._s.execute(
            select(
                L.id,
                L.kind,
                L.deal_id,
                L.chat_id,
                L.message_id,
                L.subject_id,
                L.version,
                L.shown_hash,
            )
            .where(tuple_(L.chat_id, L.message_id).in_([tuple(m) for m in messages]))
            .order_by(L.id)
        )
        grouped: dict[tuple[int, int], list[object]] = defaultdict(list)
        for row in rows:
            grouped[(row.chat_id, row.message_id)].append(row)
        stale = []
        for (chat_id, message_id), of_message in grouped.items():
            first = of_message[0]
            stale.append(
                StaleMessage(
                    kind=LiveKind(first.kind),  # type: ignore[attr-defined]
                    deal_id=first.deal_id,  # type: ignore[attr-defined]
                    chat_id=chat_id,
                    message_id=message_id,
                    shown_hash=first.shown_hash,  # type: ignore[attr-defined]
                    rows=tuple(
                        Shown(r.id, r.subject_id, r.version)  # type: ignore[attr-defined]
                        for r in of_message
                    ),
                )
            )
        return stale

    async def shown(self, rows: Sequence[Shown], shown_hash: str) -> None:
        if rows:
            await self._s.execute(
                _SHOWN, [{"row": r.row_id, "seen": r.version, "hash": shown_hash} for r in rows]
            )

    async def forget(self, chat_id: int, message_id: int) -> None:
        L = LiveMessageRow
        await self._s.execute(delete(L).where(L.chat_id == chat_id, L.message_id == message_id))

    async def bump(self, touched: Touched) -> None:
        """What `touched` changed is shown by these messages: each becomes stale. Run at commit,
        by statements built once (a press's commit runs them: built afresh each time, the one
        statement it was cost more than the rest of the press); they change nothing when no
        message shows what changed."""
        if touched.orders:
            await self._s.execute(_BUMP_ORDERS, {"orders": sorted(touched.orders)})
        if touched.deals:
            await self._s.execute(_BUMP_DEALS, {"deals": sorted(touched.deals)})
