"""In-memory implementations of groupbuy.ports, with the semantics of the SQL storage.

A FakeStore holds committed state as tables of immutable records. A FakeUnitOfWork works on a
copy taken when it is entered and, on commit(), writes back only the records it changed (row-level
optimistic concurrency): if another unit of work committed a change to one of those records in the
meantime, commit raises FakeConflict instead of silently losing an update. Without commit() nothing
is written, as with the real unit of work.

Rules kept as in storage/: stock is reserved only if sold + q <= stock; order lines stay within
0 <= quantity <= limit; begin_change answers False unless the deal is OPEN; move is conditional on
the current status; the outbox is unique by (kind, deal_id, chat_id, ref); a payment's charge id is
unique (a duplicate add answers None; two concurrent units of work adding the same charge id make
the later commit fail, where PostgreSQL would make the later insert do nothing); payment and refund
amounts are positive; claimed payments are decided once and owed refunds done once; foreign keys
(a deal needs its community, a resident needs the user and the community, payments, refunds and
invoices need their order and deal) are enforced; datetimes must be aware and come back in UTC;
dialog data must survive a JSON round trip.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Hashable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from groupbuy import transaction_guard
from groupbuy.codes import new_code
from groupbuy.deals import close_deal, open_deal
from groupbuy.live import Live, LiveKind, Shown, StaleMessage, Touched
from groupbuy.model import (
    Arrival,
    BotStatus,
    CaseRule,
    CloseReason,
    Community,
    Deal,
    DealSpec,
    DealStats,
    DealStatus,
    Invoice,
    Item,
    ItemSpec,
    MinimumKind,
    NoShow,
    NoShowOutcome,
    Order,
    OrderLine,
    Payment,
    PaymentMethod,
    PaymentMode,
    PaymentStatus,
    PickupChange,
    PickupPoint,
    PointSpec,
    Refund,
    RefundReason,
    RefundStatus,
    Resident,
    Slot,
    StalePost,
    Tier,
    User,
)
from groupbuy.notices import Notice, NoticeKind, PendingNotice
from groupbuy.orders import (
    DEFAULT_WINDOW,
    OrderChange,
    cancel_order,
    change_quantity,
    mark_picked_up,
    take_in_steps,
)
from groupbuy.payments import Received, issue_invoice, receive_payment
from groupbuy.ports import (
    Communities,
    Deals,
    Dialogs,
    LiveMessages,
    Orders,
    Outbox,
    Payments,
    PickupPoints,
    PickupSheet,
    SheetEntry,
    Slots,
    Taken,
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
    payment_mode: PaymentMode = PaymentMode.CASH
    unpaid_reminded_at: datetime | None = None
    pickup_reminded_at: datetime | None = None
    open_link: bool = False
    thread_id: int | None = None
    points: tuple[int, ...] = ()
    delivery_fee: int | None = None
    delivery_free_from: int | None = None
    case_rule: CaseRule = CaseRule.DOWN
    case_wait: int = 0
    case_tolerance: int = 100


@dataclass(frozen=True, slots=True)
class OrderRec:
    id: int
    deal_id: int
    community_id: int
    user_id: int
    code: str
    created_at: datetime
    picked_up_at: datetime | None
    pay_by: datetime | None = None
    picked_up_by: int | None = None
    pay_reminded: bool = False
    invoice_version: int = 0
    invoice_issued_version: int = 0
    point_id: int | None = None
    slot_id: int | None = None
    delivery: bool = False


@dataclass(frozen=True, slots=True)
class LineRec:
    quantity: int
    paid_quantity: int = 0


@dataclass(frozen=True, slots=True)
class PaymentRec:
    payment: Payment
    decided_at: datetime | None = None


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
    ref: int = 0

    @property
    def notice(self) -> Notice:
        return Notice(self.kind, self.chat_id, self.deal_id, self.user_id, self.ref)

    @property
    def key(self) -> tuple[NoticeKind, int, int, int]:
        return (self.kind, self.deal_id, self.chat_id, self.ref)


@dataclass(frozen=True, slots=True)
class DialogRec:
    state: str
    data_json: str
    updated_at: datetime


TABLES = (
    "pickup_points",
    "slots",
    "arrivals",
    "held_back",
    "no_shows",
    "spare",
    "pickup_changes",
    "communities",
    "group_admins",
    "users",
    "residents",
    "deals",
    "items",
    "orders",
    "lines",
    "outbox",
    "dialogs",
    "payments",
    "refunds",
    "invoices",
    "live",
    "reorder_watches",
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

    def order_rec(self, order_id: int) -> OrderRec:
        rec: OrderRec = self.tables["orders"][order_id]
        return rec

    def payments(self, deal_id: int | None = None) -> list[Payment]:
        found = [r.payment for r in self.tables["payments"].values()]
        return sorted(
            (p for p in found if deal_id is None or p.deal_id == deal_id), key=lambda p: p.id
        )

    def refunds(self, deal_id: int | None = None) -> list[Refund]:
        found = self.tables["refunds"].values()
        return sorted(
            (r for r in found if deal_id is None or r.deal_id == deal_id), key=lambda r: r.id
        )

    def invoices(self, order_id: int | None = None) -> list[Invoice]:
        found = self.tables["invoices"].values()
        return [i for i in found if order_id is None or i.order_id == order_id]

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
        # a charge id is unique also against concurrent commits (PostgreSQL would make the later
        # insert wait and then do nothing; the fake cannot wait, so the later commit fails)
        charges = {r.payment.charge_id for r in self.tables["payments"].values()}
        for name, key, new in changes:
            if (
                name == "payments"
                and new is not _ABSENT
                and key not in self.tables["payments"]
                and new.payment.charge_id is not None
                and new.payment.charge_id in charges
            ):
                raise FakeIntegrityError(f"payments.charge_id {new.payment.charge_id!r} taken")
        # the outbox is unique by (kind, deal_id, chat_id, ref) also against concurrent commits
        taken = {r.key for r in self.tables["outbox"].values()}
        for name, key, new in changes:
            if (
                name == "outbox"
                and new is not _ABSENT
                and key not in self.tables["outbox"]
                and new.key in taken
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


def _silent_groups(repo: _Repo) -> set[int]:
    """Groups the bot may not write in: what is owed to them waits (storage's _SILENT_GROUPS)."""
    return {c.chat_id for c in repo.t("communities").values() if not c.can_post}


class FakeCommunities(_Repo):
    async def get(self, chat_id: int) -> Community | None:
        found: Community | None = self.t("communities").get(chat_id)
        return found

    async def save(self, community: Community) -> None:
        known: Community | None = self.t("communities").get(community.chat_id)
        if known is not None:  # the bot's standing is set_bot_status's, as in storage
            community = replace(community, bot_status=known.bot_status)
        self.t("communities")[community.chat_id] = community

    async def configured(self, limit: int) -> list[Community]:
        chats = sorted(self.t("communities").values(), key=lambda c: c.chat_id)
        return [c for c in chats if c.configured][:limit]

    async def record_admins(self, chat_id: int, user_ids: frozenset[int], now: datetime) -> None:
        admins = self.t("group_admins")
        for key in [k for k in admins if k[0] == chat_id and k[1] not in user_ids]:
            del admins[key]
        for user_id in user_ids:
            admins.setdefault((chat_id, user_id), now)

    async def records_admin(self, chat_id: int, user_id: int) -> bool:
        return (chat_id, user_id) in self.t("group_admins")

    async def record_admin(self, chat_id: int, user_id: int, admin: bool, now: datetime) -> None:
        if admin:
            self.t("group_admins")[(chat_id, user_id)] = now
        else:
            self.t("group_admins").pop((chat_id, user_id), None)

    async def set_bot_status(self, chat_id: int, status: BotStatus) -> BotStatus | None:
        communities = self.t("communities")
        found: Community | None = communities.get(chat_id)
        if found is None or found.bot_status is status:
            return None
        communities[chat_id] = replace(found, bot_status=status)
        return found.bot_status

    async def move(self, old: int, new: int) -> list[int] | None:
        communities = self.t("communities")
        moving: Community | None = communities.get(old)
        if moving is None:
            return None
        there = communities.get(new)
        if there is None or not there.configured:
            communities[new] = replace(moving, chat_id=new)
        del communities[old]
        for name in ("residents", "group_admins"):
            table = self.t(name)
            for key in [k for k in table if k[0] == old]:
                value = table.pop(key)
                if name == "residents":
                    value = replace(value, community_id=new)
                table[(new, key[1])] = value
        deals = self.t("deals")
        repost = sorted(
            d.id
            for d in deals.values()
            if d.community_id == old
            and d.status is DealStatus.OPEN
            and d.post_chat_id == old
            and d.post_message_id is not None
        )
        for deal_id, d in list(deals.items()):
            if d.community_id == old:
                d = deals[deal_id] = replace(d, community_id=new)
            if d.post_chat_id == old:
                deals[deal_id] = replace(d, post_chat_id=new, post_message_id=None)
        for name, field in (("orders", "community_id"), ("outbox", "chat_id")):
            table = self.t(name)
            for key, rec in list(table.items()):
                if getattr(rec, field) == old:
                    table[key] = replace(rec, **{field: new})
        dialogs = self.t("dialogs")
        for user_id, rec in list(dialogs.items()):
            data = json.loads(rec.data_json)
            if data.get("community") == old:
                dialogs[user_id] = replace(rec, data_json=json.dumps({**data, "community": new}))
        return repost

    async def led_by(self, user_id: int) -> list[Community]:
        chats = {chat for chat, user in self.t("group_admins") if user == user_id}
        found = [c for c in self.t("communities").values() if c.chat_id in chats and c.configured]
        return sorted(found, key=lambda c: c.chat_id)


class FakePickupPoints(_Repo):
    async def add(self, community_id: int, spec: PointSpec, now: datetime) -> PickupPoint:
        if community_id not in self.t("communities"):
            raise FakeIntegrityError("pickup_points.community_id: no such community")
        point_id = self._uow.store.next_id("pickup_points")
        point = PickupPoint(
            point_id,
            community_id,
            spec.name,
            spec.address,
            spec.hours,
            spec.latitude,
            spec.longitude,
        )
        self.t("pickup_points")[point_id] = point
        return point

    async def of_community(self, community_id: int) -> list[PickupPoint]:
        points: list[PickupPoint] = sorted(self.t("pickup_points").values(), key=lambda p: p.id)
        return [p for p in points if p.community_id == community_id and not p.removed]

    async def many(self, point_ids: Collection[int]) -> dict[int, PickupPoint]:
        table = self.t("pickup_points")
        return {i: table[i] for i in point_ids if i in table}

    async def remove(self, point_id: int, now: datetime) -> bool:
        point: PickupPoint | None = self.t("pickup_points").get(point_id)
        if point is None or point.removed:
            return False
        self.t("pickup_points")[point_id] = replace(point, removed=True)
        return True


@dataclass(frozen=True, slots=True)
class SlotRec:
    slot: Slot  # its `booked` unused: counted from the orders, as in storage
    reminded_at: datetime | None = None


class FakeSlots(_Repo):
    def _booked(self, slot_id: int) -> int:
        lines = self.t("lines")
        return sum(
            1
            for r in self.t("orders").values()
            if r.slot_id == slot_id
            and any(q.quantity > 0 for (o, _), q in lines.items() if o == r.id)
        )

    def _slot(self, rec: SlotRec) -> Slot:
        return replace(rec.slot, booked=self._booked(rec.slot.id))

    async def set(
        self, deal_id: int, stretches: Sequence[tuple[datetime, datetime]], capacity: int
    ) -> list[Slot]:
        if deal_id not in self.t("deals"):
            raise FakeIntegrityError("slots.deal_id: no such deal")
        for key, rec in list(self.t("orders").items()):
            if rec.deal_id == deal_id and rec.slot_id is not None:
                self.t("orders")[key] = replace(rec, slot_id=None)
        table = self.t("slots")
        for key in [k for k, r in table.items() if r.slot.deal_id == deal_id]:
            del table[key]
        made = []
        for start, end in stretches:
            slot = Slot(self._uow.store.next_id("slots"), deal_id, _utc(start), _utc(end), capacity)
            table[slot.id] = SlotRec(slot)
            made.append(slot)
        return made

    async def of_deal(self, deal_id: int) -> list[Slot]:
        recs = [r for r in self.t("slots").values() if r.slot.deal_id == deal_id]
        return [self._slot(r) for r in sorted(recs, key=lambda r: (r.slot.starts_at, r.slot.id))]

    async def lock(self, deal_id: int, slot_id: int) -> Slot | None:
        rec: SlotRec | None = self.t("slots").get(slot_id)
        if rec is None or rec.slot.deal_id != deal_id:
            return None
        self.t("slots")[slot_id] = replace(rec)  # a write: a concurrent booking conflicts
        return self._slot(rec)

    async def reminders_due(self, until: datetime, limit: int) -> list[Slot]:
        deals = self.t("deals")
        due = [
            r.slot
            for r in self.t("slots").values()
            if r.reminded_at is None
            and r.slot.starts_at <= until
            and deals[r.slot.deal_id].status is DealStatus.CLOSED
        ]
        return sorted(due, key=lambda s: (s.starts_at, s.id))[:limit]

    async def claim_reminder(self, slot_id: int, now: datetime) -> bool:
        rec: SlotRec | None = self.t("slots").get(slot_id)
        if rec is None or rec.reminded_at is not None:
            return False
        self.t("slots")[slot_id] = replace(rec, reminded_at=_utc(now))
        return True


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
        old: Resident | None = self.t("residents").get((resident.community_id, resident.user_id))
        if old is not None:  # the point chosen last is remember_point's, as in storage
            resident = replace(resident, point=old.point)
        self.t("residents")[(resident.community_id, resident.user_id)] = resident

    async def remember_point(self, community_id: int, user_id: int, point_id: int) -> None:
        old: Resident | None = self.t("residents").get((community_id, user_id))
        if old is not None:
            self.t("residents")[(community_id, user_id)] = replace(old, point=point_id)

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
        payment_mode: PaymentMode = PaymentMode.CASH,
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
                payment_mode=payment_mode,
                open_link=spec.open_link,
                thread_id=spec.thread_id,
                points=tuple(spec.points),
                delivery_fee=spec.delivery_fee,
                delivery_free_from=spec.delivery_free_from,
                case_rule=spec.case_rule,
                case_wait=spec.case_wait,
                case_tolerance=spec.case_tolerance,
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
                tiers=it.tiers,
                case_size=it.case_size,
            )
        deal = await self.get(deal_id)
        assert deal is not None
        return deal

    async def get_for(self, deal_id: int, user_id: int) -> tuple[Deal, Resident | None] | None:
        deal = await self.get(deal_id)
        if deal is None:
            return None
        return deal, await self._uow.users.resident(deal.community_id, user_id)

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
            payment_mode=rec.payment_mode,
            open_link=rec.open_link,
            thread_id=rec.thread_id,
            points=rec.points,
            delivery_fee=rec.delivery_fee,
            delivery_free_from=rec.delivery_free_from,
            case_rule=rec.case_rule,
            case_wait=rec.case_wait,
            case_tolerance=rec.case_tolerance,
        )

    async def set_post(self, deal_id: int, chat_id: int, message_id: int) -> None:
        rec = self._deal(deal_id)
        if rec is not None:
            self._put(replace(rec, post_chat_id=chat_id, post_message_id=message_id))

    def _item(self, deal_id: int, item_id: int) -> Item | None:
        it: Item | None = self.t("items").get(item_id)
        return it if it is not None and it.deal_id == deal_id else None

    async def reserve(self, deal_id: int, item_id: int, quantity: int) -> int | None:
        it = self._item(deal_id, item_id)
        if it is None or it.sold + quantity > it.stock:
            return None
        self.t("items")[item_id] = replace(it, sold=it.sold + quantity)
        return it.stock - it.sold - quantity

    async def all_taken(self, deal_id: int) -> bool:
        return not any(i.deal_id == deal_id and i.sold < i.stock for i in self.t("items").values())

    async def release(self, deal_id: int, item_id: int, quantity: int) -> None:
        it = self._item(deal_id, item_id)
        if it is not None and it.sold >= quantity:
            self.t("items")[item_id] = replace(it, sold=it.sold - quantity)

    async def fix_prices(self, deal_id: int, prices: dict[int, int]) -> None:
        for item_id, price in prices.items():
            it = self._item(deal_id, item_id)
            if it is not None:
                self.t("items")[item_id] = replace(it, fixed_price=price)

    async def wait_for_cases(self, deal_id: int, deadline: datetime) -> None:
        rec = self._deal(deal_id)
        if rec is not None:
            self._put(
                replace(
                    rec,
                    deadline=_utc(deadline),
                    case_rule=CaseRule.DOWN,
                    post_version=rec.post_version + 1,
                )
            )

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

    async def leave_topic(self, community_id: int, thread_id: int) -> list[int]:
        ids = []
        for r in self._all():
            if r.community_id == community_id and r.thread_id == thread_id:
                self._put(replace(r, thread_id=None))
                ids.append(r.id)
        return ids

    async def stale_posts(self, limit: int, after: int = 0) -> list[StalePost]:
        return [
            StalePost(r.id, r.post_version, r.post_chat_id or 0, r.status is DealStatus.OPEN)
            for r in self._all()
            if r.id > after
            and r.post_version > r.post_synced_version
            and r.post_message_id is not None
            and r.post_chat_id not in _silent_groups(self)
        ][:limit]

    async def post_synced(self, deal_id: int, version: int) -> None:
        rec = self._deal(deal_id)
        if rec is not None and rec.post_synced_version < version:
            self._put(replace(rec, post_synced_version=version))

    async def claim_unpaid_reminder(self, deal_id: int, now: datetime, every: timedelta) -> bool:
        rec = self._deal(deal_id)
        now = _utc(now)
        if rec is None or (
            rec.unpaid_reminded_at is not None and rec.unpaid_reminded_at > now - every
        ):
            return False
        self._put(replace(rec, unpaid_reminded_at=now))
        return True

    async def arrive(self, arrival: Arrival) -> bool:
        if self._deal(arrival.deal_id) is None:
            raise FakeIntegrityError("arrivals.deal_id: no such deal")
        key = (arrival.deal_id, arrival.point)
        if key in self.t("arrivals"):
            return False
        self.t("arrivals")[key] = replace(arrival, at=_utc(arrival.at))
        return True

    async def change_pickup(
        self, deal_id: int, place: str, window: str, now: datetime, by: int
    ) -> PickupChange:
        rec = self._deal(deal_id)
        if rec is None:
            raise FakeIntegrityError("pickup_changes.deal_id: no such deal")
        change = PickupChange(
            self._uow.store.next_id("pickup_changes"),
            deal_id,
            rec.pickup_place,
            rec.pickup_window,
            place,
            window,
            _utc(now),
            by,
        )
        self.t("pickup_changes")[change.id] = change
        self._put(
            replace(
                rec, pickup_place=place, pickup_window=window, post_version=rec.post_version + 1
            )
        )
        return change

    async def pickup_change(self, change_id: int) -> PickupChange | None:
        found: PickupChange | None = self.t("pickup_changes").get(change_id)
        return found

    async def arrival(self, deal_id: int, point: int) -> Arrival | None:
        found: Arrival | None = self.t("arrivals").get((deal_id, point))
        return found

    async def claim_pickup_reminder(self, deal_id: int, now: datetime, every: timedelta) -> bool:
        rec = self._deal(deal_id)
        now = _utc(now)
        if rec is None or (
            rec.pickup_reminded_at is not None and rec.pickup_reminded_at > now - every
        ):
            return False
        self._put(replace(rec, pickup_reminded_at=now))  # as claim_unpaid_reminder, its own field
        return True

    async def add_spare(self, deal_id: int, item_id: int, quantity: int) -> None:
        if self._deal(deal_id) is None:
            raise FakeIntegrityError("spare.deal_id: no such deal")
        if quantity <= 0:
            raise FakeIntegrityError("spare.quantity: not positive")
        key = (deal_id, item_id)
        self.t("spare")[key] = self.t("spare").get(key, 0) + quantity

    async def spare(self, deal_id: int) -> dict[int, int]:
        return {i: q for (d, i), q in sorted(self.t("spare").items()) if d == deal_id}

    async def stats(self, deal_id: int) -> DealStats:
        orders = [o for o in await FakeOrders(self._uow).for_deal(deal_id) if o.active]
        paid = [o for o in orders if all(ln.quantity <= ln.paid_quantity for ln in o.lines)]
        return DealStats(
            participants=len(orders),
            quantity=sum(o.total_quantity for o in orders),
            paid=len(paid),
        )


@dataclass(frozen=True)
class FakePickupSheet:
    found: tuple[SheetEntry, ...]

    def entries(self) -> Iterator[SheetEntry]:
        return iter(self.found)

    def fingerprint(self) -> Hashable:
        return self.found


class FakeOrders(_Repo):
    def _order(self, rec: OrderRec | None) -> Order | None:
        if rec is None:
            return None
        lines = [
            OrderLine(item_id, line.quantity, line.paid_quantity)
            for (oid, item_id), line in self.t("lines").items()
            if oid == rec.id
        ]
        return Order(
            id=rec.id,
            deal_id=rec.deal_id,
            user_id=rec.user_id,
            code=rec.code,
            lines=tuple(sorted(lines, key=lambda ln: ln.item_id)),
            picked_up_at=rec.picked_up_at,
            pay_by=rec.pay_by,
            picked_up_by=rec.picked_up_by,
            point=rec.point_id,
            slot=rec.slot_id,
            delivery=rec.delivery,
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
        deals = self._uow.deals
        return await take_in_steps(
            deals, self, deal_id, community_id, user_id, item_id, quantity, limit, now
        )

    async def change_line(
        self, order_id: int, item_id: int, delta: int, limit: int | None
    ) -> int | None:
        lines = self.t("lines")
        key = (order_id, item_id)
        if delta > 0 and key not in lines:
            if order_id not in self.t("orders") or item_id not in self.t("items"):
                raise FakeIntegrityError("order_lines: no such order or item")
            lines[key] = LineRec(0)
        if key not in lines:
            return None
        quantity: int = lines[key].quantity + delta
        if quantity < 0 or (limit is not None and quantity > limit):
            return None
        lines[key] = replace(lines[key], quantity=quantity)
        return quantity

    async def watch(
        self, user_id: int, community_id: int, deal_id: int, names: Collection[str], now: datetime
    ) -> None:
        watches = self.t("reorder_watches")
        if (user_id, deal_id) not in watches:
            watches[(user_id, deal_id)] = (community_id, tuple(names), _utc(now))

    async def watchers(self, community_id: int) -> list[tuple[int, int, tuple[str, ...]]]:
        found = sorted(self.t("reorder_watches").items(), key=lambda kv: kv[1][2])
        return [(user, deal, rec[1]) for (user, deal), rec in found if rec[0] == community_id]

    async def unwatch(self, user_id: int, deal_id: int) -> None:
        self.t("reorder_watches").pop((user_id, deal_id), None)

    async def for_deal(self, deal_id: int) -> list[Order]:
        orders = [self._order(r) for r in self._recs() if r.deal_id == deal_id]
        return [o for o in orders if o is not None and o.active]

    async def hold_back(self, order_id: int, item_id: int, quantity: int) -> bool:
        if self._rec(order_id) is None:
            raise FakeIntegrityError("held_back.order_id: no such order")
        if (order_id, item_id) in self.t("held_back"):
            return False
        self.t("held_back")[(order_id, item_id)] = quantity
        return True

    async def held_back(self, order_id: int) -> dict[int, int]:
        return {i: q for (o, i), q in sorted(self.t("held_back").items()) if o == order_id}

    async def held_back_orders(self, deal_id: int) -> set[int]:
        ids = {o for (o, _) in self.t("held_back")}
        return {o for o in ids if (rec := self._rec(o)) is not None and rec.deal_id == deal_id}

    async def hand_rest(self, order_id: int) -> dict[int, int]:
        rest = await self.held_back(order_id)
        for item_id in rest:
            del self.t("held_back")[(order_id, item_id)]
        return rest

    async def decide_no_show(self, decision: NoShow) -> bool:
        if self._rec(decision.order_id) is None:
            raise FakeIntegrityError("no_shows.order_id: no such order")
        earlier: NoShow | None = self.t("no_shows").get(decision.order_id)
        if earlier is not None and (
            earlier.outcome is not NoShowOutcome.MOVED or decision.outcome is NoShowOutcome.MOVED
        ):
            return False
        self.t("no_shows")[decision.order_id] = replace(decision, at=_utc(decision.at))
        return True

    async def no_shows(self, deal_id: int) -> dict[int, NoShow]:
        found = self.t("no_shows").values()
        return {
            d.order_id: d for d in sorted(found, key=lambda d: d.order_id) if d.deal_id == deal_id
        }

    async def pickup_sheet(self, deal_id: int, only: Collection[int] | None = None) -> PickupSheet:
        residents = self.t("residents")
        users = self.t("users")
        payments = FakePayments(self._uow)
        held = payments._net(lambda _, d: d == deal_id)
        claimed: dict[int, int] = {}
        for p in payments._payments():
            if p.deal_id == deal_id and p.status is PaymentStatus.CLAIMED:
                claimed[p.order_id] = claimed.get(p.order_id, 0) + p.amount
        entries = []
        for rec in self._recs():
            if rec.deal_id != deal_id or (only is not None and rec.id not in only):
                continue
            order = self._order(rec)
            assert order is not None
            order = replace(order, lines=tuple(ln for ln in order.lines if ln.quantity > 0))
            if not order.lines:
                continue
            buyer: User | None = users.get(rec.user_id)
            by: User | None = users.get(rec.picked_up_by) if rec.picked_up_by else None
            entries.append(
                SheetEntry(
                    order,
                    residents.get((rec.community_id, rec.user_id)),
                    buyer,
                    by,
                    held.get(rec.id, 0),
                    claimed.get(rec.id, 0),
                    tuple((await self.held_back(rec.id)).items()),
                )
            )
        return FakePickupSheet(tuple(entries))

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

    async def set_delivery(self, order_id: int, delivery: bool) -> None:
        rec: OrderRec | None = self.t("orders").get(order_id)
        if rec is not None:
            self.t("orders")[order_id] = replace(rec, delivery=delivery)

    async def set_slot(self, order_id: int, slot_id: int | None) -> None:
        rec: OrderRec | None = self.t("orders").get(order_id)
        if rec is not None:
            self.t("orders")[order_id] = replace(rec, slot_id=slot_id)

    async def set_point(self, order_id: int, point_id: int) -> None:
        rec: OrderRec | None = self.t("orders").get(order_id)
        if rec is not None:
            self.t("orders")[order_id] = replace(rec, point_id=point_id)

    async def mark_picked_up(self, order_id: int, now: datetime, by: int) -> bool:
        rec: OrderRec | None = self.t("orders").get(order_id)
        if rec is None or rec.picked_up_at is not None:
            return False
        self.t("orders")[order_id] = replace(rec, picked_up_at=_utc(now), picked_up_by=by)
        return True

    # ---- payment holds and invoices ----

    def _rec(self, order_id: int) -> OrderRec | None:
        found: OrderRec | None = self.t("orders").get(order_id)
        return found

    def _set_lines(self, order_id: int, change: Callable[[LineRec], LineRec]) -> None:
        lines = self.t("lines")
        for key, line in list(lines.items()):
            if key[0] == order_id:
                new = change(line)
                if new != line:
                    lines[key] = new

    async def set_pay_by(self, order_id: int, pay_by: datetime | None) -> None:
        rec = self._rec(order_id)
        if rec is not None:
            self.t("orders")[order_id] = replace(
                rec, pay_by=_utc_or_none(pay_by), pay_reminded=False
            )

    async def cover(self, order_id: int) -> None:
        self._set_lines(order_id, lambda ln: replace(ln, paid_quantity=ln.quantity))

    async def uncover(self, order_id: int) -> None:
        self._set_lines(order_id, lambda ln: replace(ln, paid_quantity=0))

    async def cap_paid(self, order_id: int) -> None:
        self._set_lines(
            order_id, lambda ln: replace(ln, paid_quantity=min(ln.paid_quantity, ln.quantity))
        )

    async def revert_to_paid(self, order_id: int) -> list[tuple[int, int]]:
        lines = self.t("lines")
        dropped: list[tuple[int, int]] = []
        for (oid, item_id), line in sorted(lines.items()):
            if oid == order_id and line.quantity > line.paid_quantity:
                lines[(oid, item_id)] = replace(line, quantity=line.paid_quantity)
                dropped.append((item_id, line.quantity - line.paid_quantity))
        return dropped

    def _in_open_deals(self) -> list[OrderRec]:
        deals = self.t("deals")
        return [
            r
            for r in self._recs()
            if r.pay_by is not None
            and r.deal_id in deals
            and deals[r.deal_id].status in (DealStatus.OPEN, DealStatus.CLOSED)
        ]

    async def lapsing(self, now: datetime, limit: int) -> list[int]:
        now = _utc(now)
        found = [r for r in self._in_open_deals() if r.pay_by is not None and r.pay_by <= now]
        found.sort(key=lambda r: (r.pay_by, r.id))
        return [r.id for r in found][:limit]

    async def pay_reminders_due(self, now: datetime, lead: timedelta, limit: int) -> list[int]:
        now = _utc(now)
        found = [
            r
            for r in self._in_open_deals()
            if r.pay_by is not None and now < r.pay_by <= now + lead and not r.pay_reminded
        ]
        found.sort(key=lambda r: (r.pay_by, r.id))
        return [r.id for r in found][:limit]

    async def claim_pay_reminder(self, order_id: int) -> bool:
        rec = self._rec(order_id)
        if rec is None or rec.pay_reminded:
            return False
        self.t("orders")[order_id] = replace(rec, pay_reminded=True)
        return True

    async def want_invoice(self, order_id: int) -> None:
        rec = self._rec(order_id)
        if rec is not None:
            self.t("orders")[order_id] = replace(rec, invoice_version=rec.invoice_version + 1)

    async def invoices_wanted(self, limit: int) -> list[tuple[int, int]]:
        return [
            (r.id, r.invoice_version)
            for r in self._recs()
            if r.invoice_version > r.invoice_issued_version
        ][:limit]

    async def invoice_issued(self, order_id: int, version: int) -> None:
        rec = self._rec(order_id)
        if rec is not None and rec.invoice_issued_version < version:
            self.t("orders")[order_id] = replace(rec, invoice_issued_version=version)


class FakePayments(_Repo):
    def _fk(self, table: str, order_id: int, deal_id: int) -> None:
        if order_id not in self.t("orders"):
            raise FakeIntegrityError(f"{table}.order_id: no such order")
        if deal_id not in self.t("deals"):
            raise FakeIntegrityError(f"{table}.deal_id: no such deal")

    def _payments(self) -> list[Payment]:
        return sorted((r.payment for r in self.t("payments").values()), key=lambda p: p.id)

    def _refunds(self) -> list[Refund]:
        return sorted(self.t("refunds").values(), key=lambda r: r.id)

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
        self._fk("payments", order_id, deal_id)
        if amount <= 0:
            raise FakeIntegrityError("payments.amount must be positive")
        if charge_id is not None and await self.by_charge(charge_id) is not None:
            return None  # ON CONFLICT DO NOTHING
        payment = Payment(
            id=self._uow.store.next_id("payments"),
            order_id=order_id,
            deal_id=deal_id,
            user_id=user_id,
            method=method,
            status=status,
            amount=amount,
            currency=currency,
            charge_id=charge_id,
            provider_charge_id=provider_charge_id,
            photo_file_id=photo_file_id,
            created_at=_utc(now),
        )
        self.t("payments")[payment.id] = PaymentRec(payment)
        return payment

    async def get(self, payment_id: int) -> Payment | None:
        rec: PaymentRec | None = self.t("payments").get(payment_id)
        return rec.payment if rec else None

    async def by_charge(self, charge_id: str) -> Payment | None:
        return next((p for p in self._payments() if p.charge_id == charge_id), None)

    async def for_order(self, order_id: int) -> list[Payment]:
        return [p for p in self._payments() if p.order_id == order_id]

    async def touched(self, order_id: int) -> bool:
        return any(p.order_id == order_id for p in self._payments())

    async def for_deal(self, deal_id: int) -> list[Payment]:
        return [p for p in self._payments() if p.deal_id == deal_id]

    async def decide(self, payment_id: int, status: PaymentStatus, now: datetime) -> bool:
        rec: PaymentRec | None = self.t("payments").get(payment_id)
        if rec is None or rec.payment.status is not PaymentStatus.CLAIMED:
            return False
        self.t("payments")[payment_id] = PaymentRec(replace(rec.payment, status=status), _utc(now))
        return True

    async def attach_photo(self, payment_id: int, photo_file_id: str) -> None:
        rec: PaymentRec | None = self.t("payments").get(payment_id)
        if rec is not None:
            self.t("payments")[payment_id] = replace(
                rec, payment=replace(rec.payment, photo_file_id=photo_file_id)
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
        self._fk("refunds", order_id, deal_id)
        if amount <= 0:
            raise FakeIntegrityError("refunds.amount must be positive")
        if payment_id is not None and payment_id not in self.t("payments"):
            raise FakeIntegrityError("refunds.payment_id: no such payment")
        refund = Refund(
            id=self._uow.store.next_id("refunds"),
            order_id=order_id,
            deal_id=deal_id,
            user_id=user_id,
            payment_id=payment_id,
            amount=amount,
            currency=currency,
            method=method,
            status=RefundStatus.OWED,
            reason=reason,
            created_at=_utc(now),
            done_at=None,
        )
        self.t("refunds")[refund.id] = refund
        return refund

    async def refund(self, refund_id: int) -> Refund | None:
        found: Refund | None = self.t("refunds").get(refund_id)
        return found

    async def refunds_for_order(self, order_id: int) -> list[Refund]:
        return [r for r in self._refunds() if r.order_id == order_id]

    async def refunds_for_deal(self, deal_id: int) -> list[Refund]:
        return [r for r in self._refunds() if r.deal_id == deal_id]

    async def refund_done(self, refund_id: int, now: datetime) -> bool:
        found = await self.refund(refund_id)
        if found is None or found.status is not RefundStatus.OWED:
            return False
        self.t("refunds")[refund_id] = replace(found, status=RefundStatus.DONE, done_at=_utc(now))
        return True

    async def owed_star_refunds(self, limit: int) -> list[Refund]:
        return [
            r
            for r in self._refunds()
            if r.status is RefundStatus.OWED and r.method is PaymentMethod.STARS
        ][:limit]

    def _net(self, wanted: Callable[[int, int], bool]) -> dict[int, int]:
        held: dict[int, int] = {}
        for p in self._payments():
            if p.status is PaymentStatus.RECEIVED and wanted(p.order_id, p.deal_id):
                held[p.order_id] = held.get(p.order_id, 0) + p.amount
        for r in self._refunds():
            if wanted(r.order_id, r.deal_id):
                held[r.order_id] = held.get(r.order_id, 0) - r.amount
        return held

    async def held(self, order_id: int) -> int:
        return self._net(lambda o, _: o == order_id).get(order_id, 0)

    async def held_by_order(self, deal_id: int) -> dict[int, int]:
        return self._net(lambda _, d: d == deal_id)

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
        self._fk("invoices", order_id, deal_id)
        if token in self.t("invoices") or len(token) > 64:
            raise FakeIntegrityError("invoices.token: taken or too long")
        _utc(now)
        invoice = Invoice(token, order_id, deal_id, user_id, amount, currency, True, None)
        self.t("invoices")[token] = invoice
        return invoice

    async def invoice(self, token: str) -> Invoice | None:
        found: Invoice | None = self.t("invoices").get(token)
        return found

    async def void_invoices(self, order_id: int) -> list[Invoice]:
        voided: list[Invoice] = []
        for token, inv in list(self.t("invoices").items()):
            if inv.order_id == order_id and inv.open:
                self.t("invoices")[token] = replace(inv, open=False)
                voided.append(self.t("invoices")[token])
        return voided

    async def pay_invoice(self, token: str) -> bool:
        inv = await self.invoice(token)
        if inv is None or not inv.open:
            return False
        # a paid invoice stays in the chat as Telegram's receipt: its message is not removed
        self.t("invoices")[token] = replace(inv, open=False, message_id=None)
        return True

    async def set_invoice_message(self, token: str, message_id: int) -> None:
        inv = await self.invoice(token)
        if inv is not None:
            self.t("invoices")[token] = replace(inv, message_id=message_id)

    async def invoice_messages(self, order_id: int) -> list[tuple[str, int]]:
        return [
            (inv.token, inv.message_id)
            for inv in self.t("invoices").values()
            if inv.order_id == order_id and not inv.open and inv.message_id is not None
        ]

    async def forget_invoice_message(self, token: str) -> None:
        inv = await self.invoice(token)
        if inv is not None:
            self.t("invoices")[token] = replace(inv, message_id=None)


class FakeOutbox(_Repo):
    async def add(self, notices: Sequence[Notice], now: datetime) -> None:
        now = _utc(now)
        table = self.t("outbox")
        taken = {r.key for r in table.values()}
        for n in notices:
            key = (n.kind, n.deal_id, n.chat_id, n.ref)
            if key in taken:
                continue  # ON CONFLICT DO NOTHING
            taken.add(key)
            notice_id = self._uow.store.next_id("outbox")
            table[notice_id] = OutboxRec(
                notice_id,
                n.kind,
                n.chat_id,
                n.deal_id,
                n.user_id,
                now,
                0,
                now,
                None,
                False,
                None,
                n.ref,
            )

    async def release_chat(self, chat_id: int, now: datetime) -> None:
        now = _utc(now)
        table = self.t("outbox")
        for key, r in list(table.items()):
            if r.chat_id == chat_id and not r.done and r.due_at > now:
                table[key] = replace(r, due_at=now)

    async def claim(
        self, now: datetime, limit: int, lease_seconds: int, skip_chats: Collection[int] = ()
    ) -> list[PendingNotice]:
        now = _utc(now)
        table = self.t("outbox")
        ordered = sorted(table.values(), key=lambda r: r.id)
        silent = _silent_groups(self)
        due = [
            r
            for r in ordered
            if not r.done
            and r.due_at <= now
            and r.chat_id not in skip_chats
            and r.chat_id not in silent
        ][:limit]
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

    async def extend(self, notice_ids: Collection[int], until: datetime) -> None:
        table = self.t("outbox")
        for notice_id in notice_ids:
            rec = table.get(notice_id)
            if rec is not None and not rec.done:
                table[notice_id] = replace(rec, due_at=_utc(until))

    async def failed(
        self, notice_id: int, error: str, retry_at: datetime | None, *, counted: bool = True
    ) -> None:
        rec = self.t("outbox").get(notice_id)
        if rec is None:
            return
        if not counted:
            rec = replace(rec, attempts=rec.attempts - 1)
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


@dataclass(frozen=True)
class LiveRec:
    id: int
    live: Live
    chat_id: int
    message_id: int
    subject_id: int
    version: int
    shown_version: int
    shown_hash: str


class FakeLive(_Repo):
    """Recorded messages. Marking them stale on a change is the SQL unit of work's (at commit,
    storage.live.bump): these fakes do not, and the tests of it run on the databases. An
    explicit bump of deals (what a handler says changed) is kept."""

    async def bump(self, touched: Touched) -> None:
        for key, rec in list(self.t("live").items()):
            if rec.live.deal_id in touched.deals:
                self.t("live")[key] = replace(rec, version=rec.version + 1)

    async def record(
        self, live: Live, chat_id: int, message_id: int, shown_hash: str, now: datetime
    ) -> list[int]:
        table = self.t("live")
        replaced = []
        for key, rec in list(table.items()):
            if (
                live.kind is LiveKind.CARD
                and rec.live.kind is LiveKind.CARD
                and rec.live.deal_id == live.deal_id
                and rec.subject_id in live.subjects
                and rec.chat_id == chat_id
                and rec.message_id != message_id
            ):
                replaced.append(rec.message_id)
                del table[key]
        for subject in live.subjects:
            key = (chat_id, message_id, subject)
            old = table.get(key)
            version = old.version + 1 if old else 1
            shown = old.shown_version if old else 0
            rec = LiveRec(
                old.id if old else self._uow.store.next_id("live"),
                live,
                chat_id,
                message_id,
                subject,
                version,
                shown,
                shown_hash,
            )
            table[key] = rec
        return replaced

    async def stale(self, limit: int) -> list[StaleMessage]:
        recs = sorted(self.t("live").values(), key=lambda r: r.id)
        messages = sorted({(r.chat_id, r.message_id) for r in recs if r.version > r.shown_version})
        out = []
        for chat_id, message_id in messages[:limit]:
            rows = [r for r in recs if (r.chat_id, r.message_id) == (chat_id, message_id)]
            out.append(
                StaleMessage(
                    rows[0].live.kind,
                    rows[0].live.deal_id,
                    chat_id,
                    message_id,
                    rows[0].shown_hash,
                    tuple(Shown(r.id, r.subject_id, r.version) for r in rows),
                )
            )
        return out

    async def shown(self, rows: Sequence[Shown], shown_hash: str) -> None:
        table = self.t("live")
        for key, rec in list(table.items()):
            for row in rows:
                if rec.id == row.row_id and rec.shown_version < row.version:
                    table[key] = replace(rec, shown_version=row.version, shown_hash=shown_hash)

    async def forget(self, chat_id: int, message_id: int) -> None:
        table = self.t("live")
        for key in [k for k in table if k[:2] == (chat_id, message_id)]:
            del table[key]


# ---- unit of work --------------------------------------------------------------------------


class FakeUnitOfWork:
    communities: Communities
    points: PickupPoints
    slots: Slots
    users: Users
    deals: Deals
    orders: Orders
    outbox: Outbox
    dialogs: Dialogs
    payments: Payments
    live: LiveMessages

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.committed = False
        self.communities = FakeCommunities(self)
        self.points = FakePickupPoints(self)
        self.slots = FakeSlots(self)
        self.users = FakeUsers(self)
        self.deals = FakeDeals(self)
        self.orders = FakeOrders(self)
        self.outbox = FakeOutbox(self)
        self.dialogs = FakeDialogs(self)
        self.payments = FakePayments(self)
        self.live = FakeLive(self)
        self._snapshot: dict[str, dict[Any, Any]] | None = None
        self._work: dict[str, dict[Any, Any]] | None = None
        self._after: list[Callable[[], None]] = []

    @property
    def work(self) -> dict[str, dict[Any, Any]]:
        if self._work is None:
            raise RuntimeError("use the unit of work inside 'async with'")
        return self._work

    def _begin(self) -> None:
        self._snapshot = {name: dict(self.store.tables[name]) for name in TABLES}
        self._work = {name: dict(table) for name, table in self._snapshot.items()}

    async def __aenter__(self) -> Self:
        self._guard = transaction_guard.entered()
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
        transaction_guard.left(self._guard)

    async def commit(self, *, mark: bool = True) -> None:
        assert self._snapshot is not None and self._work is not None
        self.store.commit(self._snapshot, self._work)
        self.committed = True
        self._begin()  # like a session after commit: a new transaction on fresh state
        callbacks, self._after = self._after, []
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after.append(callback)


class FakeUnitOfWorkFactory:
    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store or FakeStore()
        self.opened = 0

    def __call__(self) -> FakeUnitOfWork:
        self.opened += 1
        return FakeUnitOfWork(self.store)


# ---- builders ------------------------------------------------------------------------------


def item_spec(
    name: str = "Apples",
    *,
    price: int = 1250,
    stock: int = 10,
    limit: int | None = 3,
    tiers: tuple[Tier, ...] = (),
    case_size: int | None = None,
) -> ItemSpec:
    return ItemSpec(
        name=name,
        unit="box",
        price=price,
        stock=stock,
        limit=limit,
        tiers=tiers,
        case_size=case_size,
    )


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


def community(
    chat_id: int = -1001,
    buildings: tuple[str, ...] = ("1", "2", "3"),
    *,
    payment_mode: PaymentMode = PaymentMode.CASH,
    currency: str | None = None,
    window_minutes: int = 30,
) -> Community:
    """A set-up community; Stars communities get the XTR currency unless told otherwise."""
    return Community(
        chat_id=chat_id,
        title="Garden Court",
        buildings=buildings,
        currency=currency or ("XTR" if payment_mode is PaymentMode.STARS else "CNY"),
        configured=True,
        payment_mode=payment_mode,
        payment_window_minutes=window_minutes,
    )


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
    window: timedelta = DEFAULT_WINDOW,
) -> OrderChange:
    """change_quantity in its own unit of work; commits only if it succeeds."""
    async with factory() as uow:
        change = await change_quantity(uow, deal_id, item_id, user_id, delta, resident, now, window)
        await uow.commit()
    return change


async def cancel_committed(
    factory: UnitOfWorkFactory,
    now: datetime,
    deal_id: int,
    user_id: int,
    window: timedelta = DEFAULT_WINDOW,
) -> Deal:
    async with factory() as uow:
        deal = await cancel_order(uow, deal_id, user_id, now, window)
        await uow.commit()
    return deal


async def invoice_committed(
    factory: UnitOfWorkFactory, now: datetime, order_id: int
) -> tuple[str, int] | None:
    """issue_invoice in its own unit of work: (token, amount due), or None if none is due."""
    async with factory() as uow:
        issued = await issue_invoice(uow, order_id, now)
        await uow.commit()
    return None if issued is None else (issued[3], issued[2])


async def pay_committed(
    factory: UnitOfWorkFactory,
    now: datetime,
    token: str,
    user_id: int,
    amount: int,
    currency: str,
    charge_id: str,
) -> Received:
    """Telegram's successful_payment, recorded in its own unit of work as the handler does."""
    async with factory() as uow:
        received = await receive_payment(
            uow, token, user_id, amount, currency, charge_id, f"provider-{charge_id}", now
        )
        await uow.commit()
    return received


async def ledger(factory: UnitOfWorkFactory, deal_id: int) -> tuple[list[Payment], list[Refund]]:
    """A deal's payments and refunds as committed."""
    async with factory() as uow:
        return await uow.payments.for_deal(deal_id), await uow.payments.refunds_for_deal(deal_id)


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


async def closed_with_buyers(
    factory: UnitOfWorkFactory, now: datetime, chat: Community, close: bool = True
) -> Deal:
    """A deal of one item bought by 1001–1004: 1003 cancelled before the close, 1004 handed
    out after it (by leader 7). Left open with `close=False`."""
    spec = deal_spec(now + timedelta(days=1), item_spec("Lychee", stock=50, limit=None))
    deal = await open_deal_committed(factory, now, spec, chat)
    for user in (1001, 1002, 1003, 1004):
        await change_committed(factory, now, deal.id, deal.items[0].id, user, 1)
    await cancel_committed(factory, now, deal.id, 1003)
    if close:
        async with factory() as uow:
            assert await close_deal(uow, deal.id, CloseReason.LEADER, now) is not None
            order = await uow.orders.of_user(deal.id, 1004)
            assert order is not None
            await mark_picked_up(uow, chat.chat_id, order.code, now, by=7)
            await uow.commit()
    async with factory() as uow:
        found = await uow.deals.get(deal.id)
    assert found is not None
    return found
