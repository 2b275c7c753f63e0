"""The leader's pickup list: PDF and CSV documents, and the list message with pickup buttons."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import fields

from groupbuy.live import Live, LiveKind, StaleMessage
from groupbuy.model import Community, Deal, Order, PaymentStatus, Resident, User
from groupbuy.ports import UnitOfWork
from handlers.actions import Action, Button, Edit, Keyboard, Send, SendDocument
from handlers.callbacks import Callback, Op
from handlers.context import Deps
from messages import formatting
from messages.pickup_list import (
    PickupLine,
    PickupList,
    PickupListLabels,
    PickupRow,
    compute_totals,
    render_csv,
    render_pdf,
    sort_rows,
)

MESSAGE_BUDGET = 3500  # characters per list message, safely under Telegram's 4096
ROWS_PER_MESSAGE = 30  # and few enough buttons to press on a phone


def labels(deps: Deps, locale: str, deal: Deal, community: Community) -> PickupListLabels:
    values = {
        f.name: deps.texts.macro(locale, "pickup_labels", f.name)
        for f in fields(PickupListLabels)
        if f.name != "generated_at"
    }
    stamp = formatting.when(deps.clock.now(), community.timezone, locale)
    values["generated_at"] = deps.texts.macro(locale, "pickup_labels", "generated_at", at=stamp)
    return PickupListLabels(**values)


def to_collect(deal: Deal, order: Order, held: int, claimed: int) -> bool:
    """Cash to take at the table: owed, and no transfer reported that covers it."""
    due = order.amount(deal) - held
    return due > 0 and claimed < due


def payment_state(
    deps: Deps, locale: str, deal: Deal, order: Order, held: int, claimed: int
) -> str:
    """What the leader does at the table: nothing (paid), check a transfer, or collect cash."""
    due = order.amount(deal) - held
    if due <= 0:
        return deps.texts.macro(locale, "labels", "pay_state_paid")
    amount = formatting.money(due, deal.currency, locale)
    key = "pay_state_claimed" if claimed >= due else "pay_state_due"
    return deps.texts.macro(locale, "labels", key, amount=amount)


def handed_out(order: Order, users: dict[int, User], timezone: str, locale: str) -> tuple[str, str]:
    """When and by whom an order was handed out, for its line on the checklist; empty if not."""
    if order.picked_up_at is None:
        return "", ""
    by = users.get(order.picked_up_by) if order.picked_up_by is not None else None
    return formatting.when(order.picked_up_at, timezone, locale), by.display_name if by else ""


def rows(
    deps: Deps,
    locale: str,
    deal: Deal,
    orders: list[Order],
    residents: dict[int, Resident],
    users: dict[int, User],
    held: dict[int, int],
    claimed: dict[int, int],
    timezone: str,
) -> tuple[PickupRow, ...]:
    """`users`: the buyers and the leaders who handed orders out."""
    items = {i.id: i for i in deal.items}
    result = []
    for order in orders:
        resident = residents.get(order.user_id)
        user = users.get(order.user_id)
        handed_out_at, handed_out_by = handed_out(order, users, timezone, locale)
        result.append(
            PickupRow(
                building=resident.building if resident else "?",
                unit=resident.unit if resident else "",
                room=resident.room if resident else "",
                name=user.display_name if user else str(order.user_id),
                phone=resident.phone if resident else None,
                lines=tuple(
                    PickupLine(items[ln.item_id].name, ln.quantity, items[ln.item_id].unit)
                    for ln in order.lines
                    if ln.quantity > 0
                ),
                amount=formatting.money(order.amount(deal), deal.currency, locale),
                code=order.code,
                payment=payment_state(
                    deps, locale, deal, order, held.get(order.id, 0), claimed.get(order.id, 0)
                ),
                collect=to_collect(deal, order, held.get(order.id, 0), claimed.get(order.id, 0)),
                picked_up=order.picked_up_at is not None,
                handed_out_at=handed_out_at,
                handed_out_by=handed_out_by,
            )
        )
    return tuple(sort_rows(result))


async def _rows_of(
    deps: Deps, uow: UnitOfWork, deal: Deal, locale: str, only: Collection[int] | None = None
) -> tuple[Community, tuple[PickupRow, ...], list[Order]] | None:
    """The deal's pickup rows (of the orders in `only`, when given), read in `uow`."""
    community = await uow.communities.get(deal.community_id)
    if community is None:
        return None
    orders = await uow.orders.for_deal(deal.id)
    if only is not None:
        orders = [o for o in orders if o.id in only]
    user_ids = [o.user_id for o in orders]
    residents = await uow.users.residents(deal.community_id, user_ids)
    leaders = [o.picked_up_by for o in orders if o.picked_up_by is not None]
    users = await uow.users.many(user_ids + leaders)
    held = await uow.payments.held_by_order(deal.id)
    claimed: dict[int, int] = {}
    for p in await uow.payments.for_deal(deal.id):
        if p.status is PaymentStatus.CLAIMED:
            claimed[p.order_id] = claimed.get(p.order_id, 0) + p.amount
    found = rows(deps, locale, deal, orders, residents, users, held, claimed, community.timezone)
    return community, found, orders


async def build(deps: Deps, deal: Deal, locale: str) -> tuple[PickupList, list[Order]] | None:
    async with deps.uow() as uow:
        read = await _rows_of(deps, uow, deal, locale)
    if read is None:
        return None
    community, found, orders = read
    pickup = PickupList(
        deal_title=deal.title,
        community=community.name or community.title,
        pickup_place=deal.pickup_place,
        pickup_window=deal.pickup_window,
        labels=labels(deps, locale, deal, community),
        rows=found,
        totals=compute_totals(found),
    )
    return pickup, orders


async def documents(deps: Deps, deal: Deal, chat_id: int, locale: str) -> list[Action]:
    built = await build(deps, deal, locale)
    if built is None:
        return []
    pickup, orders = built
    name = f"pickup-list-{deal.id}"
    caption = deps.texts.render(locale, "pickup_list_caption", deal=deal, count=len(orders))
    actions: list[Action] = [
        SendDocument(chat_id, f"{name}.pdf", render_pdf(pickup), caption),
        SendDocument(chat_id, f"{name}.csv", render_csv(pickup)),
    ]
    actions += list_messages(deps, locale, deal, pickup, orders, chat_id)
    return actions


def list_messages(
    deps: Deps, locale: str, deal: Deal, pickup: PickupList, orders: list[Order], chat_id: int
) -> list[Send]:
    """The same rows as text, split under Telegram's limit, with a button per order to tick it."""
    by_code = {o.code: o for o in orders}
    messages: list[Send] = []
    chunk: list[PickupRow] = []
    for row in pickup.rows:
        chunk.append(row)
        text = deps.texts.render(locale, "pickup_list_message", deal=deal, rows=chunk)
        if len(chunk) >= ROWS_PER_MESSAGE or len(text) > MESSAGE_BUDGET:
            if len(chunk) > 1 and len(text) > MESSAGE_BUDGET:
                chunk.pop()
                messages.append(_message(deps, locale, deal, chunk, by_code, chat_id))
                chunk = [row]
            else:
                messages.append(_message(deps, locale, deal, chunk, by_code, chat_id))
                chunk = []
    if chunk:
        messages.append(_message(deps, locale, deal, chunk, by_code, chat_id))
    return messages


def _message(
    deps: Deps,
    locale: str,
    deal: Deal,
    chunk: list[PickupRow],
    by_code: dict[str, Order],
    chat_id: int,
) -> Send:
    text, keyboard = _drawn(deps, locale, deal, chunk, by_code)
    # Kept current (groupbuy.live): a line ticks when its order is handed out, however that
    # was done (this list's button, /pickup CODE, another leader).
    checklist = Live(LiveKind.CHECKLIST, deal.id, tuple(by_code[row.code].id for row in chunk))
    return Send(chat_id, text, keyboard, live=checklist)


def _drawn(
    deps: Deps, locale: str, deal: Deal, chunk: Sequence[PickupRow], by_code: dict[str, Order]
) -> tuple[str, Keyboard]:
    buttons = [
        Button(
            deps.texts.macro(locale, "labels", "picked_button", code=row.code),
            data=Callback(Op.PICKED, deal.id, by_code[row.code].id).pack(),
        )
        for row in chunk
        if not row.picked_up
    ]
    keyboard = tuple(tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3))
    return deps.texts.render(locale, "pickup_list_message", deal=deal, rows=chunk), keyboard


async def redrawn_checklist(deps: Deps, message: StaleMessage) -> Edit | None:
    """A message of a leader's checklist as it should look now: its orders, ticked or not."""
    async with deps.uow() as uow:
        deal = await uow.deals.get(message.deal_id)
        leader = await uow.users.get(message.chat_id)
        if deal is None or leader is None:
            return None
        locale = deps.user_locale(leader)
        read = await _rows_of(deps, uow, deal, locale, set(message.subjects))
    if read is None:
        return None
    _, found, orders = read
    if not found:
        return None  # its orders are gone (cancelled): nothing left to tick
    text, keyboard = _drawn(deps, locale, deal, found, {o.code: o for o in orders})
    return Edit(message.chat_id, message.message_id, text, keyboard)
