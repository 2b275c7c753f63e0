"""The one-message deal format, for leaders who would rather type everything at once:

    /newdeal
    Title: Fresh milk
    Description: Bright Farm, 1 L bottles, delivered Saturday morning
    Item: Milk 1L | bottle | 12.50 | 100 | 4
    Item: Yogurt | cup | 5 | 50
    Deadline: tomorrow 20:00
    Minimum: 20 people            (or "50 units"; omit for none)
    Pickup: Property office, gate 2
    Window: Sat 9:00-11:00
    Buildings: 1, 2               (or "all"; omit for all)
    Link: anyone                  (anyone with the deal's link may join; omit: members only)
    Delivery: 5 | free from 100   (the leader delivers to the door for 5, free from 100 of
                                   items; "free" for no fee; omit: pickup only)
    Item: Milk | bottle | 6 | 8 cases of 12    (sold by the case, ordered by the bottle)
    Cases: round down | 80%       (a last case not full at the close: "round down" cuts it,
                                   "round up" the leader takes the rest, "keep open 6h";
                                   one at least 80% full counts as full; omit: round down)

Chinese keys work too: 标题 描述 商品 截止 成团 自提点 自提时间 楼栋 链接 送货上门 整箱. An item is
name | unit | price | stock | per-person limit (the limit may be left out).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import TypeVar
from zoneinfo import ZoneInfo

from groupbuy import limits, parsing
from groupbuy.cases import parse_rule, parse_stock
from groupbuy.errors import InputError
from groupbuy.model import CaseRule, DealSpec, ItemSpec, MinimumKind
from groupbuy.money import parse_price
from groupbuy.slots import slots_in_window
from groupbuy.tiers import check_reachable, parse_prices

_KEYS = {
    "title": "title", "标题": "title",
    "description": "description", "desc": "description",
    "描述": "description", "说明": "description",
    "item": "item", "商品": "item",
    "deadline": "deadline", "截止": "deadline", "截止时间": "deadline",
    "minimum": "minimum", "min": "minimum", "成团": "minimum", "起团": "minimum",
    "pickup": "pickup", "自提点": "pickup", "取货点": "pickup",
    "window": "window", "自提时间": "window", "取货时间": "window",
    "buildings": "buildings", "楼栋": "buildings",
    "link": "link", "链接": "link",
    "delivery": "delivery", "送货上门": "delivery", "配送": "delivery", "送货": "delivery",
    "slots": "slots", "时段": "slots", "取货时段": "slots", "自提时段": "slots",
    "cases": "cases", "case": "cases", "整箱": "cases", "凑箱": "cases", "不满箱": "cases",
}  # fmt: skip
T = TypeVar("T")
_LINK_ANYONE = {"anyone", "everyone", "public", "任何人", "所有人", "公开"}
_LINK_MEMBERS = {"members", "group", "members only", "群成员", "成员", "仅群成员"}
_LINE_RE = re.compile(r"^\s*([^:：]{1,20})\s*[:：]\s*(.*)$")
_MIN_RE = re.compile(
    r"^(?P<n>[0-9]{1,6})\s*(?P<kind>people|persons|participants|人|户|units?|件|份|pcs)?$", re.I
)


def parse_item(text: str, currency: str) -> ItemSpec:
    parts = [p.strip() for p in re.split(r"[|｜]", text)]
    if len(parts) not in (4, 5):
        raise InputError("item_format")
    name = parsing.bounded_text(parts[0], limits.ITEM_NAME_MAX, key="item_name")
    unit = parsing.bounded_text(parts[1], limits.UNIT_MAX, key="item_unit")
    price, tiers = parse_prices(parts[2], currency)
    stock, case_size = parse_stock(parts[3])
    check_reachable(tiers, stock)
    limit = (
        parsing.positive_int(parts[4], limits.LIMIT_MAX, key="limit") if len(parts) == 5 else None
    )
    return ItemSpec(name, unit, price, stock, limit, tiers, case_size)


def parse_minimum(text: str) -> tuple[MinimumKind, int]:
    cleaned = text.strip()
    if cleaned.lower() in {"", "none", "no", "无", "不限"}:
        return MinimumKind.NONE, 0
    match = _MIN_RE.match(cleaned)
    if match is None:
        raise InputError("minimum_invalid")
    count = parsing.positive_int(match.group("n"), limits.MINIMUM_MAX, key="minimum")
    kind = (match.group("kind") or "people").lower()
    if kind in {"people", "persons", "participants", "人", "户"}:
        return MinimumKind.PARTICIPANTS, count
    return MinimumKind.QUANTITY, count


class DealProblems(InputError):
    """Everything wrong with a one-message deal, each with its line number where it has one:
    the leader fixes them all at once instead of one per try."""

    def __init__(self, problems: list[InputError]) -> None:
        super().__init__("deal_problems")
        self.problems = problems


def parse_deal(
    text: str, currency: str, buildings: tuple[str, ...], now: datetime, tz: ZoneInfo
) -> DealSpec:
    """The deal a one-message /newdeal describes; DealProblems lists every bad line."""
    fields: dict[str, tuple[int, str]] = {}  # key: (line number, value)
    items: list[ItemSpec] = []
    problems: list[InputError] = []
    item_lines = 0  # a bad item line is its own problem, not a missing item

    def read(line: int, reader: Callable[[], T]) -> T | None:
        try:
            return reader()
        except InputError as problem:
            problem.params["line"] = line
            problems.append(problem)
            return None

    # Control characters go first: str.splitlines() also breaks at some of them (NEL, FS).
    for number, line in enumerate(parsing.clean_text(text).split("\n"), start=1):
        if not line.strip():
            continue
        match = _LINE_RE.match(line)
        key = _KEYS.get(match.group(1).strip().lower()) if match else None
        if match is None or key is None:
            problems.append(InputError("deal_line_unknown", line=number))
            continue
        value = match.group(2).strip()
        if key == "item":
            item_lines += 1
            item = read(number, partial(parse_item, value, currency))
            if item is not None:
                items.append(item)
        else:
            fields[key] = (number, value)

    def field(key: str, reader: Callable[[str], T], default: T) -> T:
        if key not in fields:
            return default
        number, value = fields[key]
        found = read(number, lambda: reader(value))
        return default if found is None else found

    for required in ("title", "deadline", "pickup", "window"):
        if not fields.get(required, (0, ""))[1]:
            problems.append(InputError("deal_field_missing", field=required))
            fields.pop(required, None)
    if not item_lines:
        problems.append(InputError("deal_field_missing", field="item"))
    if len(items) > limits.ITEMS_MAX:
        problems.append(InputError("items_too_many", limit=limits.ITEMS_MAX))
    kind, minimum = field("minimum", parse_minimum, (MinimumKind.NONE, 0))
    spec = DealSpec(
        title=field("title", lambda v: parsing.bounded_text(v, limits.TITLE_MAX, key="title"), ""),
        description=field(
            "description", lambda v: parsing.bounded_text(v, limits.DESCRIPTION_MAX), ""
        ),
        items=tuple(items),
        deadline=field("deadline", lambda v: parsing.deadline(v, now, tz), now),
        pickup_place=field(
            "pickup", lambda v: parsing.bounded_text(v, limits.PLACE_MAX, key="pickup"), ""
        ),
        pickup_window=field(
            "window", lambda v: parsing.bounded_text(v, limits.WINDOW_MAX, key="window"), ""
        ),
        minimum_kind=kind,
        minimum=minimum,
        buildings=field("buildings", lambda v: parsing.building_choice(v, buildings), ()),
        open_link=field("link", parse_link, False),
    )
    none: tuple[int | None, int | None] = (None, None)  # no Delivery: line, no delivery
    fee, free_from = field("delivery", partial(parse_delivery, currency=currency), none)
    spec = replace(spec, delivery_fee=fee, delivery_free_from=free_from)
    if "cases" in fields and items and not any(i.case_size for i in items):
        problems.append(InputError("cases_unused", line=fields.pop("cases")[0]))
    rule, hours, tolerance = field("cases", parse_rule, (CaseRule.DOWN, 0, 100))
    spec = replace(spec, case_rule=rule, case_wait=hours, case_tolerance=tolerance)
    if spec.pickup_window:  # cut into slots when asked (none without a window to cut)
        plan = field("slots", lambda v: slots_in_window(v, spec.pickup_window, now, tz), None)
        if plan is not None:
            spec = replace(spec, slots=plan.stretches, slot_seats=plan.seats)
    if problems:  # in the order of the lines, then what is missing
        problems.sort(key=_line_order)
        raise DealProblems(problems)
    return spec


def _line_order(problem: InputError) -> tuple[bool, int]:
    """By line number; what has none (a missing field) last."""
    line = problem.params.get("line")
    return (not isinstance(line, int), line if isinstance(line, int) else 0)


_FREE = {"free", "0", "免费", "包邮"}
_FREE_FROM = re.compile(
    r"^(?:(?:free\s*)?(?:from|over|above)|free|满|免费满)?\s*(?P<amount>[^\s免包]+)\s*"
    r"(?:免|包邮|免运费)?$",
    re.I,
)


def parse_delivery(text: str, currency: str) -> tuple[int, int | None]:
    """'5' (a fee), 'free' (no fee), '5 | free from 100' or '5 | 满100免': the fee, and the
    items' worth from which delivery is free."""
    parts = [p.strip() for p in re.split(r"[|｜]", text)]
    if len(parts) > 2 or not parts[0]:
        raise InputError("delivery_format")
    fee = 0 if parts[0].lower() in _FREE else parse_price(parts[0], currency)
    if len(parts) == 1:
        return fee, None
    found = _FREE_FROM.match(parts[1])
    if found is None:
        raise InputError("delivery_format")
    return fee, parse_price(found["amount"], currency)


def parse_link(text: str) -> bool:
    """Who may join with the deal's link: its group's members (the default) or anyone."""
    value = text.strip().lower()
    if not value or value in _LINK_MEMBERS:
        return False
    if value in _LINK_ANYONE:
        return True
    raise InputError("link_invalid")
