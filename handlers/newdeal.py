"""Opening a deal: the guided dialog in private chat, the one-message format, preview, publish."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from groupbuy import limits, parsing
from groupbuy.cases import parse_rule, parse_stock
from groupbuy.deal_text import DealProblems, parse_deal, parse_delivery, parse_minimum
from groupbuy.deals import open_deal
from groupbuy.errors import DomainError, InputError
from groupbuy.model import (
    CaseRule,
    Community,
    Deal,
    DealSpec,
    DealStats,
    DealStatus,
    Item,
    ItemSpec,
    MinimumKind,
    Slot,
    Tier,
)
from groupbuy.notices import deal_posted
from groupbuy.pickup_points import offering
from groupbuy.ports import UnitOfWork
from groupbuy.slots import slots_in_window
from groupbuy.tiers import check_reachable, parse_prices
from handlers.actions import Action, Answer, Button, Keyboard, Send
from handlers.authority import Caller, as_group_leader
from handlers.callbacks import Callback, Op
from handlers.common import alert, button, error_text, refusal
from handlers.context import Deps
from handlers.deal_post import post_text
from handlers.events import Person

STATE = "newdeal"
SKIPPABLE = {
    "description", "item_limit", "minimum", "delivery", "slots", "cases", "photo", "buildings",
}  # fmt: skip
ORDER = (
    "title", "description", "item_name", "item_unit", "item_price", "item_stock", "item_limit",
    "more", "deadline", "minimum", "pickup_place", "pickup_window", "delivery", "slots", "cases",
    "photo", "buildings", "preview",
)  # fmt: skip


# The preview's Edit (Op.EDIT's argument): a field's index in EDITABLE, an item's index plus
# ITEM, or MENU for the list of them. New fields go last: a preview's buttons keep their meaning.
EDITABLE = (
    "title", "description", "deadline", "minimum", "pickup_place", "pickup_window", "photo",
    "buildings", "delivery", "slots", "cases",
)  # fmt: skip
ITEM, MENU = 100, 999
PROBLEMS_SHOWN = 8  # a one-message deal's problems listed at once: a message holds this many


def _next(step: str) -> str:
    return ORDER[ORDER.index(step) + 1]


def _ask(deps: Deps, locale: str, chat_id: int, step: str, data: dict[str, Any]) -> Send:
    keyboard: Keyboard = ()
    if step == "more":
        keyboard = (
            (
                button(deps, locale, "add_another_item", Callback(Op.SKIP, 0, 1)),
                button(deps, locale, "continue", Callback(Op.SKIP, 0, 0)),
            ),
        )
    elif step == "buildings":
        keyboard = ((button(deps, locale, "all_buildings", Callback(Op.SKIP)),),)
    elif step in SKIPPABLE:
        keyboard = ((button(deps, locale, "skip", Callback(Op.SKIP)),),)
    context = {
        "items": data.get("items", []),
        "currency": data["currency"],
        "buildings": data["buildings"],
        # The deadline as understood, echoed under the next question: "fri 8pm" is a date.
        "deadline": datetime.fromisoformat(data["deadline"]) if data.get("deadline") else None,
        "tz": data["tz"],
        "points": data.get("points", []),  # the community's pickup points, by name
        "window": data.get("pickup_window"),  # what the slots' question offers to cut
    }
    return Send(chat_id, deps.texts.render(locale, f"newdeal_{step}", **context), keyboard)


async def start(deps: Deps, person: Person, community: Community) -> list[Action]:
    locale = deps.user_locale(person)
    async with deps.uow() as uow:
        user = await uow.users.get(person.id)
        locale = deps.user_locale(user or person)
        data = {
            "community": community.chat_id,
            "currency": community.currency,
            "buildings": list(community.buildings),
            "tz": community.timezone,
            "step": "title",
            "items": [],
            "item": {},
            "points": [p.name for p in await uow.points.of_community(community.chat_id)],
        }
        await uow.dialogs.save(person.id, STATE, data, deps.clock.now())
        await uow.commit()
    intro = Send(person.id, deps.texts.render(locale, "newdeal_intro", community=community))
    return [intro, _ask(deps, locale, person.id, "title", data)]


def _accept(step: str, value: str, data: dict[str, Any], now: datetime) -> None:
    currency = str(data["currency"])
    item: dict[str, Any] = data.setdefault("item", {})
    if step == "title":
        data["title"] = parsing.bounded_text(value, limits.TITLE_MAX, key="title")
    elif step == "description":
        data["description"] = parsing.bounded_text(value, limits.DESCRIPTION_MAX, key="description")
    elif step == "item_name":
        item["name"] = parsing.bounded_text(value, limits.ITEM_NAME_MAX, key="item_name")
    elif step == "item_unit":
        item["unit"] = parsing.bounded_text(value, limits.UNIT_MAX, key="item_unit")
    elif step == "item_price":
        item["price"], tiers = parse_prices(value, currency)
        item["tiers"] = [[t.from_quantity, t.price] for t in tiers]
    elif step == "item_stock":
        stock, case_size = parse_stock(value)
        check_reachable(_tiers(item), stock)
        item["stock"], item["case_size"] = stock, case_size
    elif step == "item_limit":
        item["limit"] = parsing.positive_int(value, limits.LIMIT_MAX, key="limit")
    elif step == "deadline":
        at = parsing.deadline(value, now, ZoneInfo(str(data["tz"])))
        data["deadline"] = at.isoformat()
    elif step == "minimum":
        kind, count = parse_minimum(value)
        data["minimum_kind"], data["minimum"] = kind.value, count
    elif step == "pickup_place":
        data["pickup_place"] = parsing.bounded_text(value, limits.PLACE_MAX, key="pickup")
    elif step == "pickup_window":
        data["pickup_window"] = parsing.bounded_text(value, limits.WINDOW_MAX, key="window")
    elif step == "delivery":
        data["delivery_fee"], data["delivery_free_from"] = parse_delivery(value, currency)
    elif step == "slots":
        window = str(data.get("pickup_window") or "")
        plan = slots_in_window(value, window, now, ZoneInfo(str(data["tz"])))
        data["slots"] = [[start.isoformat(), end.isoformat()] for start, end in plan.stretches]
        data["slot_seats"] = plan.seats
    elif step == "cases":
        data["case_rule"], data["case_wait"], data["case_tolerance"] = parse_rule(value)
    elif step == "buildings":
        data["chosen_buildings"] = list(parsing.building_choice(value, tuple(data["buildings"])))
    else:
        raise InputError("use_buttons")


def _clear(step: str, data: dict[str, Any]) -> None:
    """A skipped optional step: nothing there (no description, no minimum, all buildings)."""
    keys = {
        "description": ("description",),
        "minimum": ("minimum_kind", "minimum"),
        "delivery": ("delivery_fee", "delivery_free_from"),
        "slots": ("slots", "slot_seats"),
        "cases": ("case_rule", "case_wait", "case_tolerance"),
        "photo": ("photo",),
        "buildings": ("chosen_buildings",),
    }.get(step, ())
    for key in keys:
        data.pop(key, None)
    if step == "item_limit":
        data.get("item", {}).pop("limit", None)


def _tiers(item: dict[str, Any]) -> tuple[Tier, ...]:
    """An item's tiers as the dialog keeps them: [[from, price], ...]."""
    return tuple(Tier(int(start), int(price)) for start, price in item.get("tiers") or ())


def spec_from(data: dict[str, Any]) -> DealSpec:
    return DealSpec(
        title=str(data["title"]),
        description=str(data.get("description") or ""),
        items=tuple(
            ItemSpec(
                i["name"],
                i["unit"],
                int(i["price"]),
                int(i["stock"]),
                i.get("limit"),
                _tiers(i),
                i.get("case_size"),
            )
            for i in data["items"]
        ),
        deadline=datetime.fromisoformat(str(data["deadline"])),
        pickup_place=str(data["pickup_place"]),
        pickup_window=str(data["pickup_window"]),
        minimum_kind=MinimumKind(data.get("minimum_kind") or MinimumKind.NONE.value),
        minimum=int(data.get("minimum") or 0),
        buildings=tuple(data.get("chosen_buildings") or ()),
        photo_file_id=data.get("photo"),
        open_link=bool(data.get("open_link")),
        delivery_fee=data.get("delivery_fee"),
        delivery_free_from=data.get("delivery_free_from"),
        slots=tuple(
            (datetime.fromisoformat(start), datetime.fromisoformat(end))
            for start, end in data.get("slots") or ()
        ),
        slot_seats=int(data.get("slot_seats") or 0),
        case_rule=CaseRule(data.get("case_rule") or CaseRule.DOWN.value),
        case_wait=int(data.get("case_wait") or 0),
        case_tolerance=int(data.get("case_tolerance") or 100),
    )


async def answer(
    deps: Deps,
    person: Person,
    data: dict[str, Any],
    value: str | None,
    *,
    query_id: str | None = None,
    photo: str | None = None,
    choice: int = 0,
) -> list[Action]:
    """Advance the dialog by one answer: text, a photo, or a button (value None, `choice`)."""
    actions: list[Action] = [Answer(query_id)] if query_id else []
    now = deps.clock.now()
    async with deps.uow() as uow:
        user = await uow.users.get(person.id)
        locale = deps.user_locale(user or person)
        step = str(data["step"])
        try:
            if step == "preview":
                raise InputError("use_buttons")
            if step == "photo" and photo is not None:
                data["photo"] = photo
            elif value is None:
                if step == "more":
                    step = "more_again" if choice == 1 else "more"  # add another, or continue
                elif step not in SKIPPABLE:
                    raise InputError("step_required")
                else:  # skipped: none (again, when the preview's Edit asked)
                    _clear(step, data)
            elif step == "more":
                raise InputError("use_buttons")
            else:
                _accept(step, value, data, now)
        except DomainError as error:
            return [*actions, refusal(deps, person.id, locale, error)]
        following = _advance(step, data)
        data["step"] = following
        await uow.dialogs.save(person.id, STATE, data, now)
        await uow.commit()
    if following == "preview":
        return [*actions, *await preview(deps, person, locale, data)]
    return [*actions, _ask(deps, locale, person.id, following, data)]


def _advance(step: str, data: dict[str, Any]) -> str:
    if data.get("editing"):  # a field changed from the preview's Edit: back to the preview
        if step == "item_limit":  # the item typed again replaces the old one
            items = list(data.get("items", []))
            items[int(data["edit_item"])] = data.pop("item", {})
            data.update(items=items, item={})
        if step == "item_limit" or not step.startswith("item_"):
            data.pop("editing", None)
            data.pop("edit_item", None)
            return "preview"
    if step == "more_again":
        return "item_name"
    if step == "item_limit":  # the item is complete
        data["items"] = [*data.get("items", []), data.pop("item", {})]
        data["item"] = {}
        return "more" if len(data["items"]) < limits.ITEMS_MAX else "deadline"
    if step == "more":
        return "deadline"
    following = _next(step)
    if following == "cases" and not any(i.get("case_size") for i in data.get("items", [])):
        following = _next(following)  # nothing sold by the case: nothing to ask
    return following


async def preview(deps: Deps, person: Person, locale: str, data: dict[str, Any]) -> list[Action]:
    spec = spec_from(data)
    async with deps.uow() as uow:  # its payment mode and timezone, as the post will show them
        found = await uow.communities.get(int(data["community"]))
        spec = await offering(uow, int(data["community"]), spec)  # the points it names
    community = found or Community(
        chat_id=int(data["community"]), title="", timezone=str(data["tz"])
    )
    # A deal that does not exist yet, only to show the leader exactly what the post will say.
    shown = Deal(
        id=0, community_id=community.chat_id, leader_id=person.id, title=spec.title,
        description=spec.description, currency=str(data["currency"]), deadline=spec.deadline,
        pickup_place=spec.pickup_place, pickup_window=spec.pickup_window,
        minimum_kind=spec.minimum_kind, minimum=spec.minimum, buildings=spec.buildings,
        open_link=spec.open_link, payment_mode=community.payment_mode,
        delivery_fee=spec.delivery_fee, delivery_free_from=spec.delivery_free_from,
        case_rule=spec.case_rule, case_wait=spec.case_wait, case_tolerance=spec.case_tolerance,
        photo_file_id=None, status=DealStatus.OPEN, created_at=deps.clock.now(), closed_at=None,
        close_reason=None, post_chat_id=None, post_message_id=None,
        items=tuple(
            Item(0, 0, n, i.name, i.unit, i.price, i.stock, i.limit, 0, i.tiers,
                 case_size=i.case_size)
            for n, i in enumerate(spec.items)
        ),
    )  # fmt: skip
    body = post_text(deps, locale, shown, DealStats(0, 0), community)
    # Who may join with the deal's link: a toggle showing the current choice.
    link = (
        button(deps, locale, "link_anyone", Callback(Op.OPEN_LINK, 0, 0))
        if spec.open_link
        else button(deps, locale, "link_members", Callback(Op.OPEN_LINK, 0, 1))
    )
    keyboard = (
        (
            button(deps, locale, "publish", Callback(Op.PUBLISH)),
            button(deps, locale, "discard", Callback(Op.DISCARD)),
        ),
        (link,),
        (button(deps, locale, "edit", Callback(Op.EDIT, 0, MENU)),),
    )
    # The slots as one line (they cut one window evenly): from the first's start to the last's
    # end, how many, of how many minutes.
    slots = None
    if spec.slots:
        (start, first_end), (_, end) = spec.slots[0], spec.slots[-1]
        minutes = int((first_end - start).total_seconds() // 60)
        span = Slot(0, 0, start, end, spec.slot_seats)
        slots = {"count": len(spec.slots), "minutes": minutes, "span": span}
    text = deps.texts.render(
        locale,
        "newdeal_preview",
        body=body,
        has_photo=spec.photo_file_id is not None,
        slots=slots,
        tz=community.timezone,
    )
    return [Send(person.id, text, keyboard)]


async def on_edit(
    deps: Deps, person: Person, data: dict[str, Any], choice: int, query_id: str
) -> list[Action]:
    """The preview's Edit: the fields to change (MENU), then the chosen field's question; the
    answer brings the preview back. An item (ITEM + its index) is typed again, all of it."""
    async with deps.uow() as uow:
        user = await uow.users.get(person.id)
        locale = deps.user_locale(user or person)
        if data.get("step") != "preview" and not data.get("editing"):
            return [alert(deps, query_id, locale, DomainError("stale_button"))]
        items = list(data.get("items", []))
        if choice == MENU:
            return [Answer(query_id), _edit_menu(deps, locale, person.id, items)]
        if choice >= ITEM and choice - ITEM < len(items):
            data.update(step="item_name", edit_item=choice - ITEM, item={})
        elif 0 <= choice < len(EDITABLE):
            data.update(step=EDITABLE[choice], edit_item=None)
        else:
            return [alert(deps, query_id, locale, DomainError("stale_button"))]
        data["editing"] = True
        await uow.dialogs.save(person.id, STATE, data, deps.clock.now())
        await uow.commit()
    return [Answer(query_id), _ask(deps, locale, person.id, str(data["step"]), data)]


def _edit_menu(deps: Deps, locale: str, chat_id: int, items: list[dict[str, Any]]) -> Send:
    fields = [
        button(deps, locale, f"field_{name}", Callback(Op.EDIT, 0, n))
        for n, name in enumerate(EDITABLE)
        if name != "cases" or any(i.get("case_size") for i in items)  # only with cases to fill
    ]
    rows: list[tuple[Button, ...]] = [tuple(fields[i : i + 2]) for i in range(0, len(fields), 2)]
    rows += [
        (button(deps, locale, "edit_item", Callback(Op.EDIT, 0, ITEM + n), name=item["name"]),)
        for n, item in enumerate(items)
    ]
    return Send(chat_id, deps.texts.render(locale, "newdeal_edit"), tuple(rows))


async def publish(
    deps: Deps, person: Person, community_id: int, spec: DealSpec, currency: str | None = None
) -> tuple[Send, str]:
    """Open the deal and post it in the group. Returns the leader's private confirmation (the
    deal's number, when it closes, its link and the commands that take the number) and the
    leader's locale."""
    now = deps.clock.now()

    async def act(uow: UnitOfWork) -> tuple[Send, str]:
        user = await uow.users.get(person.id)
        locale = deps.user_locale(user or person)
        community = await uow.communities.get(community_id)
        if community is None:
            raise DomainError("community_unknown")
        if currency is not None and currency != community.currency:
            # Prices were typed in the old currency's minor units (a /paymode to Stars
            # meanwhile): publishing them as they are would change every price.
            raise DomainError("currency_changed")
        # Not typed in a topic (the private dialog, General): the community's topic for deals.
        placed = spec if spec.thread_id is not None else replace(spec, thread_id=community.topic_id)
        deal = await open_deal(uow, community, person.id, placed, now, deps.config.reminder_before)
        # The post goes through the outbox, written with the deal: a Telegram that fails now
        # delays it, and one that never takes it is reported to the leader (bot/background.py).
        await uow.outbox.add(
            deal_posted(deal.id, community.chat_id, deal.photo_file_id is not None), now
        )
        await uow.dialogs.clear(person.id)
        await uow.commit()
        text = deps.texts.render(
            locale,
            "newdeal_published",
            deal=deal,
            community=community,
            tz=community.timezone,
            link=deps.deep_link(f"o_{deal.id}"),
        )
        return Send(person.id, text), locale

    # Opened in the unit of work that checked, again, that they lead the group.
    return await as_group_leader(deps, Caller.in_private(person), community_id, act)


async def on_publish(
    deps: Deps, person: Person, data: dict[str, Any], query_id: str
) -> list[Action]:
    if data.get("step") != "preview":
        return [Answer(query_id)]
    try:
        done, _ = await publish(
            deps, person, int(data["community"]), spec_from(data), str(data["currency"])
        )
    except DomainError as error:
        locale = deps.user_locale(person)
        return [Answer(query_id, error_text(deps, locale, error), alert=True)]
    return [Answer(query_id), done]


async def on_open_link(
    deps: Deps, person: Person, data: dict[str, Any], choice: int, query_id: str
) -> list[Action]:
    """The preview's toggle: members of the group only, or anyone with the deal's link."""
    if data.get("step") != "preview":
        return [Answer(query_id)]
    data["open_link"] = choice == 1
    async with deps.uow() as uow:
        user = await uow.users.get(person.id)
        await uow.dialogs.save(person.id, STATE, data, deps.clock.now())
        await uow.commit()
    locale = deps.user_locale(user or person)
    return [Answer(query_id), *await preview(deps, person, locale, data)]


async def on_discard(deps: Deps, person: Person, query_id: str) -> list[Action]:
    async with deps.uow() as uow:
        user = await uow.users.get(person.id)
        await uow.dialogs.clear(person.id)
        await uow.commit()
    locale = deps.user_locale(user or person)
    return [Answer(query_id), Send(person.id, deps.texts.render(locale, "newdeal_discarded"))]


async def one_message(
    deps: Deps,
    person: Person,
    community: Community,
    text: str,
    chat_id: int,
    thread_id: int | None = None,
) -> list[Action]:
    """/newdeal followed by the whole deal in the documented format: publish without a dialog.
    `chat_id`, `thread_id`: where it was typed (a forum topic: where the deal is posted and its
    notices go). What is wrong with it, or that it is open, goes to the leader in private once
    they have started the bot: the group sees only the post."""
    async with deps.uow() as uow:
        user = await uow.users.get(person.id)
    locale = deps.user_locale(user or person)
    answer_in = person.id if user is not None and user.started else chat_id
    try:
        spec = parse_deal(
            text,
            community.currency,
            community.buildings,
            deps.clock.now(),
            ZoneInfo(community.timezone),
        )
        spec = replace(spec, thread_id=thread_id)
        done, locale = await publish(deps, person, community.chat_id, spec)
    except DomainError as error:
        problems = error.problems if isinstance(error, DealProblems) else [error]
        listed = [
            {"line": p.params.get("line"), "message": error_text(deps, locale, p)}
            for p in problems[:PROBLEMS_SHOWN]
        ]
        more = len(problems) - len(listed)
        body = deps.texts.render(locale, "newdeal_format_error", problems=listed, more=more)
        return [Send(answer_in, body)]
    return [done] if answer_in == person.id else []
