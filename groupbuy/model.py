"""The group-buy domain: communities, deals with items, residents' orders."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum


class DealStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # formed: the minimum was reached, goods will be handed out
    FAILED = "failed"  # the minimum to form was not reached by the deadline
    CANCELLED = "cancelled"  # a leader cancelled it


class CloseReason(StrEnum):
    DEADLINE = "deadline"
    SOLD_OUT = "sold_out"
    LEADER = "leader"


class PaymentMode(StrEnum):
    """How a community's residents pay; a deal keeps the mode it was opened with."""

    CASH = "cash"  # cash on pickup, confirmed by the leader when handing out
    LEADER = "leader"  # transfer to the leader; the resident says so, the leader confirms
    ONLINE = "online"  # Telegram Payments with a provider (card)
    STARS = "stars"  # Telegram Stars (XTR), for digital items or service fees

    @property
    def invoiced(self) -> bool:
        """Paid through Telegram invoices, with a payment window per order."""
        return self in (PaymentMode.ONLINE, PaymentMode.STARS)


class MinimumKind(StrEnum):
    NONE = "none"
    PARTICIPANTS = "participants"
    QUANTITY = "quantity"


# Which status a deal may move to from which; anything else is refused.
TRANSITIONS: dict[DealStatus, frozenset[DealStatus]] = {
    DealStatus.OPEN: frozenset({DealStatus.CLOSED, DealStatus.FAILED, DealStatus.CANCELLED}),
    DealStatus.CLOSED: frozenset(),
    DealStatus.FAILED: frozenset(),
    DealStatus.CANCELLED: frozenset(),
}


def can_move(src: DealStatus, dst: DealStatus) -> bool:
    return dst in TRANSITIONS[src]


class BotStatus(StrEnum):
    """The bot's standing in a community's group, as Telegram last said (my_chat_member, or a
    403 when the bot wrote there)."""

    ADMINISTRATOR = "administrator"
    MEMBER = "member"  # posts, but hears no chat_member updates
    MUTED = "muted"  # restricted: may not send messages
    KICKED = "kicked"
    LEFT = "left"

    @property
    def can_post(self) -> bool:
        return self in (BotStatus.ADMINISTRATOR, BotStatus.MEMBER)


@dataclass(frozen=True, slots=True)
class Community:
    chat_id: int
    title: str
    name: str = ""
    buildings: tuple[str, ...] = ()
    currency: str = "CNY"
    timezone: str = "Asia/Shanghai"
    locale: str = "en"
    configured: bool = False
    payment_mode: PaymentMode = PaymentMode.CASH
    payment_window_minutes: int = 30
    bot_status: BotStatus = BotStatus.MEMBER
    topic_id: int | None = None  # the forum topic deals go to by default (None: General)
    # Pay-the-leader mode: how residents pay (the leader's words: a WeChat/Alipay id, a bank
    # account) and the Telegram file id of a photo of their collection code (收款码).
    payee: str = ""
    payee_photo: str | None = None

    @property
    def can_post(self) -> bool:
        """Whether the bot may send to the group: nothing is sent there while it may not."""
        return self.bot_status.can_post

    def set_in(self, thread_id: int | None) -> Community:
        """A setting sent in a forum topic makes it the topic the community's deals go to."""
        return self if thread_id is None else replace(self, topic_id=thread_id)


@dataclass(frozen=True, slots=True)
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    locale: str | None = None  # chosen with /lang; None follows Telegram's language
    started: bool = False  # has a private chat with the bot, so the bot may write first

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass(frozen=True, slots=True)
class Resident:
    community_id: int
    user_id: int
    building: str
    unit: str
    room: str
    phone: str | None = None
    point: int | None = None  # the pickup point they chose last in the community


@dataclass(frozen=True, slots=True)
class PointSpec:
    """A pickup point as a leader describes it, validated (groupbuy.pickup_points)."""

    name: str
    address: str = ""
    hours: str = ""  # opening hours, in the leader's words
    latitude: float | None = None  # a map location, sent with sendVenue when known
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class PickupPoint:
    """A place where a community's residents pick up: the property office, a shop, a lobby."""

    id: int
    community_id: int
    name: str
    address: str = ""
    hours: str = ""
    latitude: float | None = None
    longitude: float | None = None
    removed: bool = False  # new deals no longer offer it; those that did keep it

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True, slots=True)
class Slot:
    """A stretch of a deal's pickup window with a number of seats (e.g. 18:00–18:30, 25):
    buyers book one so that the table is never crowded (groupbuy.slots)."""

    id: int
    deal_id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int = 0  # active orders that hold a seat in it

    @property
    def left(self) -> int:
        return max(self.capacity - self.booked, 0)


@dataclass(frozen=True, slots=True)
class Arrival:
    """The leader said a deal's goods are here, ready to be picked up (到货): once, at `at`."""

    deal_id: int
    point: int  # the pickup point (0: the deal's own pickup place)
    at: datetime
    by: int  # the leader who said so


class NoShowOutcome(StrEnum):
    """What the leader decided for an order nobody came for (groupbuy.no_shows)."""

    NOT_COLLECTED = "not_collected"  # nothing was paid: the goods go to the leader's spare
    MOVED = "moved"  # kept for the buyer until the next pickup
    REFUNDED = "refunded"  # the money goes back, the goods to the leader's spare


@dataclass(frozen=True, slots=True)
class NoShow:
    order_id: int
    deal_id: int
    outcome: NoShowOutcome
    at: datetime
    by: int  # the leader who decided


@dataclass(frozen=True, slots=True)
class PickupChange:
    """The leader moved a closed deal's pickup (place, window or both): what it was, what it is."""

    id: int
    deal_id: int
    old_place: str
    old_window: str
    place: str
    window: str
    at: datetime
    by: int


@dataclass(frozen=True, slots=True)
class Tier:
    """A lower price for every unit of an item once the deal's buyers hold `from_quantity`
    units of it (阶梯价, groupbuy.tiers)."""

    from_quantity: int
    price: int


@dataclass(frozen=True, slots=True)
class ItemSpec:
    name: str
    unit: str
    price: int  # minor units of the deal's currency
    stock: int
    limit: int | None = None  # per person
    tiers: tuple[Tier, ...] = ()  # lower prices from more units, in order
    case_size: int | None = None  # the supplier sells it by the case of this many (整箱)


class CaseRule(StrEnum):
    """What the close does with an item's last case when it is not full (groupbuy.cases)."""

    DOWN = "down"  # cut the units beyond the last full case, the latest orders first, refunded
    UP = "up"  # the leader buys the whole case and keeps the spare units
    WAIT = "wait"  # stay open `case_wait` more hours to fill it, then round down


@dataclass(frozen=True, slots=True)
class DealSpec:
    """Everything a leader gives to open a deal, validated."""

    title: str
    description: str
    items: tuple[ItemSpec, ...]
    deadline: datetime
    pickup_place: str
    pickup_window: str
    minimum_kind: MinimumKind = MinimumKind.NONE
    minimum: int = 0
    buildings: tuple[str, ...] = ()  # empty: every building
    photo_file_id: str | None = None
    open_link: bool = False  # anyone with a deep link may join, not only the group's members
    thread_id: int | None = None  # the forum topic it is posted in (None: General, no forum)
    points: tuple[int, ...] = ()  # the community's pickup points it offers (empty: the place)
    delivery_fee: int | None = None  # the leader delivers to the door for this (None: no)
    delivery_free_from: int | None = None  # items worth this much are delivered free
    # Pickup slots set with the deal (each one's start and end), `slot_seats` seats each.
    slots: tuple[tuple[datetime, datetime], ...] = ()
    slot_seats: int = 0
    # Items sold by the case: what the close does with a last case not full, and how full
    # (in percent) a last case may be to count as full anyway (Foodsoft's tolerance).
    case_rule: CaseRule = CaseRule.DOWN
    case_wait: int = 0  # hours, for CaseRule.WAIT
    case_tolerance: int = 100


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    deal_id: int
    position: int
    name: str
    unit: str
    price: int
    stock: int
    limit: int | None
    sold: int
    tiers: tuple[Tier, ...] = ()  # `price` is the first tier's, from one unit
    # A tiered item's price as the close fixed it: units given back after it (a shortfall, a
    # no-show) do not make the rest dearer.
    fixed_price: int | None = None
    case_size: int | None = None  # sold by the case of this many (整箱)

    @property
    def remaining(self) -> int:
        return self.stock - self.sold

    @property
    def full_cases(self) -> int:
        return self.sold // self.case_size if self.case_size else 0

    @property
    def case_short(self) -> int:
        """How many more units fill the case being filled (0: every case begun is full)."""
        return -self.sold % self.case_size if self.case_size else 0

    def price_for(self, quantity: int) -> int:
        """A unit's price when the deal's buyers hold `quantity` units of the item."""
        price = self.price
        for tier in self.tiers:
            if quantity >= tier.from_quantity:
                price = tier.price
        return price

    @property
    def unit_price(self) -> int:
        """What every unit costs now: the price of the tier the deal has reached. Every money
        rule counts with it; the close fixes it."""
        if self.fixed_price is not None:
            return self.fixed_price
        return self.price_for(self.sold) if self.tiers else self.price

    def crossed(self, delta: int) -> bool:
        """Whether the last `delta` units taken (given back: negative) moved it to another tier
        (`sold` counts them already)."""
        return self.fixed_price is None and self.price_for(self.sold - delta) != self.unit_price

    @property
    def next_tier(self) -> Tier | None:
        return next((t for t in self.tiers if t.from_quantity > self.sold), None)


@dataclass(frozen=True, slots=True)
class Deal:
    id: int
    community_id: int
    leader_id: int
    title: str
    description: str
    currency: str
    deadline: datetime
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
    items: tuple[Item, ...] = field(default=())
    payment_mode: PaymentMode = PaymentMode.CASH
    open_link: bool = False  # anyone with a deep link may join, not only the group's members
    thread_id: int | None = None  # the forum topic it is posted in (None: General, no forum)
    # The community's pickup points it offers, in the leader's order; empty: its pickup place.
    points: tuple[int, ...] = ()
    # Delivery by the leader (团长配送) to the buyer's door, for a fee (None: not offered),
    # free for an order whose items are worth `delivery_free_from` or more.
    delivery_fee: int | None = None
    delivery_free_from: int | None = None
    case_rule: CaseRule = CaseRule.DOWN  # a last case not full, at the close (DealSpec)
    case_wait: int = 0
    case_tolerance: int = 100

    def delivery_cost(self, items: int) -> int:
        """What delivering an order whose items are worth `items` costs its buyer."""
        if self.delivery_fee is None:
            return 0
        if self.delivery_free_from is not None and items >= self.delivery_free_from:
            return 0
        return self.delivery_fee

    def item(self, item_id: int) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)

    @property
    def sold_out(self) -> bool:
        return all(i.remaining <= 0 for i in self.items)

    def open_to(self, building: str) -> bool:
        return not self.buildings or building in self.buildings


@dataclass(frozen=True, slots=True)
class OrderLine:
    item_id: int
    quantity: int
    paid_quantity: int = 0  # units covered by money received (invoiced modes)


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    deal_id: int
    user_id: int
    code: str
    lines: tuple[OrderLine, ...]
    picked_up_at: datetime | None = None
    pay_by: datetime | None = None  # invoiced modes: the hold on unpaid units ends then
    picked_up_by: int | None = None  # the leader who handed it out
    point: int | None = None  # the pickup point it is collected at (one of the deal's points)
    slot: int | None = None  # the pickup slot its buyer booked (groupbuy.slots)
    delivery: bool = False  # the leader delivers it to the buyer's door (for the deal's fee)

    def quantity(self, item_id: int) -> int:
        return next((ln.quantity for ln in self.lines if ln.item_id == item_id), 0)

    @property
    def total_quantity(self) -> int:
        return sum(ln.quantity for ln in self.lines)

    @property
    def active(self) -> bool:
        return self.total_quantity > 0

    def waits(self, held_back: bool) -> bool:
        """Something of it is still to be picked up: it has units, and it was not handed out,
        or only in part (`held_back`: a line of it is held back for later). The one rule for
        arrival notices, reminders, moved pickups and the no-shows list."""
        return self.active and (self.picked_up_at is None or held_back)

    def items_amount(self, deal: Deal) -> int:
        prices = {i.id: i.unit_price for i in deal.items}
        return sum(prices[ln.item_id] * ln.quantity for ln in self.lines)

    def fee(self, deal: Deal) -> int:
        """The delivery fee it owes: delivered, with something to deliver, below the deal's
        free-delivery total."""
        if not self.delivery or not self.active:
            return 0
        return deal.delivery_cost(self.items_amount(deal))

    def amount(self, deal: Deal) -> int:
        """What it costs: its items, and its delivery fee. Every money rule (what is due, held,
        invoiced, refunded) is counted from this."""
        return self.items_amount(deal) + self.fee(deal)

    def paid_amount(self, deal: Deal) -> int:
        """What the units marked paid are worth at the price now (a tier that rises unmarks
        them when the order no longer holds that much: groupbuy.payments._mark_paid)."""
        prices = {i.id: i.unit_price for i in deal.items}
        return sum(prices[ln.item_id] * ln.paid_quantity for ln in self.lines)


@dataclass(frozen=True, slots=True)
class StalePost:
    """A deal post that shows an older version of its deal than the database holds."""

    deal_id: int
    version: int
    chat_id: int
    open: bool  # False: the deal just ended, and its post still invites joins


@dataclass(frozen=True, slots=True)
class DealStats:
    participants: int
    quantity: int
    paid: int = 0  # orders whose money covers them


class PaymentMethod(StrEnum):
    TELEGRAM = "telegram"  # a provider payment through Telegram (card)
    STARS = "stars"
    TRANSFER = "transfer"  # to the leader, confirmed by them
    CASH = "cash"  # at pickup, confirmed by the leader


class PaymentStatus(StrEnum):
    RECEIVED = "received"
    CLAIMED = "claimed"  # the resident says they paid the leader; awaiting confirmation
    REJECTED = "rejected"


class RefundStatus(StrEnum):
    OWED = "owed"
    DONE = "done"


class RefundReason(StrEnum):
    FAILED = "failed"  # the deal missed its minimum
    CANCELLED = "cancelled"  # the leader cancelled the deal
    REDUCED = "reduced"  # the resident lowered or cancelled their order
    SHORTFALL = "shortfall"  # fewer goods arrived than were sold
    LATE = "late"  # money arrived for an order that had lapsed or a deal that ended
    MISMATCH = "mismatch"  # not the invoice's payer, amount or currency: never credited
    NO_SHOW = "no_show"  # the buyer never came for the goods, and the leader gave the money back
    TIER = "tier"  # the deal closed at a lower price tier than the one paid for
    CASE = "case"  # the units beyond the last full case were cut at the close


@dataclass(frozen=True, slots=True)
class Payment:
    id: int
    order_id: int
    deal_id: int
    user_id: int
    method: PaymentMethod
    status: PaymentStatus
    amount: int
    currency: str
    charge_id: str | None
    provider_charge_id: str | None
    photo_file_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Refund:
    id: int
    order_id: int
    deal_id: int
    user_id: int
    payment_id: int | None
    amount: int
    currency: str
    method: PaymentMethod  # STARS: made through the Bot API; anything else: by the leader
    status: RefundStatus
    reason: RefundReason
    created_at: datetime
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class Invoice:
    token: str  # the opaque payload Telegram hands back
    order_id: int
    deal_id: int
    user_id: int
    amount: int
    currency: str
    open: bool
    message_id: int | None


def minimum_reached(deal: Deal, stats: DealStats) -> bool:
    if deal.minimum_kind is MinimumKind.PARTICIPANTS:
        return stats.participants >= deal.minimum
    if deal.minimum_kind is MinimumKind.QUANTITY:
        return stats.quantity >= deal.minimum
    return stats.participants > 0
