"""What the use cases need from storage, as narrow Protocols; storage/ implements them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Hashable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from groupbuy.live import Live, Shown, StaleMessage, Touched
from groupbuy.model import (
    Arrival,
    BotStatus,
    CloseReason,
    Community,
    Deal,
    DealSpec,
    DealStats,
    DealStatus,
    Invoice,
    NoShow,
    Order,
    Payment,
    PaymentMethod,
    PaymentMode,
    PaymentStatus,
    PickupChange,
    PickupPoint,
    PointSpec,
    Refund,
    RefundReason,
    Resident,
    Slot,
    StalePost,
    User,
)
from groupbuy.notices import Notice, PendingNotice

T = TypeVar("T")


class Communities(Protocol):
    async def get(self, chat_id: int) -> Community | None: ...
    async def save(self, community: Community) -> None: ...
    async def configured(self, limit: int) -> list[Community]: ...
    async def record_admins(self, chat_id: int, user_ids: frozenset[int], now: datetime) -> None:
        """A group's admins as Telegram just listed them (replacing what was recorded; rows
        that stay the same are not rewritten)."""
        ...

    async def records_admin(self, chat_id: int, user_id: int) -> bool:
        """Whether this person was last recorded administering the group."""
        ...

    async def record_admin(self, chat_id: int, user_id: int, admin: bool, now: datetime) -> None:
        """One person promoted or demoted (a chat_member update)."""
        ...

    async def set_bot_status(self, chat_id: int, status: BotStatus) -> BotStatus | None:
        """Record the bot's standing in the group; what it was, or None if nothing changed."""
        ...

    async def move(self, old: int, new: int) -> list[int] | None:
        """Telegram moved the group to a new chat id: everything addressed to the old id moves
        to the new one. The open deals whose post was up (gone with the old chat); None, and
        nothing changed, when there is nothing at the old id (moved already)."""
        ...

    async def led_by(self, user_id: int) -> list[Community]:
        """Set-up communities whose group this person was last recorded administering: whom a
        private /newdeal or /pickup may concern, found without asking Telegram."""
        ...


class PickupPoints(Protocol):
    """A community's pickup points. Removed ones stay readable for the deals that offer them."""

    async def add(self, community_id: int, spec: PointSpec, now: datetime) -> PickupPoint: ...
    async def of_community(self, community_id: int) -> list[PickupPoint]:
        """Its points that new deals may offer, in the order they were added."""
        ...

    async def many(self, point_ids: Collection[int]) -> dict[int, PickupPoint]: ...
    async def remove(self, point_id: int, now: datetime) -> bool:
        """False: it was removed already (or never was)."""
        ...


class Slots(Protocol):
    """A deal's pickup slots; a slot's `booked` counts the active orders that hold it."""

    async def set(
        self, deal_id: int, stretches: Sequence[tuple[datetime, datetime]], capacity: int
    ) -> list[Slot]:
        """The deal's slots are these from now on (the caller checked none is held)."""
        ...

    async def of_deal(self, deal_id: int) -> list[Slot]:
        """Its slots in time order."""
        ...

    async def lock(self, deal_id: int, slot_id: int) -> Slot | None:
        """The deal's slot, its row locked until the transaction ends, so that the count of
        seats taken read with it stays true for a booking; None: not a slot of the deal."""
        ...

    async def reminders_due(self, until: datetime, limit: int) -> list[Slot]:
        """Slots of closed deals starting before `until` whose buyers were not reminded."""
        ...

    async def claim_reminder(self, slot_id: int, now: datetime) -> bool:
        """Mark it reminded; False when it was already."""
        ...


class Users(Protocol):
    async def get(self, user_id: int) -> User | None: ...
    async def seen(self, user: User) -> User:
        """Record a user's Telegram profile; keeps the chosen locale; `started` never goes back."""
        ...

    async def set_locale(self, user_id: int, locale: str | None) -> None: ...
    async def resident(self, community_id: int, user_id: int) -> Resident | None: ...
    async def save_resident(self, resident: Resident) -> None:
        """Their address; the pickup point they chose last is remember_point's."""
        ...

    async def remember_point(self, community_id: int, user_id: int, point_id: int) -> None: ...
    async def residents(
        self, community_id: int, user_ids: Sequence[int]
    ) -> dict[int, Resident]: ...
    async def many(self, user_ids: Sequence[int]) -> dict[int, User]: ...


class Deals(Protocol):
    async def leave_topic(self, community_id: int, thread_id: int) -> list[int]:
        """The group's deals in this forum topic go to General (the topic was closed or
        deleted); their ids."""
        ...

    async def add(
        self,
        community_id: int,
        leader_id: int,
        currency: str,
        spec: DealSpec,
        now: datetime,
        remind_at: datetime | None,
        payment_mode: PaymentMode = PaymentMode.CASH,
    ) -> Deal: ...
    async def get(self, deal_id: int) -> Deal | None: ...
    async def get_for(self, deal_id: int, user_id: int) -> tuple[Deal, Resident | None] | None:
        """The deal, and where the user lives in its community (None: no profile there yet),
        in one read: what a resident's press needs first."""
        ...

    async def set_post(self, deal_id: int, chat_id: int, message_id: int) -> None: ...
    async def reserve(self, deal_id: int, item_id: int, quantity: int) -> int | None:
        """Take `quantity` of an item's stock in one conditional UPDATE: the units left after it,
        or None when not enough were left (0 is a success: the last units)."""
        ...

    async def release(self, deal_id: int, item_id: int, quantity: int) -> None: ...
    async def fix_prices(self, deal_id: int, prices: dict[int, int]) -> None:
        """Tiered items' prices as the close fixed them, by item id."""
        ...

    async def wait_for_cases(self, deal_id: int, deadline: datetime) -> None:
        """Keep the deal open until `deadline` to fill its cases; the close then rounds down."""
        ...

    async def all_taken(self, deal_id: int) -> bool:
        """No item has stock left (one cheap query, asked when a join took an item's last units)."""
        ...

    async def move(
        self,
        deal_id: int,
        src: DealStatus,
        dst: DealStatus,
        now: datetime,
        reason: CloseReason | None,
    ) -> bool:
        """Conditional status change; False if the deal was not in `src` (someone else won)."""
        ...

    async def due(self, now: datetime, limit: int) -> list[int]: ...
    async def claim_reminder(self, deal_id: int) -> bool:
        """Mark the reminder sent if it was not and the deal is open; False otherwise."""
        ...

    async def reminders_due(self, now: datetime, limit: int) -> list[int]: ...
    async def open_deals(self) -> list[Deal]: ...
    async def for_community(
        self, community_id: int, statuses: Sequence[DealStatus], limit: int
    ) -> list[Deal]: ...
    async def begin_change(self, deal_id: int) -> bool:
        """Bump the post version of an OPEN deal (so the post refresher edits it), locking its row.

        Every change to an open deal starts here; a deal closed meanwhile answers False. On
        PostgreSQL the row lock orders joins against a concurrent close.
        """
        ...

    async def touch_post(self, deal_id: int) -> None:
        """Bump the post version whatever the status (the post shows the closed form)."""
        ...

    async def stale_posts(self, limit: int, after: int = 0) -> list[StalePost]:
        """Posts whose shown version is behind, by deal id, from the first deal after `after`
        (a cursor: the refresher goes round all of them, not only the first `limit`)."""
        ...

    async def post_synced(self, deal_id: int, version: int) -> None: ...
    async def claim_unpaid_reminder(self, deal_id: int, now: datetime, every: timedelta) -> bool:
        """The leader's 'remind unpaid': True at most once per `every` per deal."""
        ...

    async def stats(self, deal_id: int) -> DealStats: ...
    async def arrive(self, arrival: Arrival) -> bool:
        """Record that the goods arrived, once per deal and point: False (and nothing
        changed) when it was recorded before."""
        ...

    async def arrival(self, deal_id: int, point: int) -> Arrival | None: ...
    async def change_pickup(
        self, deal_id: int, place: str, window: str, now: datetime, by: int
    ) -> PickupChange:
        """Move the deal's pickup and record the change, from what it was; the post is bumped
        (it shows the pickup)."""
        ...

    async def pickup_change(self, change_id: int) -> PickupChange | None: ...
    async def claim_pickup_reminder(self, deal_id: int, now: datetime, every: timedelta) -> bool:
        """The leader's 'remind them all' to pick up: True at most once per `every` per deal."""
        ...

    async def add_spare(self, deal_id: int, item_id: int, quantity: int) -> None:
        """Units of an order nobody came for are left with the leader (the deal's spare)."""
        ...

    async def spare(self, deal_id: int) -> dict[int, int]:
        """The goods left with the leader: units by item."""
        ...


@dataclass(frozen=True, slots=True)
class SheetEntry:
    """One order on a deal's pickup list, with everything the list shows of it."""

    order: Order  # its lines with units only
    resident: Resident | None  # where the buyer lives (None: no profile in the community)
    buyer: User | None
    handed_out_by: User | None  # the leader who handed it out
    held: int  # money received for it, less refunds
    claimed: int  # transfers reported and not yet confirmed
    held_back: tuple[tuple[int, int], ...] = ()  # (item, units) still to hand out, by item


class PickupSheet(Protocol):
    """A deal's pickup list as read in one statement. Neither method touches the database, so
    both may run off the event loop, where the list is drawn."""

    def entries(self) -> Iterator[SheetEntry]:
        """The orders with at least one unit, by building, unit and room as stored (natural
        order is the drawing's business), then by order."""
        ...

    def fingerprint(self) -> Hashable:
        """Equal for two reads that would draw the same list."""
        ...


@dataclass(frozen=True, slots=True)
class Taken:
    """What `Orders.take` came to; each None is a refusal, and the caller rolls back."""

    order: Order | None  # the order as it was before (made empty if new); None: deal not open
    quantity: int | None = None  # the line after it; None: beyond the per-person limit
    left: int | None = None  # the item's units left after it; None: not that many left


class Orders(Protocol):
    async def get(self, order_id: int) -> Order | None: ...
    async def of_user(self, deal_id: int, user_id: int) -> Order | None: ...
    async def open_order(
        self, deal_id: int, community_id: int, user_id: int, now: datetime
    ) -> Order:
        """The user's order in a deal, created empty with a fresh pickup code if absent."""
        ...

    async def change_line(
        self, order_id: int, item_id: int, delta: int, limit: int | None
    ) -> int | None:
        """Add `delta` to a line in one conditional statement keeping 0 <= quantity <= limit:
        the line's quantity after it, or None when refused (0 is a success: emptied)."""
        ...

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
        """A join's writes, in this order, each stopping at its refusal: the deal locked for
        the change while open (`Deals.begin_change`), the user's order (`open_order`), its line
        raised within the limit (`change_line`), the stock taken (`Deals.reserve`). What
        `groupbuy.orders.take_in_steps` does; PostgreSQL does it in one statement for a new
        order."""
        ...

    async def watch(
        self, user_id: int, community_id: int, deal_id: int, names: Collection[str], now: datetime
    ) -> None:
        """Tell this person when an item named so is open again (groupbuy.reorder); once."""
        ...

    async def watchers(self, community_id: int) -> list[tuple[int, int, tuple[str, ...]]]:
        """Who waits in the community: (user, the deal they bought in, the items' names)."""
        ...

    async def unwatch(self, user_id: int, deal_id: int) -> None: ...

    async def for_deal(self, deal_id: int) -> list[Order]:
        """Orders with at least one unit, in creation order."""
        ...

    async def pickup_sheet(self, deal_id: int, only: Collection[int] | None = None) -> PickupSheet:
        """The deal's pickup list (of the orders in `only`, when given) in one statement."""
        ...

    async def active_for_user(self, user_id: int, limit: int) -> list[tuple[Deal, Order]]: ...
    async def by_code(self, community_id: int, code: str) -> Order | None: ...
    async def set_point(self, order_id: int, point_id: int) -> None: ...
    async def set_slot(self, order_id: int, slot_id: int | None) -> None: ...
    async def set_delivery(self, order_id: int, delivery: bool) -> None: ...
    async def mark_picked_up(self, order_id: int, now: datetime, by: int) -> bool: ...
    async def hold_back(self, order_id: int, item_id: int, quantity: int) -> bool:
        """A line of a handed-out order is to be handed out later (partial pickup): False
        when it was held back already."""
        ...

    async def held_back(self, order_id: int) -> dict[int, int]:
        """The order's lines still to be handed out: units by item."""
        ...

    async def held_back_orders(self, deal_id: int) -> set[int]:
        """The deal's orders handed out in part: something of theirs is still to come for."""
        ...

    async def hand_rest(self, order_id: int) -> dict[int, int]:
        """The lines held back are handed out now: what they were (empty: none were)."""
        ...

    async def decide_no_show(self, decision: NoShow) -> bool:
        """Record what became of an order nobody came for, in one statement: False (nothing
        changed) when it was decided before, unless that was MOVED and this one is final."""
        ...

    async def no_shows(self, deal_id: int) -> dict[int, NoShow]:
        """The decisions on a deal's orders nobody came for, by order."""
        ...

    async def set_pay_by(self, order_id: int, pay_by: datetime | None) -> None:
        """Start (or end, with None) the hold on an order's unpaid units; re-arms its reminder."""
        ...

    async def cover(self, order_id: int) -> None:
        """Money now covers the order: every line's paid_quantity becomes its quantity."""
        ...

    async def uncover(self, order_id: int) -> None:
        """Money no longer covers anything (all refunded): every paid_quantity becomes 0."""
        ...

    async def cap_paid(self, order_id: int) -> None:
        """paid_quantity = min(paid_quantity, quantity) on every line, after a reduction."""
        ...

    async def revert_to_paid(self, order_id: int) -> list[tuple[int, int]]:
        """Drop the unpaid units (quantity = paid_quantity); returns (item_id, units dropped)."""
        ...

    async def lapsing(self, now: datetime, limit: int) -> list[int]:
        """Orders in open deals whose payment hold has ended."""
        ...

    async def pay_reminders_due(self, now: datetime, lead: timedelta, limit: int) -> list[int]:
        """Orders whose hold ends within `lead` and whose reminder has not been sent."""
        ...

    async def claim_pay_reminder(self, order_id: int) -> bool: ...
    async def want_invoice(self, order_id: int) -> None:
        """Ask the background to (re)issue this order's invoice: changes coalesce."""
        ...

    async def invoices_wanted(self, limit: int) -> list[tuple[int, int]]:
        """(order_id, version) of orders waiting for a fresh invoice."""
        ...

    async def invoice_issued(self, order_id: int, version: int) -> None: ...


class Payments(Protocol):
    """The money ledger: payments received or claimed, refunds owed or done, invoices."""

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
        """Record a payment; None if its charge id was recorded before (a duplicate update)."""
        ...

    async def get(self, payment_id: int) -> Payment | None: ...
    async def by_charge(self, charge_id: str) -> Payment | None: ...
    async def for_order(self, order_id: int) -> list[Payment]: ...
    async def for_deal(self, deal_id: int) -> list[Payment]: ...
    async def decide(self, payment_id: int, status: PaymentStatus, now: datetime) -> bool:
        """A leader's decision on a claimed payment; False unless it was still CLAIMED."""
        ...

    async def attach_photo(self, payment_id: int, photo_file_id: str) -> None: ...
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
    ) -> Refund: ...
    async def refund(self, refund_id: int) -> Refund | None: ...
    async def refunds_for_order(self, order_id: int) -> list[Refund]: ...
    async def refunds_for_deal(self, deal_id: int) -> list[Refund]: ...
    async def refund_done(self, refund_id: int, now: datetime) -> bool:
        """OWED → DONE, once; False if it was already done."""
        ...

    async def owed_star_refunds(self, limit: int) -> list[Refund]: ...
    async def held(self, order_id: int) -> int:
        """Money received for an order minus its refunds (owed or done)."""
        ...

    async def touched(self, order_id: int) -> bool:
        """Has any money (received, claimed, refunded) ever concerned this order?"""
        ...

    async def held_by_order(self, deal_id: int) -> dict[int, int]: ...
    async def add_invoice(
        self,
        token: str,
        order_id: int,
        deal_id: int,
        user_id: int,
        amount: int,
        currency: str,
        now: datetime,
    ) -> Invoice: ...
    async def invoice(self, token: str) -> Invoice | None: ...
    async def void_invoices(self, order_id: int) -> list[Invoice]:
        """Close every open invoice of an order (it changed); returns them."""
        ...

    async def pay_invoice(self, token: str) -> bool:
        """OPEN → paid, once."""
        ...

    async def set_invoice_message(self, token: str, message_id: int) -> None: ...
    async def invoice_messages(self, order_id: int) -> list[tuple[str, int]]:
        """(token, message id) of an order's dead (voided) invoices still shown in the chat."""
        ...

    async def forget_invoice_message(self, token: str) -> None: ...


class Outbox(Protocol):
    async def add(self, notices: Sequence[Notice], now: datetime) -> None: ...
    async def claim(
        self, now: datetime, limit: int, lease_seconds: int, skip_chats: Collection[int] = ()
    ) -> list[PendingNotice]: ...
    async def extend(self, notice_ids: Collection[int], until: datetime) -> None: ...
    async def release_chat(self, chat_id: int, now: datetime) -> None:
        """What waits for this chat (held while the bot could not write there) is due now."""
        ...

    async def sent(self, notice_id: int, now: datetime) -> None: ...
    async def failed(
        self, notice_id: int, error: str, retry_at: datetime | None, *, counted: bool = True
    ) -> None: ...


class LiveMessages(Protocol):
    """The messages kept current (groupbuy.live)."""

    async def record(
        self, live: Live, chat_id: int, message_id: int, shown_hash: str, now: datetime
    ) -> list[int]:
        """The message shows `live` as `shown_hash` says; checked once more by the refresher,
        so a change made while it was on its way is not missed. A new order card replaces the
        resident's older one for the deal: their message ids come back (to be deleted)."""
        ...

    async def stale(self, limit: int) -> list[StaleMessage]: ...
    async def shown(self, rows: Sequence[Shown], shown_hash: str) -> None:
        """The message now shows its subjects as they were at these versions."""
        ...

    async def forget(self, chat_id: int, message_id: int) -> None:
        """The message is gone (deleted, too old to edit): no longer kept."""
        ...

    async def bump(self, touched: Touched) -> None:
        """The messages showing what `touched` names are stale. The unit of work does this at
        commit for what its repositories changed; a change they do not see (a community's
        pay-the-leader details, shown on its order cards) says so itself."""
        ...


class Dialogs(Protocol):
    """Multi-step conversations keep their state in the database, not in process memory."""

    async def get(self, user_id: int) -> tuple[str, dict[str, Any]] | None: ...
    async def save(self, user_id: int, state: str, data: dict[str, Any], now: datetime) -> None: ...
    async def clear(self, user_id: int) -> None: ...


class UnitOfWork(Protocol):
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

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Rolls back unless commit() was called."""
        ...

    async def commit(self, *, mark: bool = True) -> None:
        """`mark=False`: the commit does not carry the update being handled
        (groupbuy.delivery): only for what may be done twice, as recording who wrote."""
        ...

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once what this unit of work committed is in the database for good (under
        group commit: after the batch's COMMIT); never if it rolls back. For caches of rows."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class Writer(Protocol):
    """Runs a piece of work in a unit of work of its own and hands back what it returns. The work
    commits, or not, as any user of a unit of work does. A writer may run several pieces of work
    one after another in one database transaction (group commit), each in a savepoint of its own,
    but never interleaved: to the work it looks exactly like a unit of work alone."""

    async def __call__(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T: ...
