"""A resident's view of their order in private chat, with buttons to change it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from groupbuy.live import Live, LiveKind
from groupbuy.model import Community, Deal, DealStatus, Order, PaymentMode, PickupPoint, Slot
from groupbuy.payments import Standing, standing
from groupbuy.pickup_points import offered
from groupbuy.ports import UnitOfWork
from handlers.actions import Button, Edit, Keyboard
from handlers.callbacks import Callback, Op
from handlers.common import button
from handlers.context import Deps
from handlers.events import Press
from messages import formatting


def card_of(deal: Deal, resident: int) -> Live:
    """The order card is kept current (groupbuy.live): whatever changes the order, its money or
    the deal, the card is edited to show it."""
    return Live(LiveKind.CARD, deal.id, (resident,))


async def card_redrawn(
    deps: Deps, uow: UnitOfWork, locale: str, press: Press, deal: Deal, order: Order
) -> Edit:
    """The order card a button was pressed on, as it is now (read in the caller's unit of
    work, after its change): a choice made on it shows at once."""
    community = await uow.communities.get(deal.community_id)
    assert community is not None
    money = await standing(uow, deal, order)
    where = await where_of(uow, deal, deps.clock.now())
    return Edit(
        press.chat.id,
        press.message_id,
        order_text(deps, locale, deal, order, community, money, where),
        order_keyboard(deps, locale, deal, order, money, community, where),
        live=card_of(deal, order.user_id),
    )


def order_lines(deal: Deal, order: Order | None) -> list[dict[str, object]]:
    if order is None:
        return []
    return [
        {
            "item": item,
            "quantity": order.quantity(item.id),
            "amount": item.unit_price * order.quantity(item.id),
        }
        for item in deal.items
        if order.quantity(item.id) > 0
    ]


async def points_of(uow: UnitOfWork, deal: Deal) -> list[PickupPoint]:
    """The pickup points the deal offers, in its order (none: it has its pickup place)."""
    return offered(deal, await uow.points.many(deal.points)) if deal.points else []


@dataclass(frozen=True, slots=True)
class Where:
    """Where and when a deal's orders are collected, beyond its pickup place and window: the
    pickup points it offers and its pickup slots (each with the seats taken)."""

    points: tuple[PickupPoint, ...] = ()
    slots: tuple[Slot, ...] = ()
    now: datetime | None = None  # slots over by then get no button

    def slot_of(self, order: Order | None) -> Slot | None:
        return next((s for s in self.slots if order and s.id == order.slot), None)


async def where_of(uow: UnitOfWork, deal: Deal, now: datetime) -> Where:
    points = tuple(await points_of(uow, deal))
    return Where(points, tuple(await uow.slots.of_deal(deal.id)), now)


def point_of(order: Order | None, points: Sequence[PickupPoint]) -> PickupPoint | None:
    """Where the order is collected, when the deal offers points."""
    if order is None:
        return None
    return next((p for p in points if p.id == order.point), None)


def order_text(
    deps: Deps,
    locale: str,
    deal: Deal,
    order: Order | None,
    community: Community,
    money: Standing | None,
    where: Where = Where(),
) -> str:
    slot = where.slot_of(order)
    return deps.texts.render(
        locale,
        "my_order",
        deal=deal,
        order=order,
        lines=order_lines(deal, order),
        total=order.amount(deal) if order else 0,
        tz=community.timezone,
        money=money,
        community=community,
        point=point_of(order, where.points),
        choosing=len(where.points) > 1 and _may_choose(deal, order),
        slot=slot,
        booking=bool(where.slots) and slot is None and _may_choose(deal, order),
    )


def _may_choose(deal: Deal, order: Order | None) -> bool:
    """A buyer may still choose where they collect: until it is handed out, unless the
    leader delivers it."""
    return (
        order is not None
        and order.active
        and not order.delivery
        and order.picked_up_at is None
        and deal.status in (DealStatus.OPEN, DealStatus.CLOSED)
    )


def delivery_row(
    deps: Deps, locale: str, deal: Deal, order: Order | None
) -> list[tuple[Button, ...]]:
    """A deal that offers delivery by the leader: the buyer's choice, while it is open."""
    if deal.delivery_fee is None or order is None or not order.active:
        return []
    if order.delivery:
        return [(button(deps, locale, "delivery_off", Callback(Op.DELIVERY, deal.id, 0)),)]
    cost = deal.delivery_cost(order.items_amount(deal))
    amount = formatting.money(cost, deal.currency, locale) if cost else ""
    deliver = Callback(Op.DELIVERY, deal.id, 1)
    return [(button(deps, locale, "delivery_on", deliver, amount=amount),)]


def slot_rows(
    deps: Deps,
    locale: str,
    deal: Deal,
    order: Order | None,
    where: Where,
    tz: str,
) -> list[tuple[Button, ...]]:
    """A button per pickup slot still to come: its time and the seats left (✅ the buyer's,
    "full" when none is left: pressed, it says which slot has room)."""
    if not where.slots or not _may_choose(deal, order):
        return []
    buttons = [
        button(
            deps,
            locale,
            "slot_choice",
            Callback(Op.BOOK_SLOT, deal.id, s.id),
            span=formatting.span(s.starts_at, s.ends_at, tz, locale),
            left=s.left,
            chosen=order is not None and order.slot == s.id,
        )
        for s in where.slots
        if where.now is None or s.ends_at > where.now
    ]
    return [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]


def point_rows(
    deps: Deps, locale: str, deal: Deal, order: Order | None, points: Sequence[PickupPoint]
) -> list[tuple[Button, ...]]:
    """One button per point the deal offers (the chosen one ticked), and the chosen one's map."""
    rows: list[tuple[Button, ...]] = []
    if len(points) > 1 and _may_choose(deal, order):
        buttons = [
            button(
                deps,
                locale,
                "point_choice",
                Callback(Op.CHOOSE_POINT, deal.id, p.id),
                name=p.name,
                chosen=order is not None and order.point == p.id,
            )
            for p in points
        ]
        rows += [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    chosen = point_of(order, points)
    if chosen is not None and chosen.located and order is not None and order.active:
        map_button = Callback(Op.POINT_MAP, deal.id, chosen.id)
        rows.append((button(deps, locale, "point_map", map_button, name=chosen.name),))
    return rows


def pay_buttons(
    deps: Deps, locale: str, deal: Deal, money: Standing | None, community: Community | None
) -> list[tuple[Button, ...]]:
    """In pay-the-leader mode, while something is owed and not yet reported: "I have paid",
    and the leader's collection code when they gave one."""
    if (
        deal.payment_mode is not PaymentMode.LEADER
        or money is None
        or money.due <= money.claimed
        or deal.status not in (DealStatus.OPEN, DealStatus.CLOSED)
    ):
        return []
    row = [button(deps, locale, "claim_paid", Callback(Op.CLAIM_PAID, deal.id))]
    if community is not None and community.payee_photo:
        row.append(button(deps, locale, "payee_code", Callback(Op.PAYEE_CODE, deal.id)))
    return [tuple(row)]


def order_keyboard(
    deps: Deps,
    locale: str,
    deal: Deal,
    order: Order | None,
    money: Standing | None,
    community: Community | None,
    where: Where = Where(),
) -> Keyboard:
    tz = community.timezone if community else "UTC"
    pay = [
        *pay_buttons(deps, locale, deal, money, community),
        *point_rows(deps, locale, deal, order, where.points),
        *slot_rows(deps, locale, deal, order, where, tz),
    ]
    if deal.status is not DealStatus.OPEN:
        return tuple(pay)
    rows: list[tuple[Button, ...]] = [
        (
            button(deps, locale, "add_item", Callback(Op.JOIN, deal.id, item.id), item=item),
            button(deps, locale, "less", Callback(Op.LESS, deal.id, item.id)),
        )
        for item in deal.items
    ]
    rows += delivery_row(deps, locale, deal, order)
    if order is not None and order.active:
        rows.append((button(deps, locale, "cancel_order", Callback(Op.CANCEL_ORDER, deal.id)),))
    return tuple(rows + pay)
