"""The leader's pickup list: PDF and CSV documents, and the list message with pickup buttons."""

from __future__ import annotations

from dataclasses import fields

from groupbuy.model import Community, Deal, Order, PaymentStatus, Resident, User
from handlers.actions import Action, Button, Send, SendDocument
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


def rows(
    deps: Deps,
    locale: str,
    deal: Deal,
    orders: list[Order],
    residents: dict[int, Resident],
    users: dict[int, User],
    held: dict[int, int],
    claimed: dict[int, int],
) -> tuple[PickupRow, ...]:
    items = {i.id: i for i in deal.items}
    result = []
    for order in orders:
        resident = residents.get(order.user_id)
        user = users.get(order.user_id)
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
                picked_up=order.picked_up_at is not None,
            )
        )
    return tuple(sort_rows(result))


async def build(deps: Deps, deal: Deal, locale: str) -> tuple[PickupList, list[Order]] | None:
    async with deps.uow() as uow:
        community = await uow.communities.get(deal.community_id)
        orders = await uow.orders.for_deal(deal.id)
        user_ids = [o.user_id for o in orders]
        residents = await uow.users.residents(deal.community_id, user_ids)
        users = await uow.users.many(user_ids)
        held = await uow.payments.held_by_order(deal.id)
        claimed: dict[int, int] = {}
        for p in await uow.payments.for_deal(deal.id):
            if p.status is PaymentStatus.CLAIMED:
                claimed[p.order_id] = claimed.get(p.order_id, 0) + p.amount
    if community is None:
        return None
    found = rows(deps, locale, deal, orders, residents, users, held, claimed)
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
    buttons = [
        Button(
            deps.texts.macro(locale, "labels", "picked_button", code=row.code),
            data=Callback(Op.PICKED, deal.id, by_code[row.code].id).pack(),
        )
        for row in chunk
        if not row.picked_up
    ]
    keyboard = tuple(tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3))
    return Send(
        chat_id, deps.texts.render(locale, "pickup_list_message", deal=deal, rows=chunk), keyboard
    )
