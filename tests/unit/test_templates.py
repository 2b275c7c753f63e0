"""Every message template renders in every locale, with realistic facts, as Telegram-valid HTML.

A template with no sample context here fails `test_every_template_has_a_sample`, so a new
message cannot ship without being rendered at least once in English and in Chinese.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from groupbuy import limits
from groupbuy.allotment import Cut
from groupbuy.deal_text import parse_deal
from groupbuy.model import (
    CaseRule,
    CloseReason,
    Community,
    Deal,
    DealStats,
    DealStatus,
    Item,
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
    Refund,
    RefundReason,
    RefundStatus,
    Resident,
    Slot,
    Tier,
    User,
)
from groupbuy.payments import Standing
from messages import catalog
from messages.i18n import LOCALES
from messages.pickup_list import PickupLine, PickupRow
from messages.render import TEMPLATES, Renderer
from sandbox.errors import ApiError
from sandbox.html_check import parse_html

TELEGRAM_MESSAGE_MAX = 4096
CALLBACK_ANSWER_MAX = 200  # answerCallbackQuery text: toasts and error alerts
BUTTON_LABEL_MAX = 30
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
DEADLINE = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
HTML_MARKER = "<tt>&"  # in every user text of the "html" variant: must come out escaped


@dataclass(frozen=True)
class Texts:
    """What people type: deal titles, names, places. One variant per language, plus hostile HTML."""

    title: str
    description: str
    items: tuple[tuple[str, str], ...]  # (name, unit)
    place: str
    window: str
    community: str
    group_title: str
    first_name: str
    last_name: str
    buildings: tuple[str, ...]
    unit: str
    room: str
    payee: str  # a leader's pay-the-leader details (/payee)


VARIANTS = {
    "en": Texts(
        title="Fresh milk",
        description="Bright Farm, 1 L bottles, delivered Saturday morning",
        items=(("Milk 1L", "bottle"), ("Yogurt", "cup")),
        place="Property office, gate 2",
        window="Sat 9:00–11:00",
        community="Sunny Gardens",
        group_title="Sunny Gardens Neighbours",
        first_name="Alice",
        last_name="Smith",
        buildings=("1", "2", "3A"),
        unit="2",
        room="1203",
        payee="WeChat Pay: Alice Smith, 138 0000 0000",
    ),
    "zh": Texts(
        title="光明鲜牛奶团购",
        description="光明牧场直供，1升装，周六上午到货",
        items=(("鲜牛奶1L", "瓶"), ("原味酸奶", "杯")),
        place="物业办公室，2号门",
        window="周六 9:00–11:00",
        community="阳光花园",
        group_title="阳光花园业主群",
        first_name="小明",
        last_name="王",
        buildings=("1", "2", "3A"),
        unit="2",
        room="1203",
        payee="微信或支付宝：王小明，138 0000 0000",
    ),
    "html": Texts(
        title="Milk <tt>& honey</tt> <b>&",
        description='<i>Fresh</i> <tt>& "cold"</tt> <script>alert(1)</script> &amp;',
        items=(("Eggs <tt>& <b>ham", "<tt>&box"), ("<b>&</b> tea <tt>&", "cup<tt>&")),
        place="Gate <tt>& 2",
        window="<b>&</b> <tt>& Sat 9:00",
        community="<tt>& Gardens",
        group_title="<tt>& Group</b>",
        first_name="<tt>&Eve",
        last_name="<i>",
        buildings=("1<tt>&", "2"),
        unit="<tt>&",
        room="<tt>&1",
        payee="<tt>& pay <b>me",
    ),
}

# Templates that show text people typed (in their first sample): in the "html" variant
# HTML_MARKER must be in the text Telegram displays, proving it was escaped, not dropped.
SHOWS_USER_TEXT = {
    "notice_shortfall",
    "notice_case_cut",
    "notice_reorder_open",
    "reorder_done",
    "notice_case_wait",
    "shortfall_recorded",
    "shortfall_plan",
    "cancel_confirm",
    "cancel_done",
    "close_confirm",
    "close_done",
    "cancel_kept",
    "deal_photo",
    "deal_post",
    "error",
    "my_order",
    "my_orders",
    "newdeal_buildings",
    "newdeal_format_error",
    "newdeal_intro",
    "newdeal_preview",
    "notice_deadline_reminder",
    "notice_deal_cancelled",
    "notice_deal_closed",
    "notice_deal_failed",
    "notice_order_cancelled",
    "notice_order_failed",
    "notice_pickup",
    "notice_arrived",
    "notice_goods_arrived",
    "no_shows",
    "no_show_order",
    "no_show_done",
    "notice_not_collected",
    "notice_kept_for_next",
    "notice_pickup_reminder",
    "notice_pickup_moved",
    "notice_pickup_changed",
    "pickup_change_done",
    "arrival_confirm",
    "arrival_done",
    "notice_post_undelivered",
    "notice_invoice_undelivered",
    "notice_refund_refused",
    "notice_group_moved",
    "notice_bot_removed",
    "notice_bot_demoted",
    "notice_topic_gone",
    "bot_back",
    "picked_up",
    "pickup_list_caption",
    "pickup_list_message",
    "profile_building",
    "profile_saved",
    "setup_announce",
    "setup_done",
    "setup_name",
    "welcome",
    "payee_ask",
    "payee_saved",
    "payee_code",
    "newdeal_published",
}


@dataclass(frozen=True)
class World:
    """Domain objects built from one variant's texts."""

    texts: Texts
    community: Community
    user: User
    resident: Resident
    items: tuple[Item, ...]
    deal: Deal
    stats: DealStats
    order: Order
    count: int = 12  # how many of anything a sample counts (orders, neighbours, minutes)

    def deal_in(self, status: DealStatus, **changes: Any) -> Deal:
        closed = status is not DealStatus.OPEN
        reason = {
            DealStatus.CLOSED: CloseReason.DEADLINE,
            DealStatus.FAILED: CloseReason.DEADLINE,
            DealStatus.CANCELLED: CloseReason.LEADER,
        }.get(status)
        return replace(
            self.deal,
            status=status,
            closed_at=DEADLINE if closed else None,
            close_reason=reason,
            **changes,
        )

    def point(self) -> PickupPoint:
        """A pickup point as a leader describes it (/points), its map location known."""
        return PickupPoint(
            3, self.community.chat_id, self.texts.place[:40], self.texts.place,
            self.texts.window, 31.2304, 121.4737,
        )  # fmt: skip

    def slot(self, booked: int = 12) -> Slot:
        """A pickup slot of the deal (groupbuy.slots), half an hour with 25 seats."""
        return Slot(5, self.deal.id, DEADLINE, DEADLINE + timedelta(minutes=30), 25, booked)

    def lines(self, deal: Deal, order: Order | None) -> list[dict[str, object]]:
        """As handlers.my_order.order_lines builds them."""
        if order is None:
            return []
        return [
            {"item": i, "quantity": order.quantity(i.id), "amount": i.price * order.quantity(i.id)}
            for i in deal.items
            if order.quantity(i.id) > 0
        ]


def world(texts: Texts, count: int | None = None) -> World:
    """`count`: every number of things the samples show (test_counts_read_right); by default
    a few different ones."""
    community = Community(
        chat_id=-100123,
        title=texts.group_title,
        name=texts.community,
        buildings=texts.buildings,
        currency="CNY",
        timezone="Asia/Shanghai",
        locale="zh_Hans",
        configured=True,
        payee=texts.payee,
    )
    if count is not None:
        community = replace(community, payment_window_minutes=count)
    user = User(7, texts.first_name, texts.last_name, "alice", "en", None, True)
    resident = Resident(community.chat_id, user.id, texts.buildings[0], texts.unit, texts.room)
    items = tuple(
        Item(10 + n, 1, n, name, unit, 1250 + 300 * n, 100, 4 if n == 0 else None, 37 + n)
        for n, (name, unit) in enumerate(texts.items)
    )
    deal = Deal(
        id=1, community_id=community.chat_id, leader_id=99, title=texts.title,
        description=texts.description, currency="CNY", deadline=DEADLINE,
        pickup_place=texts.place, pickup_window=texts.window,
        minimum_kind=MinimumKind.PARTICIPANTS, minimum=20 if count is None else count,
        buildings=texts.buildings[:2],
        photo_file_id=None, status=DealStatus.OPEN, created_at=NOW, closed_at=None,
        close_reason=None, post_chat_id=community.chat_id, post_message_id=555, items=items,
    )  # fmt: skip
    order = Order(41, deal.id, user.id, "K7P2X", (OrderLine(10, 2), OrderLine(11, 1)))
    stats = DealStats(12, 30) if count is None else DealStats(count, count, count)
    return World(texts, community, user, resident, items, deal, stats, order, count or 12)


Sample = Callable[[Renderer, str, World], dict[str, Any]]


def _deal_post(status: DealStatus, **changes: Any) -> Sample:
    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        deal = w.deal_in(status, **changes)
        return {"deal": deal, "stats": w.stats, "tz": w.community.timezone}

    return build


def _tiered_post(status: DealStatus) -> Sample:
    """A deal whose first item has price tiers: one reached, one still to reach."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        first, *rest = w.items
        tiered = replace(first, tiers=(Tier(20, first.price - 200), Tier(60, first.price - 400)))
        return _deal_post(status, items=(tiered, *rest))(r, locale, w)

    return build


def _case_post(status: DealStatus, sold: int, **changes: Any) -> Sample:
    """A deal whose first item comes by the case of 12, `sold` units of it taken."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        first, *rest = w.items
        cased = replace(first, case_size=12, stock=96, sold=sold)
        return _deal_post(status, items=(cased, *rest), **changes)(r, locale, w)

    return build


def _case_notice(cut: bool) -> Sample:
    """A case not full at the deadline: the group is told it stays open (cut: False), or a
    buyer that their units beyond the last full case were cut."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        first, *rest = w.items
        cased = replace(first, case_size=12, stock=96, sold=31)
        if not cut:
            deal = w.deal_in(DealStatus.OPEN, items=(cased, *rest), case_wait=6)
            return {"deal": deal, "stats": w.stats, "tz": w.community.timezone, "point": None}
        base = _order_notice(DealStatus.CLOSED)(r, locale, w)
        return {**base, "item": cased}

    return build


def _close_confirm(*, forms: bool) -> Sample:
    """handlers.leading: Close now asks first, saying whether the deal would form."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        return {"deal": w.deal_in(DealStatus.OPEN), "forms": forms}

    return build


def _newdeal(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """The wizard's context (handlers.newdeal._ask) with two items entered so far."""
    items = [{"name": n, "unit": u, "price": 1250, "stock": 100} for n, u in w.texts.items]
    return {
        "items": items,
        "currency": "CNY",
        "buildings": list(w.texts.buildings),
        "deadline": DEADLINE,
        "tz": w.community.timezone,
        # the community's pickup points, as many as there may be
        "points": [w.point().name] * limits.POINTS_MAX,
        "window": None,  # the pickup window, once answered
    }


def _newdeal_window(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """The slots' question once the pickup window is known (the window is the leader's text)."""
    return {**_newdeal(r, locale, w), "window": w.texts.window}


def _first_item(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {**_newdeal(r, locale, w), "items": []}


def _community(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {"community": w.community}


def _unnamed_community(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {"community": replace(w.community, name="", buildings=(), configured=False)}


def _nothing(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {}


def _error(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    # As handlers.common.error_text gives it: a plain-text macro, typed words included.
    name, known = w.texts.buildings[0] + "X", ", ".join(w.texts.buildings)
    return {"message": r.macro(locale, "errors", "building_unknown", name=name, known=known)}


def _group_notice(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.notices.render for a notice to the group."""
    deal = w.deal_in(DealStatus.CLOSED)
    return {"deal": deal, "stats": w.stats, "tz": w.community.timezone, "point": None}


def _goods_at_point(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """The goods reached one of the deal's pickup points: the group is told which."""
    return {**_group_notice(r, locale, w), "point": w.point()}


def _failed_notice(minimum: MinimumKind) -> Sample:
    """handlers.notices.render for a deal that did not form: short of its minimum, or (with
    none) nobody joined."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        deal = w.deal_in(DealStatus.FAILED, minimum_kind=minimum)
        return {"deal": deal, "stats": w.stats, "tz": w.community.timezone}

    return build


def _leader_notice(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.notices.render for an alert to the deal's leader."""
    deal = w.deal_in(DealStatus.OPEN)
    return {
        "deal": deal,
        "community": w.community,
        "buyer": w.user.display_name,
        "code": w.order.code,
    }


def _group_moved(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.notices.render for a leader whose group became a supergroup."""
    return {"community": w.community, "deals": [w.deal_in(DealStatus.OPEN)]}


def _group_moved_no_deal(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {"community": w.community, "deals": []}


def _bot_back(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.setup.on_bot_added, in a group set up before the bot was removed."""
    return {"deals": [w.deal_in(DealStatus.OPEN)]}


def _bot_back_no_deal(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {"deals": []}


def _refund_refused(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.notices.render for the leader's alert of a Stars refund Telegram refused."""
    return {
        "deal": w.deal_in(DealStatus.CANCELLED),
        "refund": _refund(w, RefundReason.CANCELLED, PaymentMethod.STARS),
        "buyer": w.user.display_name,
    }


def _order_notice(status: DealStatus) -> Sample:
    """handlers.notices.render for a notice to one buyer in private chat."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        deal = w.deal_in(status)
        return {
            "deal": deal,
            "order": w.order,
            "lines": w.lines(deal, w.order),
            "total": w.order.amount(deal),
            "tz": w.community.timezone,
            "community": w.community,
            "point": None,
            "slot": None,
            "booking": False,
        }

    return build


def _slot_notice(*, booked: bool) -> Sample:
    """handlers.notices.render for a buyer's slot reminder (their slot) or the slots just set
    (none booked yet, the buttons under it)."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        base = _pickup(Standing(4000, 0, 0), point=True)(r, locale, w)
        return {**base, "slot": w.slot() if booked else None, "booking": not booked}

    return build


def _my_order(
    status: DealStatus,
    *,
    has_order: bool = True,
    mode: PaymentMode = PaymentMode.CASH,
    money: Standing | None = None,
    picked_up: bool = False,
    community: Callable[[World], Community] = lambda w: w.community,
    point: bool = False,
    choosing: bool = False,
    slot: bool | None = None,
    delivery: int | None = None,
) -> Sample:
    """handlers.my_order.order_text. `community`: its pay-the-leader details; `point`: the
    deal offers pickup points (`choosing`: several, and the buyer may still choose)."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        deal = w.deal_in(status, payment_mode=mode, delivery_fee=delivery)
        made = replace(w.order, pay_by=DEADLINE, delivery=delivery is not None)
        order = made if has_order else None
        if order is not None and picked_up:
            order = replace(order, picked_up_at=DEADLINE, picked_up_by=1)
        return {
            "deal": deal,
            "order": order,
            "lines": w.lines(deal, order),
            "total": order.amount(deal) if order else 0,
            "tz": w.community.timezone,
            "money": money,
            "community": community(w),
            "point": w.point() if point else None,
            "choosing": choosing,
            "slot": w.slot() if slot else None,
            "booking": slot is False,  # slots to book, none booked
        }

    return build


def _payment(w: World, status: PaymentStatus = PaymentStatus.RECEIVED) -> Payment:
    return Payment(
        id=3, order_id=w.order.id, deal_id=w.deal.id, user_id=w.user.id,
        method=PaymentMethod.TELEGRAM, status=status, amount=2800, currency="CNY",
        charge_id="tg-charge-1", provider_charge_id="ch_1", photo_file_id="photo-1",
        created_at=NOW,
    )  # fmt: skip


def _refund(w: World, reason: RefundReason, method: PaymentMethod) -> Refund:
    return Refund(
        id=5, order_id=w.order.id, deal_id=w.deal.id, user_id=w.user.id, payment_id=3,
        amount=1250, currency="CNY", method=method, status=RefundStatus.OWED, reason=reason,
        created_at=NOW, done_at=None,
    )  # fmt: skip


def _ended(status: DealStatus, paid_by: tuple[PaymentMethod, ...]) -> Sample:
    """handlers.notices.render for a deal that will not go ahead: with the refunds owed to the
    buyer (one per method they paid with), or none."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        reason = RefundReason.FAILED if status is DealStatus.FAILED else RefundReason.CANCELLED
        refunds = [_refund(w, reason, method) for method in paid_by]
        return {**_order_notice(status)(r, locale, w), "refunds": refunds}

    return build


def _pickup(
    money: Standing,
    mode: PaymentMode = PaymentMode.CASH,
    photo: str | None = None,
    point: bool = False,
    delivery: bool = False,
) -> Sample:
    """handlers.notices.render for a buyer's pickup notice: what is paid, what to bring (and
    in pay-the-leader mode, whom to pay)."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        base = _order_notice(DealStatus.CLOSED)(r, locale, w)
        deal = w.deal_in(
            DealStatus.CLOSED, payment_mode=mode, delivery_fee=500 if delivery else None
        )
        base["order"] = replace(base["order"], delivery=delivery)
        community = replace(w.community, payee_photo=photo)
        found = w.point() if point else None
        return {
            **base, "deal": deal, "money": money, "community": community, "point": found,
            "slot": w.slot() if point else None, "booking": False,
        }  # fmt: skip

    return build


def _money_notice(**extra: Any) -> Callable[..., Sample]:
    """handlers.notices.render for payment and refund notices (extra: what the ref points at)."""

    def with_extra(**overrides: Any) -> Sample:
        def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
            base = _order_notice(DealStatus.OPEN)(r, locale, w)
            base["order"] = replace(w.order, pay_by=DEADLINE)
            made = {k: v(w) if callable(v) else v for k, v in {**extra, **overrides}.items()}
            return {**base, **made}

        return build

    return with_extra


def _payments_summary(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    counts = {k: w.count for k in ("paid", "unpaid", "claims", "owed", "done")}
    amounts = {f"{k}_amount": 2500 for k in ("paid", "unpaid", "claims", "owed", "done")}
    return {"deal": w.deal, **counts, **amounts, "received": 9000, "refunded": 2500}


def _payments_claims(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    entries = [
        {
            "payment": _payment(w, PaymentStatus.CLAIMED),
            "code": w.order.code,
            "name": w.user.display_name,
        }
    ]
    return {"deal": w.deal, "entries": entries}


def _payments_refunds(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    entries = [
        {
            "refund": _refund(w, RefundReason.FAILED, method),
            "code": w.order.code,
            "name": w.user.display_name,
            "charges": ["ch_1"],
        }
        for method in (PaymentMethod.TELEGRAM, PaymentMethod.STARS)
    ]
    return {"deal": w.deal, "entries": entries}


def _shortfall_recorded(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {"deal": w.deal, "units": 5, "orders": w.count, "how": "join_order"}


def _shortfall_plan(how: str, listed: int, more: int) -> Sample:
    """handlers.shortfall: who would get what, each item short with its orders cut (the first
    `listed` by name, `more` counted)."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        deal = w.deal_in(DealStatus.CLOSED)
        order = w.order
        rows = [
            {
                "item": item,
                "units": 3 * (listed + more),
                "listed": [Cut(order, item, 4, 1) for _ in range(listed)],
                "more": more,
            }
            for item in deal.items
        ]
        return {
            "deal": deal,
            "rows": rows,
            "how": how,
            "names": {order.user_id: w.user.display_name},
        }

    return build


def _reorder(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.reorder: a past order, ordered again in full."""
    return {"deal": w.deal, "order": w.order, "ordered": [(i, 2) for i in w.items], "refused": []}


def _reorder_refused(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """Ordered again in part: an item sold out, another capped (each with the error's text)."""
    reason = r.macro(locale, "errors", "sold_out", item=w.items[0].name)
    return {**_reorder(r, locale, w), "ordered": [], "refused": [(i, reason) for i in w.items]}


def _claim(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {"deal": w.deal, "payment": _payment(w, PaymentStatus.CLAIMED)}


def _mode(mode: PaymentMode) -> Sample:
    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        return {"community": replace(w.community, payment_mode=mode), "online": False}

    return build


def _payee_which(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {"led": [w.community, replace(w.community, chat_id=-100124)]}


def _payee(*, payee: bool, photo: bool, mode: PaymentMode = PaymentMode.LEADER) -> Sample:
    """handlers.payee: the leader's pay-the-leader details, asked for and saved."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        community = replace(
            w.community,
            payment_mode=mode,
            payee=w.community.payee if payee else "",
            payee_photo="AgAD" if photo else None,
        )
        return {"community": community}

    return build


def _payee_code(money: Standing | None) -> Sample:
    """handlers.paying.code_photo: the collection code's caption, with what is owed."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        deal = w.deal_in(DealStatus.OPEN, payment_mode=PaymentMode.LEADER)
        community = replace(w.community, payee_photo="AgAD")
        return {"deal": deal, "community": community, "money": money}

    return build


def _points(*, added: bool) -> Sample:
    """handlers.points.command: the group's pickup points (one just added)."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        bare = PickupPoint(4, w.community.chat_id, w.texts.buildings[0])
        points = [w.point(), bare]
        return {"community": w.community, "points": points, "added": bare if added else None}

    return build


def _slots(*, set_now: bool) -> Sample:
    """handlers.slots.command: the deal's slots and their load (just set, or asked)."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        slots = [w.slot(25), w.slot(w.count), w.slot(0)]
        return {
            "deal": w.deal_in(DealStatus.CLOSED), "slots": slots, "tz": w.community.timezone,
            "set_now": set_now, "told": w.count, "unbooked": w.count,
        }  # fmt: skip

    return build


def _slots_none(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {**_slots(set_now=False)(r, locale, w), "slots": []}


def _points_none(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {"community": w.community, "points": [], "added": None}


def _my_orders(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.router.cmd_myorders: one open deal and one closed deal awaiting pickup."""
    found = [(w.deal, w.order), (w.deal_in(DealStatus.CLOSED, id=2), replace(w.order, deal_id=2))]
    money = [Standing(o.amount(d), 0, 0) for d, o in found[:1]] + [Standing(2500, 2500, 0)]
    entries = [
        {"deal": d, "order": o, "total": o.amount(d), "money": m, "tz": w.community.timezone}
        for (d, o), m in zip(found, money, strict=True)
    ]
    return {"entries": entries}


def _preview(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.newdeal: the deal post as it will look, inside the preview."""
    body = r.render(locale, "deal_post", **_deal_post(DealStatus.OPEN)(r, locale, w))
    return {"body": body, "has_photo": True, "slots": None, "tz": w.community.timezone}


def _preview_slots(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """A deal given slots in the dialog: as many as there may be, in a line under the post."""
    slots = {"count": limits.SLOTS_MAX, "minutes": 30, "span": w.slot(booked=0)}
    return {**_preview(r, locale, w), "slots": slots, "tz": w.community.timezone}


def _picked_up(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    deal = w.deal_in(DealStatus.CLOSED)
    lines = [{**line, "later": False} for line in w.lines(deal, w.order)]
    return {"deal": deal, "order": w.order, "name": w.user.display_name, "collected": 2500,
            "lines": lines, "rest": []}  # fmt: skip


def _picked_up_partly(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """A line held back for later (handlers.leading.handed_out)."""
    given = _picked_up(r, locale, w)
    lines = [{**line, "later": n == 0} for n, line in enumerate(given["lines"])]
    return {**given, "lines": lines}


def _picked_up_rest(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """The rest of a partial pickup, handed out later."""
    given = _picked_up(r, locale, w)
    return {**given, "rest": given["lines"][:1], "collected": 0}


def _picked_up_paid(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {**_picked_up(r, locale, w), "collected": 0}


def _moved(*, place: bool, window: bool) -> Sample:
    """handlers.notices._pickup_moved and handlers.pickup_change: a closed deal's pickup moved
    (its place, its time, or both), from the deal's own."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        deal = w.deal_in(DealStatus.CLOSED)
        change = PickupChange(
            7, deal.id, deal.pickup_place, deal.pickup_window,
            deal.pickup_place + " 2" if place else deal.pickup_place,
            "18:00-19:00" if window else deal.pickup_window, DEADLINE, w.user.id,
        )  # fmt: skip
        return {"deal": deal, "change": change, "order": w.order, "count": w.count}

    return build


def _no_shows(more: int) -> Sample:
    """handlers.no_shows.command: the orders still waiting (one handed out in part), and how
    many more than the message lists."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        waiting = [row for row in _pickup_rows(w) if not row.picked_up]
        deal = w.deal_in(DealStatus.CLOSED)
        return {"deal": deal, "rows": waiting, "more": more, "kept": set(), "spare": [],
                "delivered": set()}  # fmt: skip

    return build


def _no_shows_none(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {"deal": w.deal_in(DealStatus.CLOSED), "rows": [], "more": 0, "kept": set(),
            "spare": [], "delivered": set()}  # fmt: skip


def _no_shows_decided(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.no_shows.command after decisions: an order kept for the next pickup, and the
    goods of those given up left with the leader; another order the leader delivers."""
    deal = w.deal_in(DealStatus.CLOSED)
    waiting = [row for row in _pickup_rows(w) if not row.picked_up]
    spare = [{"item": i, "quantity": n + 2} for n, i in enumerate(deal.items)]
    delivered = {row.code for row in waiting if row.code != w.order.code}
    return {"deal": deal, "rows": waiting, "more": 0, "kept": {w.order.code}, "spare": spare,
            "delivered": delivered}  # fmt: skip


def _no_show_order(money: Standing, *, partly: bool = False, kept: bool = False) -> Sample:
    """handlers.no_shows._menu: an order nobody came for, what is still to come of it, and
    where it stands with money."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        base = _order_notice(DealStatus.CLOSED)(r, locale, w)
        decided = NoShow(w.order.id, w.deal.id, NoShowOutcome.MOVED, DEADLINE, w.user.id)
        return {
            **base, "name": w.user.display_name, "resident": w.resident, "money": money,
            "partly": partly, "decided": decided if kept else None,
        }  # fmt: skip

    return build


def _no_show_done(outcome: NoShowOutcome, method: PaymentMethod | None = None) -> Sample:
    """handlers.no_shows.on_decide: what was decided, the refund to make, the leader's spare."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        base = _order_notice(DealStatus.CLOSED)(r, locale, w)
        refunds = [_refund(w, RefundReason.NO_SHOW, method)] if method else []
        spare = [{"item": i, "quantity": 3} for i in w.items]
        return {**base, "outcome": outcome.value, "refunds": refunds, "spare": spare}

    return build


def _pickup_which(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {"codes": [w.order.code, "M3Q9Z"]}


def _pickup_caption(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {"deal": w.deal_in(DealStatus.CLOSED), "count": w.count, "point": "", "points": []}


def _pickup_caption_at(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """One pickup point's list, or its arrival (handlers.pickup_list, handlers.leading)."""
    points = [{"name": w.point().name, "count": w.count}] * 2
    return {**_pickup_caption(r, locale, w), "point": w.point().name, "points": points}


def _pickup_rows(w: World) -> list[PickupRow]:
    """handlers.pickup_list.rows: three residents, one already picked up, one in part."""
    lines = tuple(PickupLine(i.name, n + 1, i.unit) for n, i in enumerate(w.items))
    return [
        PickupRow(
            building=w.resident.building, unit=w.resident.unit, room=w.resident.room,
            name=w.user.display_name, phone="138 0000 0000", lines=lines, amount="¥55.00",
            code=w.order.code,
        ),
        PickupRow(
            building=w.texts.buildings[1], unit="", room=w.texts.room + "0",
            name=w.texts.first_name, phone=None, lines=lines[:1], amount="¥12.50",
            code="M3Q9Z", picked_up=True, handed_out_at="Sat 6 Dec, 09:42",
            handed_out_by="Olga",
        ),
        PickupRow(
            building=w.texts.buildings[1], unit="", room=w.texts.room + "1",
            name=w.texts.first_name, phone=None, lines=lines, amount="¥55.00",
            code="N4R8Y", handed_out_at="Sat 6 Dec, 09:44", handed_out_by="Olga",
            held_back=lines[1:],
        ),
    ]  # fmt: skip


def _pickup_message(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {"deal": w.deal_in(DealStatus.CLOSED), "rows": _pickup_rows(w), "point": ""}


def _pickup_message_at(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {**_pickup_message(r, locale, w), "point": w.point().name}


def _profile_saved(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {"resident": w.resident, "community": w.community}


def _profile_saved_no_unit(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """A unit skipped: the address shows no empty part."""
    return {"resident": replace(w.resident, unit=""), "community": w.community}


def _help(*, leader: bool, unknown: str = "") -> Sample:
    """handlers.guide.help_for: the leaders' commands for leaders; a typo'd command named."""

    def build(r: Renderer, locale: str, w: World) -> dict[str, Any]:
        return {"leader": leader, "unknown": unknown}

    return build


def _which_deal(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.guide.which_deal: /payments in private with no number."""
    deals = [w.deal_in(DealStatus.OPEN), replace(w.deal_in(DealStatus.CLOSED), id=7)]
    return {"command": "payments", "deals": deals}


def _which_deal_none(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {"command": "list", "deals": []}


def _profile_new(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.profile.start for a newcomer."""
    return {"community": w.community, "resident": None}


def _profile_now(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.profile.start for someone who has an address: shown before it is changed."""
    return {"community": w.community, "resident": replace(w.resident, phone="138 0000 0000")}


def _welcome(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    return {"user": w.user}


def _format_error(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.newdeal: a one-message deal naming a building the compound does not have."""
    name, known = w.texts.buildings[0] + "X", ", ".join(w.texts.buildings)
    message = r.macro(locale, "errors", "building_unknown", name=name, known=known)
    return {"problems": [{"line": 9, "message": message}], "more": 0}


def _format_error_lines(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """Every problem of a one-message deal, with its line where it has one."""
    name, known = w.texts.buildings[0] + "X", ", ".join(w.texts.buildings)
    return {
        "problems": [
            {
                "line": 9,
                "message": r.macro(locale, "errors", "building_unknown", name=name, known=known),
            },
            {"line": 3, "message": r.macro(locale, "errors", "deal_line_unknown")},
            {
                "line": None,
                "message": r.macro(locale, "errors", "deal_field_missing", field="window"),
            },
        ][: w.count if w.count < 12 else 3],
        "more": w.count,
    }


def _published(r: Renderer, locale: str, w: World) -> dict[str, Any]:
    """handlers.newdeal.publish: the leader's private word that the deal is open."""
    return {
        "deal": replace(w.deal, id=w.count),
        "community": w.community,
        "tz": w.community.timezone,
        "link": "https://t.me/groupbuy_bot?start=o_12",
    }


# Every message template, with one or more contexts as its handler builds them.
SAMPLES: dict[str, list[Sample]] = {
    "anonymous_admin": [_nothing],
    "ask_privately": [_nothing],
    "deal_post": [
        _deal_post(DealStatus.OPEN),
        _deal_post(DealStatus.OPEN, minimum_kind=MinimumKind.QUANTITY, minimum=50),
        _deal_post(DealStatus.OPEN, minimum_kind=MinimumKind.NONE, minimum=0, buildings=()),
        _deal_post(DealStatus.OPEN, description=""),
        _deal_post(DealStatus.OPEN, delivery_fee=500, delivery_free_from=10000),
        _deal_post(DealStatus.OPEN, delivery_fee=0),
        _deal_post(DealStatus.OPEN, delivery_fee=800),
        _tiered_post(DealStatus.OPEN),
        _tiered_post(DealStatus.CLOSED),
        _case_post(DealStatus.OPEN, 0),
        _case_post(DealStatus.OPEN, 31),
        _case_post(DealStatus.OPEN, 24, case_rule=CaseRule.UP),
        _case_post(DealStatus.OPEN, 5, case_rule=CaseRule.WAIT, case_wait=6, case_tolerance=80),
        _case_post(DealStatus.CLOSED, 34, case_rule=CaseRule.UP),
        _deal_post(DealStatus.CLOSED),
        _deal_post(DealStatus.FAILED),
        _deal_post(DealStatus.FAILED, minimum_kind=MinimumKind.NONE, minimum=0),
        _deal_post(DealStatus.CANCELLED),
    ],
    "cancel_confirm": [_deal_post(DealStatus.OPEN)],
    "cancel_done": [_deal_post(DealStatus.CANCELLED)],
    "cancel_kept": [_deal_post(DealStatus.OPEN)],
    "close_confirm": [_close_confirm(forms=True), _close_confirm(forms=False)],
    "close_done": [_deal_post(DealStatus.CLOSED)],
    "deal_photo": [_deal_post(DealStatus.OPEN)],
    "claim_photo_saved": [_nothing],
    "notice_shortfall": [_order_notice(DealStatus.CLOSED), _money_notice()(lines=[])],
    "notice_case_cut": [_case_notice(cut=True)],
    "notice_case_wait": [_case_notice(cut=False)],
    "shortfall_recorded": [_shortfall_recorded],
    "shortfall_plan": [
        _shortfall_plan("join_order", 2, 0),
        _shortfall_plan("pro_rata", 1, 7),
        lambda r, locale, w: {**_shortfall_plan("join_order", 0, 0)(r, locale, w), "rows": []},
    ],
    "shortfall_dropped": [_nothing],
    "reorder_none": [_reorder],
    "reorder_done": [_reorder, _reorder_refused],
    "reorder_watching": [_reorder],
    "notice_reorder_open": [_group_notice],
    "shortfall_usage": [_nothing],
    "claim_recorded": [_claim],
    "dialog_cancelled": [_nothing],
    "invoice_description": [_order_notice(DealStatus.OPEN)],
    "notice_order_lapsed": [
        _money_notice(cut_short=False)(),
        _money_notice(cut_short=False)(lines=[]),
        _money_notice(cut_short=True)(deal=lambda w: w.deal_in(DealStatus.CLOSED)),
        _money_notice(cut_short=True)(
            deal=lambda w: replace(w.deal_in(DealStatus.CLOSED), close_reason=CloseReason.LEADER),
            lines=[],
        ),
    ],
    "notice_payment_receipt": [_money_notice(payment=_payment)()],
    "notice_payment_rejected": [_money_notice(payment=_payment)()],
    "notice_payment_reminder": [
        _money_notice(money=Standing(4000, 1000, 0))(),
        _money_notice(money=Standing(4000, 1000, 0))(
            deal=lambda w: w.deal_in(DealStatus.OPEN, payment_mode=PaymentMode.LEADER)
        ),
    ],
    "notice_refund_done": [
        _money_notice(refund=lambda w: _refund(w, RefundReason.REDUCED, PaymentMethod.TELEGRAM))()
    ],
    "notice_refund_owed": [
        _money_notice(refund=lambda w, reason=reason, method=method: _refund(w, reason, method))()
        for reason in RefundReason
        for method in (PaymentMethod.TELEGRAM, PaymentMethod.STARS)
    ],
    "payments_claims": [_payments_claims],
    "payments_refunds": [_payments_refunds],
    "payments_summary": [_payments_summary],
    "paymode_choose": [_mode(PaymentMode.CASH)],
    "paymode_set": [_mode(mode) for mode in PaymentMode],
    "paywindow_set": [_community],
    "payee_continue": [_nothing],
    "payee_which": [_payee_which, lambda r, locale, w: {"led": []}],
    "payee_ask": [_payee(payee=True, photo=True), _payee(payee=False, photo=False)],
    "payee_kept": [_nothing],
    "payee_saved": [
        _payee(payee=True, photo=True),
        _payee(payee=False, photo=True, mode=PaymentMode.CASH),
    ],
    "payee_code": [_payee_code(Standing(4000, 1000, 0)), _payee_code(None)],
    "error": [_error],
    "generic_error": [_nothing],
    "greeting": [_unnamed_community],
    "help": [_help(leader=True), _help(leader=False), _help(leader=False, unknown="nwedeal")],
    "which_deal": [_which_deal, _which_deal_none],
    "lang_choose": [_nothing],
    "lang_set": [_nothing],
    "leaders_only": [_nothing],
    "list_none": [_nothing],
    "my_order": [
        _my_order(DealStatus.OPEN),
        _my_order(DealStatus.OPEN, money=Standing(4000, 4000, 0)),
        _my_order(DealStatus.OPEN, money=Standing(4000, 0, 4000), mode=PaymentMode.LEADER),
        _my_order(DealStatus.OPEN, money=Standing(4000, 0, 0), mode=PaymentMode.LEADER),
        _my_order(
            DealStatus.OPEN,
            money=Standing(4000, 0, 0),
            mode=PaymentMode.LEADER,
            community=lambda w: replace(w.community, payee="", payee_photo="AgAD"),
        ),
        _my_order(DealStatus.OPEN, money=Standing(4000, 0, 0), mode=PaymentMode.CASH),
        _my_order(DealStatus.OPEN, money=Standing(4000, 1500, 0), mode=PaymentMode.ONLINE),
        _my_order(DealStatus.OPEN, money=Standing(40, 0, 0), mode=PaymentMode.STARS),
        _my_order(DealStatus.OPEN, has_order=False),
        _my_order(DealStatus.CLOSED),
        _my_order(DealStatus.OPEN, point=True, choosing=True),
        _my_order(DealStatus.CLOSED, point=True),
        _my_order(DealStatus.CLOSED, point=True, slot=True),
        _my_order(DealStatus.CLOSED, slot=False),
        _my_order(DealStatus.OPEN, delivery=500),
        _my_order(DealStatus.CLOSED, delivery=0),
        _my_order(DealStatus.CLOSED, picked_up=True),
        _my_order(DealStatus.FAILED),
        _my_order(DealStatus.CANCELLED),
    ],
    "points": [_points(added=True), _points(added=False), _points_none],
    "points_in_group": [_nothing],
    "notice_slot_reminder": [_slot_notice(booked=True)],
    "notice_slots_open": [_slot_notice(booked=False)],
    "slots": [_slots(set_now=True), _slots(set_now=False), _slots_none],
    "slots_usage": [_nothing],
    "my_orders": [_my_orders, lambda r, locale, w: {"entries": []}],
    "newdeal_buildings": [_newdeal],
    "newdeal_continue": [_nothing],
    "newdeal_deadline": [_newdeal],
    "newdeal_delivery": [_newdeal],
    "newdeal_description": [_newdeal],
    "newdeal_discarded": [_nothing],
    "newdeal_format_error": [_format_error, _format_error_lines],
    "newdeal_edit": [_nothing],
    "newdeal_in_group": [_nothing],
    "newdeal_intro": [_community, _unnamed_community],
    "newdeal_item_limit": [_newdeal],
    "newdeal_item_name": [_first_item, _newdeal],
    "newdeal_item_price": [_newdeal],
    "newdeal_item_stock": [_newdeal],
    "newdeal_item_unit": [_newdeal],
    "newdeal_minimum": [_newdeal],
    "newdeal_more": [_newdeal],
    "newdeal_photo": [_newdeal],
    "newdeal_pickup_place": [_newdeal],
    "newdeal_pickup_window": [_newdeal],
    "newdeal_preview": [_preview, _preview_slots],
    "newdeal_published": [_published],
    "newdeal_slots": [_newdeal, _newdeal_window],
    "newdeal_cases": [_newdeal],
    "newdeal_title": [_newdeal],
    "notice_deadline_reminder": [_group_notice],
    "notice_deal_cancelled": [_group_notice],
    "notice_deal_closed": [_group_notice],
    "notice_deal_failed": [
        _failed_notice(MinimumKind.PARTICIPANTS),
        _failed_notice(MinimumKind.NONE),
    ],
    "notice_order_cancelled": [
        _ended(DealStatus.CANCELLED, ()),
        _ended(DealStatus.CANCELLED, (PaymentMethod.TRANSFER,)),
    ],
    "notice_post_undelivered": [_leader_notice],
    "notice_invoice_undelivered": [_leader_notice],
    "notice_refund_refused": [_refund_refused],
    "notice_group_moved": [_group_moved, _group_moved_no_deal],
    "notice_bot_removed": [_group_moved, _group_moved_no_deal],
    "notice_bot_demoted": [_group_moved],
    "notice_topic_gone": [_group_moved, _group_moved_no_deal],
    "bot_back": [_bot_back, _bot_back_no_deal],
    "notice_order_failed": [
        _ended(DealStatus.FAILED, ()),
        _ended(DealStatus.FAILED, (PaymentMethod.TELEGRAM, PaymentMethod.STARS)),
    ],
    "notice_arrived": [
        _pickup(Standing(4000, 4000, 0)),
        _pickup(Standing(4000, 0, 0), point=True),
        _pickup(Standing(4000, 0, 0)),
        _pickup(Standing(4000, 0, 4000), PaymentMode.LEADER),
    ],
    "notice_goods_arrived": [_group_notice, _goods_at_point],
    "notice_pickup_moved": [_moved(place=True, window=True), _moved(place=False, window=True)],
    "notice_pickup_changed": [_moved(place=True, window=False), _moved(place=True, window=True)],
    "pickup_change_done": [_moved(place=True, window=True)],
    "pickup_change_usage": [_nothing],
    "no_shows": [_no_shows(0), _no_shows(40), _no_shows_none, _no_shows_decided],
    "no_show_order": [
        _no_show_order(Standing(4000, 0, 0)),
        _no_show_order(Standing(4000, 4000, 0), partly=True, kept=True),
        _no_show_order(Standing(4000, 0, 4000)),
    ],
    "no_show_done": [
        _no_show_done(NoShowOutcome.NOT_COLLECTED),
        _no_show_done(NoShowOutcome.MOVED),
        _no_show_done(NoShowOutcome.REFUNDED, PaymentMethod.TELEGRAM),
        _no_show_done(NoShowOutcome.REFUNDED, PaymentMethod.STARS),
    ],
    "notice_not_collected": [_order_notice(DealStatus.CLOSED)],
    "notice_kept_for_next": [_order_notice(DealStatus.CLOSED)],
    "notice_pickup_reminder": [
        _pickup(Standing(4000, 4000, 0)),
        _pickup(Standing(4000, 0, 0), point=True),
        _pickup(Standing(4000, 0, 0)),
        _pickup(Standing(4000, 0, 4000), PaymentMode.LEADER),
    ],
    "arrival_confirm": [_pickup_caption, _pickup_caption_at],
    "arrival_done": [_pickup_caption, _pickup_caption_at],
    "arrival_kept": [_nothing],
    "notice_pickup": [
        _pickup(Standing(4000, 4000, 0)),
        _pickup(Standing(4000, 0, 0)),
        _pickup(Standing(4000, 0, 4000), PaymentMode.LEADER),
        _pickup(Standing(4000, 1000, 0), PaymentMode.LEADER, photo="AgAD"),
        _pickup(Standing(4000, 0, 0), point=True),
        _pickup(Standing(4500, 0, 0), delivery=True),
    ],
    "picked_up": [_picked_up, _picked_up_paid, _picked_up_partly, _picked_up_rest],
    "pickup_in_group": [_nothing],
    "pickup_which": [_pickup_which],
    "scan_open": [_nothing],
    "scan_unavailable": [_nothing],
    "pickup_list_caption": [_pickup_caption, _pickup_caption_at],
    "pickup_list_message": [_pickup_message, _pickup_message_at],
    "profile_building": [_profile_new, _profile_now],
    "profile_no_community": [_nothing],
    "profile_phone": [_nothing],
    "profile_room": [_nothing],
    "profile_saved": [_profile_saved, _profile_saved_no_unit],
    "profile_unit": [_nothing],
    "setup_announce": [_community],
    "setup_buildings": [_community],
    "setup_continue": [_nothing],
    "setup_currency": [_community],
    "setup_done": [_community],
    "setup_first": [_nothing],
    "setup_in_group": [_nothing],
    "setup_name": [_unnamed_community],
    "setup_timezone": [_community],
    "start_bot_first": [_nothing],
    "welcome": [_welcome],
}

CASES = [
    pytest.param(name, n, locale, variant, id=f"{name}[{n}]-{locale}-{variant}")
    for name, builders in sorted(SAMPLES.items())
    for n in range(len(builders))
    for locale in LOCALES
    for variant in VARIANTS
]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def render_sample(renderer: Renderer, name: str, n: int, locale: str, variant: str) -> str:
    context = SAMPLES[name][n](renderer, locale, world(VARIANTS[variant]))
    return renderer.render(locale, name, **context)


def telegram_text(html: str) -> str:
    """The text Telegram would show, or the failure Telegram would answer with."""
    try:
        text, _entities = parse_html(html)
    except ApiError as error:
        pytest.fail(f"Telegram would refuse this message: {error.description}\n{html}")
    return text


def collections() -> list[str]:
    return sorted(p.name[1:].removesuffix(".html.j2") for p in TEMPLATES.glob("_*.html.j2"))


def test_every_template_has_a_sample(renderer: Renderer) -> None:
    names = set(renderer.template_names())
    untested = sorted(names - SAMPLES.keys())
    assert not untested, f"add sample contexts to SAMPLES in {__file__} for: {untested}"
    gone = sorted(SAMPLES.keys() - names)
    assert not gone, f"SAMPLES names templates that no longer exist: {gone}"


@pytest.mark.parametrize(("name", "n", "locale", "variant"), CASES)
def test_template_renders(renderer: Renderer, name: str, n: int, locale: str, variant: str) -> None:
    html = render_sample(renderer, name, n, locale, variant)
    assert html.strip(), "renders to nothing"
    assert len(html) < TELEGRAM_MESSAGE_MAX
    text = telegram_text(html)
    assert len(text) < TELEGRAM_MESSAGE_MAX
    assert "%(" not in text, "a placeholder was left unfilled"
    if variant == "html":
        assert HTML_MARKER not in html, "user text reached the HTML unescaped"
        if name in SHOWS_USER_TEXT and n == 0:
            assert HTML_MARKER in text, "user text was dropped or interpreted as markup"


def _templates_with_texts() -> list[str]:
    """Templates that call gettext themselves (others only show facts, like the pickup list)."""
    used: set[str] = set()
    for message in catalog.extract():
        for filename, _lineno in message.locations:
            used.add(filename.removeprefix("templates/").removesuffix(".html.j2"))
    return sorted(used)


@pytest.mark.parametrize("name", [n for n in _templates_with_texts() if not n.startswith("_")])
def test_chinese_rendering_is_translated(renderer: Renderer, name: str) -> None:
    assert name in SAMPLES, f"no sample context for {name}"
    for n in range(len(SAMPLES[name])):
        english = render_sample(renderer, name, n, "en", "en")
        chinese = render_sample(renderer, name, n, "zh_Hans", "en")
        assert chinese != english, f"{name}[{n}] is not translated"
        assert re.search(r"[\u4e00-\u9fff]", chinese), f"{name}[{n}] has no Chinese text"


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("locale", LOCALES)
def test_preview_shows_the_post_as_posted(renderer: Renderer, locale: str, variant: str) -> None:
    """The preview embeds the rendered post: its markup must not be escaped a second time."""
    w = world(VARIANTS[variant])
    post = renderer.render(locale, "deal_post", **_deal_post(DealStatus.OPEN)(renderer, locale, w))
    preview = render_sample(renderer, "newdeal_preview", 0, locale, variant)
    assert telegram_text(post) in telegram_text(preview)


def test_longest_deal_post_fits_a_message(renderer: Renderer) -> None:
    """Every typed field at its limit, the most items, every status."""
    w = world(VARIANTS["zh"])
    items = tuple(
        replace(
            w.items[0], id=100 + n, name="奶" * limits.ITEM_NAME_MAX, unit="瓶" * limits.UNIT_MAX
        )
        for n in range(limits.ITEMS_MAX)
    )
    for status in DealStatus:
        deal = w.deal_in(
            status,
            title="团" * limits.TITLE_MAX,
            description="购" * limits.DESCRIPTION_MAX,
            pickup_place="点" * limits.PLACE_MAX,
            pickup_window="时" * limits.WINDOW_MAX,
            buildings=tuple(f"{n}" * limits.BUILDING_NAME_MAX for n in range(3)),
            items=items,
        )
        for locale in LOCALES:
            html = renderer.render(locale, "deal_post", deal=deal, stats=w.stats, tz="UTC")
            assert len(telegram_text(html)) < TELEGRAM_MESSAGE_MAX


@pytest.mark.parametrize("locale", LOCALES)
def test_help_example_is_a_valid_deal(renderer: Renderer, locale: str) -> None:
    """The one-message example in /help parses, in each language."""
    text = telegram_text(renderer.render(locale, "help", leader=True, unknown=""))
    example = text.split("/newdeal\n", 1)[1]
    spec = parse_deal(example, "CNY", ("1", "2"), NOW, ZoneInfo("Asia/Shanghai"))
    assert spec.items and spec.minimum == 20


def macro_context(collection: str, w: World) -> dict[str, Any]:
    """Everything a macro of the collection may be given, as the code gives it."""
    if collection == "labels":
        return {
            "item": w.items[0], "quantity": 2, "total": 3750, "currency": "CNY",
            "code": w.order.code, "name": w.texts.buildings[0], "amount": "¥25.00",
            "count": w.count, "collected": "¥25.00", "title": w.texts.group_title,
            "at": "11月26日 周四 17:30", "leader": w.user.display_name, "chosen": True,
            "span": "12月12日 周六 18:00–18:30", "left": w.count,
        }  # fmt: skip
    if collection == "errors":  # DomainError params: already-formatted words and numbers
        return {
            "buildings": ", ".join(w.texts.buildings), "limit": 4, "item": w.items[0].name,
            "code": "K7P2X", "digits": 2, "field": "title", "days": limits.DEADLINE_MAX_DAYS,
            "name": w.texts.buildings[0] + "X", "known": ", ".join(w.texts.buildings), "line": 3,
            "sold": 12, "time": "02:30", "date": "2027-03-28", "zone": w.community.timezone,
            "clocks_from": "02:00", "clocks_to": "03:00", "what": "deal", "deal": 12,
            "at": DEADLINE, "tz": w.community.timezone, "by": w.user.display_name,
            "outcome": NoShowOutcome.NOT_COLLECTED.value, "count": w.count,
            "next": DEADLINE + timedelta(minutes=30), "window": w.texts.window,
            "n": 100, "stock": 99,
        }  # fmt: skip
    if collection == "pickup_labels":
        return {"at": "11月26日 周四 17:30"}
    if collection == "formats":  # what the `when` filter gives: a formatted time, an offset
        return {"when": "Sun 25 Oct, 02:30", "offset": "+02:00"}
    if collection == "deal_macros":
        return {
            # an item sold by the case too (case_line), 7 more to fill its case
            "item": replace(w.items[0], case_size=12, sold=5), "currency": "CNY", "deal": w.deal,
            "stats": w.stats,
            "order": w.order, "money": Standing(4000, 1000, 0), "tz": w.community.timezone,
            "resident": w.resident, "phone": True, "community": w.community,
            "refunds": [_refund(w, RefundReason.FAILED, PaymentMethod.TRANSFER)],
            "point": w.point(),
            "change": PickupChange(7, w.deal.id, "Gate 1", "Sat 9:00", "Gate 2", "Sun 9:00",
                                   DEADLINE, w.user.id),
        }  # fmt: skip
    return {}


def test_every_collection_has_sample_arguments(renderer: Renderer) -> None:
    for collection in collections():
        given = macro_context(collection, world(VARIANTS["en"]))
        for name in renderer.macro_names(collection):
            module = renderer._envs["en"].get_template(f"_{collection}.html.j2").make_module()
            needed = set(getattr(module, name).arguments)
            assert needed <= given.keys(), (
                f"{collection}.{name}: no sample for {needed - given.keys()}"
            )


MACRO_CASES = [
    pytest.param(collection, name, locale, variant, id=f"{collection}.{name}-{locale}-{variant}")
    for collection in collections()
    for name in Renderer().macro_names(collection)
    for locale in LOCALES
    for variant in VARIANTS
]
TOASTS = {"sent_privately", "deal_not_open", "order_cancelled_toast"}


@pytest.mark.parametrize(("collection", "name", "locale", "variant"), MACRO_CASES)
def test_macro_renders(
    renderer: Renderer, collection: str, name: str, locale: str, variant: str
) -> None:
    w = world(VARIANTS[variant])
    text = renderer.macro(locale, collection, name, **macro_context(collection, w))
    assert text.strip() or collection == "deal_macros"
    assert "%(" not in text
    if collection in {"labels", "errors"}:  # plain text for buttons, toasts and alerts
        assert len(text) <= CALLBACK_ANSWER_MAX
        if variant != "html":
            assert not re.search(r"</?[a-z]+>", text), "a label is plain text, not HTML"
    is_button = not name.endswith("_toast") and name not in TOASTS
    if collection == "labels" and variant != "html" and is_button:
        assert len(text) <= BUTTON_LABEL_MAX, f"button label too long for a phone: {text!r}"


@pytest.mark.parametrize("locale", LOCALES)
def test_an_address_shows_no_empty_part(renderer: Renderer, locale: str) -> None:
    w = world(VARIANTS["en"])
    text = renderer.render(locale, "profile_saved", resident=replace(w.resident, unit=""))
    assert w.resident.room in text and w.resident.building in text
    assert not re.search(r"(unit|单元)\s*[,，]", text) and ", ," not in text and "，，" not in text


# English nouns after a count: "1 orders" and "2 order" read wrong (gettext plural forms).
ONE_WRONG = re.compile(r"\b1 (orders|neighbours|units|minutes)\b|\b1 neighbours? have\b")
TWO_WRONG = re.compile(r"\b2 (order|neighbour|unit|minute)\b(?!s)|\b2 neighbours has\b")


@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize("locale", LOCALES)
def test_counts_read_right(renderer: Renderer, locale: str, count: int) -> None:
    """Every template and text collection, with every count it shows at 1 and at 2."""
    w = world(VARIANTS["en"], count)
    wrong = ONE_WRONG if count == 1 else TWO_WRONG
    shown = []
    for name, builders in sorted(SAMPLES.items()):
        for build in builders:
            text = telegram_text(renderer.render(locale, name, **build(renderer, locale, w)))
            shown.append((name, text))
    for collection in collections():
        for name in renderer.macro_names(collection):
            text = renderer.macro(locale, collection, name, **macro_context(collection, w))
            shown.append((f"{collection}.{name}", text))
    assert [(name, text) for name, text in shown if wrong.search(text)] == []
    if locale == "en":  # the counted texts are there to be checked, in their right form
        texts = " ".join(text for _, text in shown)
        one = ("1 neighbour joined", "1 order, ", "Reminded 1 neighbour.", "1 neighbour has")
        two = ("2 neighbours joined", "2 orders, ", "Reminded 2 neighbours.", "2 neighbours have")
        assert all(phrase in texts for phrase in (one if count == 1 else two))


# Chinese text is set with full-width punctuation: an ASCII comma, full stop, colon, semicolon,
# question or exclamation mark beside a Chinese character is a slip ("订单：牛奶. 自提").
_HALF_WIDTH_BESIDE_CJK = re.compile(
    r"[\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e][,.;:?!](?![0-9])|[,;:?!]\s*[\u4e00-\u9fff]"
)


def test_chinese_uses_full_width_punctuation(renderer: Renderer) -> None:
    w = world(VARIANTS["zh"])
    slips = []
    for name, builders in sorted(SAMPLES.items()):
        for build in builders:
            context = build(renderer, "zh_Hans", w)
            texts = [telegram_text(renderer.render("zh_Hans", name, **context))]
            if name == "invoice_description":  # sent as plain text
                texts.append(renderer.plain("zh_Hans", name, **context))
            slips += [
                (name, line)
                for t in texts
                for line in t.splitlines()
                if _HALF_WIDTH_BESIDE_CJK.search(line)
            ]
    for collection in collections():
        for name in renderer.macro_names(collection):
            text = renderer.macro("zh_Hans", collection, name, **macro_context(collection, w))
            if _HALF_WIDTH_BESIDE_CJK.search(text):
                slips.append((f"{collection}.{name}", text))
    assert slips == []
