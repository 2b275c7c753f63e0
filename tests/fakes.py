"""In-memory implementations of groupbuy.ports, with the semantics of the SQL storage.

A FakeStore holds committed state as tables of immutable records. A FakeUnitOfWork works on a
copy taken when it is entered and, on commit(), writes back only the records it changed (row-level
optimistic concurrency): if another unit of work committed a change to one of those records in the
meantime, commit raises FakeConflict instead of silently losing an update. Without commit() nothing
is written, as with the real unit of work.

Rules kept as in storage/: stock is reserved only if sold + q <= stock; order lines stay within
0 <= quantity <= limit; begin_change answers False unless the deal is OPEN; move is conditional on
the current status; the outbox is unique by (kind, deal_id, chat_id); foreign keys (a deal needs
its community, a resident needs the user and the community) are enforced; datetimes must be aware
and come back in UTC; dialog data must survive a JSON round trip.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from groupbuy.codes import new_code
from groupbuy.deals import open_deal
from groupbuy.model import (
    CloseReason,
    Community,
    Deal,
    DealSpec,
    DealStats,
    DealStatus,
    Item,
    ItemSpec,
    MinimumKind,
    Order,
    OrderLine,
    Resident,
    User,
)
from groupbuy.notices import Notice, NoticeKind, PendingNotice
from groupbuy.orders import OrderChange, cancel_order, change_quantity
from groupbuy.ports import (
    Communities,
    Deals,
    Dialogs,
    Orders,
    Outbox,
    UnitOfWork,
    UnitOfWorkFactory,
    Users,
)

_ABSENT: Any = object()


class FakeConflict(Exception):
    """Two units of work changed the same record; the later commit loses (like a serialization
    failure). Tests that see this are running units of work concurrently against the fakes."""


class FakeIntegrityError(Exception):
    """A foreign key or uniqueness rule of the schema was broken."""


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC)


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = _utc(now or datetime(2026, 6, 1, 4, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, now: datetime) -> None:
        self._now = _utc(now)


# ---- records -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DealRec:
    id: int
    community_id: int
    leader_id: int
    title: str
    description: str
    currency: str
    deadline: datetime
    remind_at: datetime | None
    reminder_sent: bool
    pickup_place: str
    pickup_window: str
    minimum_kind: MinimumKind
    minimum: int
    buildings: tuple[str, ...]
    photo_file_id: str | None
    status: DealStatus
    created_at: datetime
    closed_at: datetime | None
    close_reason: CloseReason | None
    post_chat_id: int | None
    post_message_id: int | None
    post_version: int
    post_synced_version: int


@dataclass(frozen=True, slots=True)
class OrderRec:
    id: int
    deal_id: int
    community_id: int
    user_id: int
    code: str
    created_at: datetime
    picked_up_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxRec:
    id: int
    kind: NoticeKind
    chat_id: int
    deal_id: int
    user_id: int | None
    created_at: datetime
    attempts: int
    due_at: datetime
    sent_at: datetime | None
    done: bool
    error: str | None

    @property
    def notice(self) -> Notice:
        return Notice(self.kind, self.chat_id, self.deal_id, self.user_id)


@dataclass(frozen=True, slots=True)
class DialogRec:
    state: str
    data_json: str
    updated_at: datetime


TABLES = (
    "communities",
    "users",
    "residents",
    "deals",
    "items",
    "orders",
    "lines",
    "outbox",
    "dialogs",
)


class FakeStore:
    """Committed state. Tables map a key to an immutable record."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Any, Any]] = {name: {} for name in TABLES}
        self._ids: dict[str, int] = {}

    def next_id(self, table: str) -> int:
        # like a sequence: not transactional, never reused
        self._ids[table] = self._ids.get(table, 0) + 1
        return self._ids[table]

    # Read helpers for assertions in tests (committed state only).
    def outbox(self) -> list[OutboxRec]:
        return sorted(self.tables["outbox"].values(), key=lambda r: r.id)

    def notices(self, deal_id: int | None = None) -> list[Notice]:
        return [r.notice for r in self.outbox() if deal_id is None or r.deal_id == deal_id]

    def deal_rec(self, deal_id: int) -> DealRec:
        rec: DealRec = self.tables["deals"][deal_id]
        return rec

    def commit(self, snapshot: dict[str, dict[Any, Any]], work: dict[str, dict[Any, Any]]) -> None:
        changes: list[tuple[str, Any, Any]] = []
        for name in TABLES:
            before, after, live = snapshot[name], work[name], self.tables[name]
            for key in before.keys() | after.keys():
                old, new = before.get(key, _ABSENT), after.get(key, _ABSENT)
                if old is new:
                    continue
                if live.get(key, _ABSENT) is not old:
                    raise FakeConflict(f"{name}[{key!r}] changed by a concurrent unit of work")
                changes.append((name, key, new))
        # the outbox is unique by (kind, deal_id, chat_id) also against concurrent commits
        taken = {(r.kind, r.deal_id, r.chat_id) for r in self.tables["outbox"].values()}
        for name, key, new in changes:
            if (
                name == "outbox"
                and new is not _ABSENT
                and key not in self.tables["outbox"]
                and (new.kind, new.deal_id, new.chat_id) in taken
            ):
                continue  # ON CONFLICT DO NOTHING
            if new is _ABSENT:
                self.tables[name].pop(key, None)
            else:
                self.tables[name][key] = new


# ---- repositories --------------------------------------------------------------------------


class _Repo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def t(self, name: str) -> dict[Any, Any]:
        return self._uow.work[name]


class FakeCommunities(_Repo):
    async def get(self, chat_id: int) -> Community | None:
        found: Community | None = self.t("communities").get(chat_id)
        return found

    async def save(self, community: Community) -> None:
        self.t("communities")[community.chat_id] = community

    async def configured(self, limit: int) -> list[Community]:
        chats = sorted(self.t("communities").values(), key=lambda c: c.chat_id)
        return [c for c in chats if c.configured][:limit]


class FakeUsers(_Repo):
    async def get(self, user_id: int) -> User | None:
        found: User | None = self.t("users").get(user_id)
        return found

    async def seen(self, user: User) -> User:
        old: User | None = self.t("users").get(user.id)
        saved = replace(
            user,
            locale=old.locale if old else None,
            started=bool(user.started or (old is not None and old.started)),
        )
        self.t("users")[user.id] = saved
        return saved

    async def set_locale(self, user_id: int, locale: str | None) -> None:
        old = self.t("users").get(user_id)
        if old is not None:
            self.t("users")[user_id] = replace(old, locale=locale)

    async def resident(self, community_id: int, user_id: int) -> Resident | None:
        found: Resident | None = self.t("residents").get((community_id, user_id))
        return found

    async def save_resident(self, resident: Resident) -> None:
        if resident.community_id not in self.t("communities"):
            raise FakeIntegrityError("residents.community_id: no such community")
        if resident.user_id not in self.t("users"):
            raise FakeIntegrityError("residents.user_id: no such user")
        self.t("residents")[(resident.community_id, resident.user_id)] = resident

    async def residents(self, community_id: int, user_ids: Sequence[int]) -> dict[int, Resident]:
        table = self.t("residents")
        return {u: table[(community_id, u)] for u in user_ids if (community_id, u) in table}

    async def many(self, user_ids: Sequence[int]) -> dict[int, User]:
        table = self.t("users")
        return {u: table[u] for u in user_ids if u in table}


class FakeDeals(_Repo):
    def _deal(self, deal_id: int) -> DealRec | None:
        found: DealRec | None = self.t("deals").get(deal_id)
        return found

    def _put(self, rec: DealRec) -> None:
        self.t("deals")[rec.id] = rec

    async def add(
        self,
        community_id: int,
        leader_id: int,
        currency: str,
        spec: DealSpec,
        now: datetime,
        remind_at: datetime | None,
    ) -> Deal:
        if community_id not in self.t("communities"):
            raise FakeIntegrityError("deals.community_id: no such community")
        deal_id = self._uow.store.next_id("deals")
        self._put(
            DealRec(
                id=deal_id,
                community_id=community_id,
                leader_id=leader_id,
                title=spec.title,
                description=spec.description,
                currency=currency,
                deadline=_utc(spec.deadline),
                remind_at=_utc_or_none(remind_at),
                reminder_sent=False,
                pickup_place=spec.pickup_place,
                pickup_window=spec.pickup_window,
                minimum_kind=spec.minimum_kind,
                minimum=spec.minimum,
                buildings=tuple(spec.buildings),
                photo_file_id=spec.photo_file_id,
                status=DealStatus.OPEN,
                created_at=_utc(now),
                closed_at=None,
                close_reason=None,
                post_chat_id=None,
                post_message_id=None,
                post_version=0,
                post_synced_version=0,
            )
        )
        for position, it in enumerate(spec.items):
            item_id = self._uow.store.next_id("items")
            self.t("items")[item_id] = Item(
                id=item_id,
                deal_id=deal_id,
                position=position,
                name=it.name,
                unit=it.unit,
                price=it.price,
                stock=it.stock,
                limit=it.limit,
                sold=0,
            )
        deal = await self.get(deal_id)
        assert deal is not None
        return deal

    async def get(self, deal_id: int) -> Deal | None:
        rec = self._deal(deal_id)
        if rec is None:
            return None
        items = sorted(
            (i for i in self.t("items").values() if i.deal_id == deal_id),
            key=lambda i: i.position,
        )
        return Deal(
            id=rec.id,
            community_id=rec.community_id,
            leader_id=rec.leader_id,
            title=rec.title,
            description=rec.description,
            currency=rec.currency,
            deadline=rec.deadline,
            pickup_place=rec.pickup_place,
            pickup_window=rec.pickup_window,
            minimum_kind=rec.minimum_kind,
            minimum=rec.minimum,
            buildings=rec.buildings,
            photo_file_id=rec.photo_file_id,
            status=rec.status,
            created_at=rec.created_at,
            closed_at=rec.closed_at,
            close_reason=rec.close_reason,
            post_chat_id=rec.post_chat_id,
            post_message_id=rec.post_message_id,
            items=tuple(items),
        )

    async def set_post(self, deal_id: int, chat_id: int, message_id: int) -> None:
        rec = self._deal(deal_id)
        if rec is not None:
            self._put(replace(rec, post_chat_id=chat_id, post_message_id=message_id))

    def _item(self, deal_id: int, item_id: int) -> Item | None:
        it: Item | None = self.t("items").get(item_id)
        return it if it is not None and it.deal_id == deal_id else None

    async def reserve(self, deal_id: int, item_id: int, quantity: int) -> bool:
        it = self._item(deal_id, item_id)
        if it is None or it.sold + quantity > it.stock:
            return False
        self.t("items")[item_id] = replace(it, sold=it.sold + quantity)
        return True

    async def release(self, deal_id: int, item_id: int, quantity: int) -> None:
        it = self._item(deal_id, item_id)
        if it is not None and it.sold >= quantity:
            self.t("items")[item_id] = replace(it, sold=it.sold - quantity)

    async def move(
        self,
        deal_id: int,
        src: DealStatus,
        dst: DealStatus,
        now: datetime,
        reason: CloseReason | None,
    ) -> bool:
        rec = self._deal(deal_id)
        if rec is None or rec.status is not src:
            return False
        self._put(
            replace(
                rec,
                status=dst,
                closed_at=_utc(now),
                close_reason=reason,
                post_version=rec.post_version + 1,
            )
        )
        return True

    def _all(self) -> list[DealRec]:
        return sorted(self.t("deals").values(), key=lambda r: r.id)

    async def due(self, now: datetime, limit: int) -> list[int]:
        now = _utc(now)
        found = [r for r in self._all() if r.status is DealStatus.OPEN and r.deadline <= now]
        return [r.id for r in sorted(found, key=lambda r: r.deadline)][:limit]

    async def claim_reminder(self, deal_id: int) -> bool:
        rec = self._deal(deal_id)
        if rec is None or rec.status is not DealStatus.OPEN or rec.reminder_sent:
            return False
        self._put(replace(rec, reminder_sent=True))
        return True

    async def reminders_due(self, now: datetime, limit: int) -> list[int]:
        now = _utc(now)
        return [
            r.id
            for r in self._all()
            if r.status is DealStatus.OPEN
            and not r.reminder_sent
            and r.remind_at is not None
            and r.remind_at <= now
            and r.deadline > now
        ][:limit]

    async def open_deals(self) -> list[Deal]:
        deals = [await self.get(r.id) for r in self._all() if r.status is DealStatus.OPEN]
        return [d for d in deals if d is not None]

    async def for_community(
        self, community_id: int, statuses: Sequence[DealStatus], limit: int
    ) -> list[Deal]:
        wanted = set(statuses)
        recs = [r for r in self._all() if r.community_id == community_id and r.status in wanted]
        deals = [await self.get(r.id) for r in reversed(recs)][:limit]
        return [d for d in deals if d is not None]

    async def begin_change(self, deal_id: int) -> bool:
        rec = self._deal(deal_id)
        if rec is None or rec.status is not DealStatus.OPEN:
            return False
        self._put(replace(rec, post_version=rec.post_version + 1))
        return True

    async def touch_post(self, deal_id: int) -> None:
        rec = self._deal(deal_id)
        if rec is not None:
            self._put(replace(rec, post_version=rec.post_version + 1))

    async def stale_posts(self, limit: int) -> list[tuple[int, int]]:
        return [
            (r.id, r.post_version)
            for r in self._all()
            if r.post_version > r.post_synced_version and r.post_message_id is not None
        ][:limit]

    async def post_synced(self, deal_id: int, version: int) -> None:
        rec = self._deal(deal_id)
        if rec is not None and rec.post_synced_version < version:
            self._put(replace(rec, post_synced_version=version))

    async def stats(self, deal_id: int) -> DealStats:
        totals = [
            o.total_quantity for o in await FakeOrders(self._uow).for_deal(deal_id) if o.active
        ]
        return DealStats(participants=len(totals), quantity=sum(totals))


class FakeOrders(_Repo):
    def _order(self, rec: OrderRec | None) -> Order | None:
        if rec is None:
            return None
        lines = [
            OrderLine(item_id, qty)
            for (oid, item_id), qty in self.t("lines").items()
            if oid == rec.id
        ]
        return Order(
            id=rec.id,
            deal_id=rec.deal_id,
            user_id=rec.user_id,
            code=rec.code,
            lines=tuple(sorted(lines, key=lambda ln: ln.item_id)),
            picked_up_at=rec.picked_up_at,
        )

    def _recs(self) -> list[OrderRec]:
        return sorted(self.t("orders").values(), key=lambda r: r.id)

    async def get(self, order_id: int) -> Order | None:
        return self._order(self.t("orders").get(order_id))

    async def of_user(self, deal_id: int, user_id: int) -> Order | None:
        rec = next((r for r in self._recs() if r.deal_id == deal_id and r.user_id == user_id), None)
        return self._order(rec)

    async def open_order(
        self, deal_id: int, community_id: int, user_id: int, now: datetime
    ) -> Order:
        existing = await self.of_user(deal_id, user_id)
        if existing is not None:
            return existing
        if deal_id not in self.t("deals"):
            raise FakeIntegrityError("orders.deal_id: no such deal")
        taken = {r.code for r in self._recs() if r.community_id == community_id}
        code = new_code()
        while code in taken:
            code = new_code()
        order_id = self._uow.store.next_id("orders")
        self.t("orders")[order_id] = OrderRec(
            order_id, deal_id, community_id, user_id, code, _utc(now), None
        )
        order = await self.get(order_id)
        assert order is not None
        return order

    async def change_line(self, order_id: int, item_id: int, delta: int, limit: int | None) -> bool:
        lines = self.t("lines")
        key = (order_id, item_id)
        if delta > 0 and key not in lines:
            if order_id not in self.t("orders") or item_id not in self.t("items"):
                raise FakeIntegrityError("order_lines: no such order or item")
            lines[key] = 0
        if key not in lines:
            return False
        quantity = lines[key] + delta
        if quantity < 0 or (limit is not None and quantity > limit):
            return False
        lines[key] = quantity
        return True

    async def for_deal(self, deal_id: int) -> list[Order]:
        orders = [self._order(r) for r in self._recs() if r.deal_id == deal_id]
        return [o for o in orders if o is not None and o.active]

    async def active_for_user(self, user_id: int, limit: int) -> list[tuple[Deal, Order]]:
        deals = FakeDeals(self._uow)
        found: list[tuple[Deal, Order]] = []
        for rec in self._recs():
            deal = await deals.get(rec.deal_id)
            order = self._order(rec)
            if (
                rec.user_id == user_id
                and rec.picked_up_at is None
                and deal is not None
                and deal.status in (DealStatus.OPEN, DealStatus.CLOSED)
                and order is not None
                and order.active
            ):
                found.append((deal, order))
        found.sort(key=lambda pair: (pair[0].deadline, pair[1].id))
        return found[:limit]

    async def by_code(self, community_id: int, code: str) -> Order | None:
        rec = next(
            (r for r in self._recs() if r.community_id == community_id and r.code == code), None
        )
        return self._order(rec)

    async def mark_picked_up(self, order_id: int, now: datetime) -> bool:
        rec: OrderRec | None = self.t("orders").get(order_id)
        if rec is None or rec.picked_up_at is not None:
            return False
        self.t("orders")[order_id] = replace(rec, picked_up_at=_utc(now))
        return True


class FakeOutbox(_Repo):
    async def add(self, notices: Sequence[Notice], now: datetime) -> None:
        now = _utc(now)
        table = self.t("outbox")
        taken = {(r.kind, r.deal_id, r.chat_id) for r in table.values()}
        for n in notices:
            key = (n.kind, n.deal_id, n.chat_id)
            if key in taken:
                continue  # ON CONFLICT DO NOTHING
            taken.add(key)
            notice_id = self._uow.store.next_id("outbox")
            table[notice_id] = OutboxRec(
                notice_id, n.kind, n.chat_id, n.deal_id, n.user_id, now, 0, now, None, False, None
            )

    async def claim(self, now: datetime, limit: int, lease_seconds: int) -> list[PendingNotice]:
        now = _utc(now)
        table = self.t("outbox")
        ordered = sorted(table.values(), key=lambda r: r.id)
        due = [r for r in ordered if not r.done and r.due_at <= now][:limit]
        claimed: list[PendingNotice] = []
        for r in due:
            table[r.id] = replace(
                r, due_at=now + timedelta(seconds=lease_seconds), attempts=r.attempts + 1
            )
            claimed.append(PendingNotice(r.id, r.notice, r.attempts + 1, r.created_at))
        return claimed

    async def sent(self, notice_id: int, now: datetime) -> None:
        rec = self.t("outbox").get(notice_id)
        if rec is not None:
            self.t("outbox")[notice_id] = replace(rec, done=True, sent_at=_utc(now), error=None)

    async def failed(self, notice_id: int, error: str, retry_at: datetime | None) -> None:
        rec = self.t("outbox").get(notice_id)
        if rec is None:
            return
        if retry_at is None:
            rec = replace(rec, error=error[:1000], done=True)
        else:
            rec = replace(rec, error=error[:1000], due_at=_utc(retry_at))
        self.t("outbox")[notice_id] = rec


class FakeDialogs(_Repo):
    async def get(self, user_id: int) -> tuple[str, dict[str, Any]] | None:
        rec: DialogRec | None = self.t("dialogs").get(user_id)
        return (rec.state, json.loads(rec.data_json)) if rec else None

    async def save(self, user_id: int, state: str, data: dict[str, Any], now: datetime) -> None:
        # stored as JSON, like the real column: anything JSON cannot hold fails here too
        self.t("dialogs")[user_id] = DialogRec(state, json.dumps(data), _utc(now))

    async def clear(self, user_id: int) -> None:
        self.t("dialogs").pop(user_id, None)


# ---- unit of work --------------------------------------------------------------------------


class FakeUnitOfWork:
    communities: Communities
    users: Users
    deals: Deals
    orders: Orders
    outbox: Outbox
    dialogs: Dialogs

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.committed = False
        self.communities = FakeCommunities(self)
        self.users = FakeUsers(self)
        self.deals = FakeDeals(self)
        self.orders = FakeOrders(self)
        self.outbox = FakeOutbox(self)
        self.dialogs = FakeDialogs(self)
        self._snapshot: dict[str, dict[Any, Any]] | None = None
        self._work: dict[str, dict[Any, Any]] | None = None

    @property
    def work(self) -> dict[str, dict[Any, Any]]:
        if self._work is None:
            raise RuntimeError("use the unit of work inside 'async with'")
        return self._work

    def _begin(self) -> None:
        self._snapshot = {name: dict(self.store.tables[name]) for name in TABLES}
        self._work = {name: dict(table) for name, table in self._snapshot.items()}

    async def __aenter__(self) -> Self:
        self._begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._snapshot = None  # whatever was not committed is dropped
        self._work = None

    async def commit(self) -> None:
        assert self._snapshot is not None and self._work is not None
        self.store.commit(self._snapshot, self._work)
        self.committed = True
        self._begin()  # like a session after commit: a new transaction on fresh state


class FakeUnitOfWorkFactory:
    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store or FakeStore()
        self.opened = 0

    def __call__(self) -> FakeUnitOfWork:
        self.opened += 1
        return FakeUnitOfWork(self.store)


# ---- builders ------------------------------------------------------------------------------


def item_spec(
    name: str = "Apples", *, price: int = 1250, stock: int = 10, limit: int | None = 3
) -> ItemSpec:
    return ItemSpec(name=name, unit="box", price=price, stock=stock, limit=limit)


def deal_spec(
    deadline: datetime,
    *items: ItemSpec,
    minimum_kind: MinimumKind = MinimumKind.NONE,
    minimum: int = 0,
    buildings: tuple[str, ...] = (),
    title: str = "Fresh apples",
) -> DealSpec:
    return DealSpec(
        title=title,
        description="From the orchard",
        items=items or (item_spec(),),
        deadline=deadline,
        pickup_place="Gate 2",
        pickup_window="Sat 9-11",
        minimum_kind=minimum_kind,
        minimum=minimum,
        buildings=buildings,
    )


def community(chat_id: int = -1001, buildings: tuple[str, ...] = ("1", "2", "3")) -> Community:
    return Community(chat_id=chat_id, title="Garden Court", buildings=buildings, configured=True)


# ---- flows: run a use case in its own unit of work, as a handler does (any factory) ----------


async def open_deal_committed(
    factory: UnitOfWorkFactory,
    now: datetime,
    spec: DealSpec,
    chat: Community | None = None,
    leader_id: int = 7,
    reminder_before: timedelta = timedelta(hours=2),
) -> Deal:
    chat = chat or community()
    async with factory() as uow:
        if await uow.communities.get(chat.chat_id) is None:
            await uow.communities.save(chat)
        deal = await open_deal(uow, chat, leader_id, spec, now, reminder_before)
        await uow.commit()
    return deal


async def change_committed(
    factory: UnitOfWorkFactory,
    now: datetime,
    deal_id: int,
    item_id: int,
    user_id: int,
    delta: int,
    resident: Resident | None = None,
) -> OrderChange:
    """change_quantity in its own unit of work; commits only if it succeeds."""
    async with factory() as uow:
        change = await change_quantity(uow, deal_id, item_id, user_id, delta, resident, now)
        await uow.commit()
    return change


async def cancel_committed(
    factory: UnitOfWorkFactory, now: datetime, deal_id: int, user_id: int
) -> Deal:
    async with factory() as uow:
        deal = await cancel_order(uow, deal_id, user_id, now)
        await uow.commit()
    return deal


async def read_deal(factory: UnitOfWorkFactory, deal_id: int) -> tuple[Deal, list[Order]]:
    """The deal and all its orders (including emptied ones) as committed."""
    async with factory() as uow:
        deal = await uow.deals.get(deal_id)
        assert deal is not None
        orders = await uow.orders.for_deal(deal_id)
    return deal, orders


if TYPE_CHECKING:  # the fakes implement the ports (checked by mypy)
    _uow: UnitOfWork = FakeUnitOfWork(FakeStore())
    _factory: UnitOfWorkFactory = FakeUnitOfWorkFactory()
