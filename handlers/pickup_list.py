"""The leader's pickup list: PDF and CSV documents, and the list message with pickup buttons.

A list of 10,000 orders is seconds of drawing (rows, PDF, CSV, chat messages), and the event
loop answers every neighbour's press meanwhile: so the list is read in one statement
(`Orders.pickup_sheet`) and drawn off the loop, in the list worker's process
(`deps.drawer`: bot/list_worker.py), or in a worker thread where no other process can open the
database. What was drawn is kept (`DrawnLists`), keyed by what it was drawn from: a second press
that would draw the same list (the deal, its orders, money and pickups unchanged) sends it again
at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import fields, replace
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple, TypeVar

from groupbuy.live import Live, LiveKind, StaleMessage
from groupbuy.model import Community, Deal, Order, PickupPoint
from groupbuy.money import Money, exponent
from groupbuy.pickup_points import offered
from groupbuy.ports import PickupSheet, SheetEntry, UnitOfWork
from handlers.actions import Action, Button, Edit, Keyboard, Later, Send, SendDocument
from handlers.callbacks import Callback, Op
from handlers.context import Deps
from handlers.drawn_lists import Drawn, DrawnLists, Printout
from messages import formatting
from messages.pickup_list import (
    PickupLine,
    PickupList,
    PickupListLabels,
    PickupRow,
    compute_totals,
    render_csv,
    render_pdf,
    render_xlsx,
    sort_rows,
)
from messages.render import Renderer

MESSAGE_BUDGET = 3500  # characters per list message, safely under Telegram's 4096
ROWS_PER_MESSAGE = 30  # and few enough buttons to press on a phone
_CODE = "\ue000"  # a private-use character: in no translation, no pickup code


def labels(texts: Renderer, locale: str, community: Community, now: datetime) -> PickupListLabels:
    values = {
        f.name: texts.macro(locale, "pickup_labels", f.name)
        for f in fields(PickupListLabels)
        if f.name != "generated_at"
    }
    stamp = formatting.when(now, community.timezone, locale)
    values["generated_at"] = texts.macro(locale, "pickup_labels", "generated_at", at=stamp)
    return PickupListLabels(**values)


def to_collect(due: int, claimed: int) -> bool:
    """Cash to take at the table: owed (`due`: the order's amount less what is held for it),
    and no transfer reported that covers it."""
    return due > 0 and claimed < due


class _Said:
    """What the list says, made once per list and not once per order: payment states, money
    (Babel's formatting is ~30 µs), and order lines (the same item and quantity in hundreds
    of orders)."""

    def __init__(self, texts: Renderer, locale: str, deal: Deal) -> None:
        self._texts, self._locale, self._deal = texts, locale, deal
        self._paid = texts.macro(locale, "labels", "pay_state_paid")
        self._states: dict[tuple[str, int], str] = {}
        self._money: dict[int, str] = {}
        self._values: dict[int, Decimal] = {}
        self._items = {i.id: i for i in deal.items}
        self._lines: dict[tuple[int, int], PickupLine] = {}

    def state(self, due: int, claimed: int) -> str:
        """What the leader does at the table: nothing (paid), check a transfer, or collect
        cash."""
        if due <= 0:
            return self._paid
        key = ("pay_state_claimed" if claimed >= due else "pay_state_due", due)
        said = self._states.get(key)
        if said is None:
            amount = self.money(due)
            said = self._texts.macro(self._locale, "labels", key[0], amount=amount)
            self._states[key] = said
        return said

    def money(self, amount: int) -> str:
        said = self._money.get(amount)
        if said is None:
            said = formatting.money(amount, self._deal.currency, self._locale)
            self._money[amount] = said
        return said

    def value(self, amount: int) -> Decimal:
        said = self._values.get(amount)
        if said is None:
            said = self._values[amount] = Money(amount, self._deal.currency).as_decimal()
        return said

    def line(self, item_id: int, quantity: int) -> PickupLine:
        said = self._lines.get((item_id, quantity))
        if said is None:
            item = self._items[item_id]
            said = self._lines[(item_id, quantity)] = PickupLine(item.name, quantity, item.unit)
        return said


class Source(NamedTuple):
    """What a list is drawn from, read in one unit of work (`read`)."""

    deal: Deal
    community: Community
    sheet: PickupSheet
    points: tuple[PickupPoint, ...] = ()  # the pickup points the deal offers, in its order


def rows(
    texts: Renderer,
    locale: str,
    deal: Deal,
    entries: Iterable[SheetEntry],
    timezone: str,
    points: Sequence[PickupPoint] = (),
) -> tuple[PickupRow, ...]:
    """The list's rows in natural building/unit/room order; `points`: the deal's, to name
    where each order is collected."""
    said = _Said(texts, locale, deal)
    names = {p.id: p.name for p in points}
    delivers = deal.delivery_fee is not None
    delivered = texts.macro(locale, "pickup_labels", "delivery") if delivers else ""
    result = []
    for entry in entries:
        order, resident, user = entry.order, entry.resident, entry.buyer
        handed = order.picked_up_at is not None  # all of it, or all but what is held back
        picked = handed and not entry.held_back
        amount = order.amount(deal)
        due = amount - entry.held
        result.append(
            PickupRow(
                building=resident.building if resident else "?",
                unit=resident.unit if resident else "",
                room=resident.room if resident else "",
                name=user.display_name if user else str(order.user_id),
                phone=resident.phone if resident else None,
                lines=tuple(
                    said.line(ln.item_id, ln.quantity) for ln in order.lines if ln.quantity > 0
                ),
                amount=said.money(amount),
                amount_value=said.value(amount),
                owed_value=said.value(max(due, 0)),
                code=order.code,
                payment=said.state(due, entry.claimed),
                collect=to_collect(due, entry.claimed),
                picked_up=picked,
                handed_out_at=(
                    formatting.when(order.picked_up_at, timezone, locale)
                    if order.picked_up_at is not None
                    else ""
                ),
                handed_out_by=(
                    entry.handed_out_by.display_name if handed and entry.handed_out_by else ""
                ),
                held_back=tuple(said.line(item, units) for item, units in entry.held_back),
                point=(
                    delivered
                    if order.delivery and delivered
                    else (names.get(order.point or 0, "") if names else "")
                ),
            )
        )
    return tuple(sort_rows(result))


def _source(source: Source) -> Hashable:
    """What a drawn list shows, as a key: the deal (items, prices, status), the community's
    names and clock, its points, and every order line with its address, point, names and
    money."""
    community = source.community
    place = (community.name, community.title, community.timezone)
    return source.deal, place, source.points, source.sheet.fingerprint()


def pickup_of(
    texts: Renderer, locale: str, source: Source, now: datetime
) -> tuple[PickupList, list[Order]]:
    deal, community = source.deal, source.community
    entries = list(source.sheet.entries())
    found = rows(texts, locale, deal, entries, community.timezone, source.points)
    pickup = PickupList(
        deal_title=deal.title,
        community=community.name or community.title,
        pickup_place=deal.pickup_place,
        pickup_window=deal.pickup_window,
        labels=labels(texts, locale, community, now),
        rows=found,
        totals=compute_totals(found),
        currency=deal.currency.upper(),
        currency_digits=exponent(deal.currency),
    )
    return pickup, [e.order for e in entries]


def draw(texts: Renderer, kept: DrawnLists, locale: str, source: Source, now: datetime) -> Drawn:
    """The whole list, drawn: blocking, seconds for a big list, so never on the event loop
    (a worker thread, or the list worker's process: bot/list_worker.py)."""
    deal, key = source.deal, _source(source)
    drawn = kept.get(deal.id, locale, key)
    if drawn is not None:
        return drawn
    pickup, orders = pickup_of(texts, locale, source, now)
    names = tuple(p.name for p in source.points)
    drawn = Drawn(
        printouts=printouts(texts, locale, deal, pickup, source.points),
        csv=render_csv(pickup),
        checklist=Drawn.pack(list_messages(texts, locale, deal, pickup, orders, 0, names)),
        keyboard=_workbook_keyboard(texts, locale, deal),
    )
    kept.put(deal.id, locale, key, drawn)
    return drawn


def printouts(
    texts: Renderer,
    locale: str,
    deal: Deal,
    pickup: PickupList,
    points: Sequence[PickupPoint],
) -> tuple[Printout, ...]:
    """The list's PDF; for a deal with pickup points, one per point with orders, each with
    that point's orders and picking totals (what the leader at that table prints)."""
    name = f"pickup-list-{deal.id}"
    places = [(p.name, _place_of(p)) for p in points] + [("", deal.pickup_place)]
    if deal.delivery_fee is not None:  # delivered orders: the leader's round, building by building
        places.append((pickup.labels.delivery, pickup.labels.delivery_place))
    if sum(1 for point, _ in places if any(r.point == point for r in pickup.rows)) <= 1:
        # One place (or no orders): one PDF, as a deal with one pickup place has.
        point = pickup.rows[0].point if pickup.rows else ""
        place = next((place for p, place in places if p == point), deal.pickup_place)
        caption = texts.render(
            locale, "pickup_list_caption", deal=deal, count=len(pickup.rows), point=point
        )
        return (Printout(name, render_pdf(replace(pickup, pickup_place=place)), caption),)
    made: list[Printout] = []
    for n, (point, place) in enumerate(places, start=1):
        at = tuple(r for r in pickup.rows if r.point == point)
        if not at:
            continue  # a point nobody collects at
        part = replace(pickup, rows=at, totals=compute_totals(at), pickup_place=place)
        # A PDF among several: whose it is (a point, the deal's own place, the delivery round).
        label = point or place
        caption = texts.render(locale, "pickup_list_caption", deal=deal, count=len(at), point=label)
        made.append(Printout(f"{name}-{n}" if point else name, render_pdf(part), caption))
    return tuple(made)


def _place_of(point: PickupPoint) -> str:
    """A point as a printout's header names it: its name, and its address."""
    return f"{point.name}, {point.address}" if point.address else point.name


def _workbook_keyboard(texts: Renderer, locale: str, deal: Deal) -> Keyboard:
    label = texts.macro(locale, "labels", "workbook_button")
    return ((Button(label, data=Callback(Op.WORKBOOK, deal.id).pack()),),)


def draw_workbook(
    texts: Renderer, kept: DrawnLists, locale: str, source: Source, now: datetime
) -> bytes:
    """The list as an Excel workbook (orders, picking totals, payments): blocking, like
    `draw`, and kept the same way."""
    deal, key = source.deal, _source(source)
    workbook = kept.workbooks.get(deal.id, locale, key)
    if workbook is None:
        pickup, _ = pickup_of(texts, locale, source, now)
        workbook = render_xlsx(pickup)
        kept.workbooks.put(deal.id, locale, key, workbook)
    return workbook


T = TypeVar("T")
# `draw` or `draw_workbook`: what a deal's list is drawn into, from what `read` found.
Drawing = Callable[[Renderer, DrawnLists, str, Source, datetime], T]


async def _drawn_here(deps: Deps, deal_id: int, locale: str, drawing: Drawing[T]) -> T | None:
    """Read, then drawn in a worker thread: where no list worker can open the database."""
    async with deps.uow() as uow:
        found = await read(uow, deal_id)
    if found is None:
        return None
    now = deps.clock.now()
    return await asyncio.to_thread(drawing, deps.texts, deps.lists, locale, found, now)


async def read(uow: UnitOfWork, deal_id: int) -> Source | None:
    """What a list is drawn from, in one unit of work."""
    deal = await uow.deals.get(deal_id)
    if deal is None:
        return None
    community = await uow.communities.get(deal.community_id)
    if community is None:
        return None
    points = tuple(offered(deal, await uow.points.many(deal.points))) if deal.points else ()
    return Source(deal, community, await uow.orders.pickup_sheet(deal.id), points)


async def build(deps: Deps, deal: Deal, locale: str) -> tuple[PickupList, list[Order]] | None:
    """The list's contents (for measuring and checking): read, then made off the loop."""
    async with deps.uow() as uow:
        found = await read(uow, deal.id)
    if found is None:
        return None
    return await asyncio.to_thread(pickup_of, deps.texts, locale, found, deps.clock.now())


async def documents(deps: Deps, deal: Deal, chat_id: int, locale: str) -> list[Action]:
    if deps.drawer is not None:  # in a process of its own (bot/list_worker.py)
        drawn = await deps.drawer(deal.id, locale, deps.clock.now())
    else:
        drawn = await _drawn_here(deps, deal.id, locale, draw)
    return [] if drawn is None else drawn.actions(deal.id, chat_id)


async def workbook(deps: Deps, deal: Deal, chat_id: int, locale: str) -> list[Action]:
    """The list as an Excel workbook, drawn like the list (`documents`) and sent after the
    update that asked for it."""
    if deps.drawer is not None:
        drawn = await deps.drawer.workbook(deal.id, locale, deps.clock.now())
    else:
        drawn = await _drawn_here(deps, deal.id, locale, draw_workbook)
    if drawn is None:
        return []
    document = SendDocument(chat_id, f"pickup-list-{deal.id}.xlsx", drawn)

    def parts() -> Iterator[Send | SendDocument]:
        yield document

    return [Later(chat_id, parts)]


def list_messages(
    texts: Renderer,
    locale: str,
    deal: Deal,
    pickup: PickupList,
    orders: list[Order],
    chat_id: int,
    points: Sequence[str] = (),
) -> list[Send]:
    """The same rows as text, split under Telegram's limit, with a button per order to tick it;
    a deal's `points` (their names, in its order) each have messages of their own.

    A message takes as many rows as fit, at most ROWS_PER_MESSAGE: drawn whole first, and only
    when too long drawn again with fewer rows, in proportion to how much too long it was."""
    by_code = {o.code: o for o in orders}
    messages: list[Send] = []
    rank = {name: n for n, name in enumerate(points)}
    groups: dict[str, list[PickupRow]] = {}
    for row in sorted(pickup.rows, key=lambda r: rank.get(r.point, len(rank))):
        groups.setdefault(row.point, []).append(row)
    for point, rows_ in groups.items():
        start = 0
        while start < len(rows_):
            count = min(ROWS_PER_MESSAGE, len(rows_) - start)
            while True:
                chunk = rows_[start : start + count]
                text = texts.render(
                    locale, "pickup_list_message", deal=deal, rows=chunk, point=point
                )
                if len(text) <= MESSAGE_BUDGET or count == 1:
                    break
                count = max(1, min(count - 1, count * MESSAGE_BUDGET // len(text)))
            messages.append(_message(texts, locale, deal, chunk, text, by_code, chat_id))
            start += count
    return messages


def _message(
    texts: Renderer,
    locale: str,
    deal: Deal,
    chunk: Sequence[PickupRow],
    text: str,
    by_code: dict[str, Order],
    chat_id: int,
) -> Send:
    # Kept current (groupbuy.live): a line ticks when its order is handed out, however that
    # was done (this list's button, /pickup CODE, another leader).
    checklist = Live(LiveKind.CHECKLIST, deal.id, tuple(by_code[row.code].id for row in chunk))
    return Send(chat_id, text, _keyboard(texts, locale, deal, chunk, by_code), live=checklist)


def _keyboard(
    texts: Renderer,
    locale: str,
    deal: Deal,
    chunk: Sequence[PickupRow],
    by_code: dict[str, Order],
) -> Keyboard:
    # The label is made once with a stand-in for the code, then the codes put in: made per
    # button, the macro and its translation were a third of a 10,000-order list's messages.
    label = texts.macro(locale, "labels", "picked_button", code=_CODE)
    buttons = [
        Button(
            label.replace(_CODE, row.code),
            data=Callback(Op.PICKED, deal.id, by_code[row.code].id).pack(),
        )
        for row in chunk
        if not row.picked_up
    ]
    return tuple(tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3))


async def redrawn_checklist(deps: Deps, message: StaleMessage) -> Edit | None:
    """A message of a leader's checklist as it should look now: its orders, ticked or not."""
    async with deps.uow() as uow:
        deal = await uow.deals.get(message.deal_id)
        leader = await uow.users.get(message.chat_id)
        if deal is None or leader is None:
            return None
        community = await uow.communities.get(deal.community_id)
        if community is None:
            return None
        locale = deps.user_locale(leader)
        # Only this message's orders (thirty at most), not the deal's thousands.
        sheet = await uow.orders.pickup_sheet(deal.id, set(message.subjects))
        points = offered(deal, await uow.points.many(deal.points)) if deal.points else []
    entries = list(sheet.entries())
    found = rows(deps.texts, locale, deal, entries, community.timezone, points)
    if not found:
        return None  # its orders are gone (cancelled): nothing left to tick
    point = found[0].point  # a message's orders are one point's
    text = deps.texts.render(locale, "pickup_list_message", deal=deal, rows=found, point=point)
    by_code = {e.order.code: e.order for e in entries}
    keyboard = _keyboard(deps.texts, locale, deal, found, by_code)
    return Edit(message.chat_id, message.message_id, text, keyboard)
