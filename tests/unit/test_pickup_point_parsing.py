"""groupbuy.pickup_points: how a leader's description of a point is read, and which deals'
pickup lines name points."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from groupbuy import limits
from groupbuy.deal_text import parse_delivery
from groupbuy.errors import InputError
from groupbuy.model import (
    Deal,
    DealStatus,
    Item,
    MinimumKind,
    Order,
    OrderLine,
    PickupPoint,
    PointSpec,
)
from groupbuy.pickup_points import named, parse_point

NOW = datetime(2026, 12, 1, tzinfo=UTC)

POINTS = [PickupPoint(1, -1, "Property office"), PickupPoint(2, -1, "Shop 12")]


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("Office", PointSpec("Office")),
        ("  Office |  Building 1 lobby ", PointSpec("Office", "Building 1 lobby")),
        ("Office | | 8:00-20:00", PointSpec("Office", "", "8:00-20:00")),
        ("物业办公室｜1号楼大堂｜8:00-20:00｜31.2304，121.4737",
         PointSpec("物业办公室", "1号楼大堂", "8:00-20:00", 31.2304, 121.4737)),
        ("Gate | Road | | -33.86, 151.2", PointSpec("Gate", "Road", "", -33.86, 151.2)),
        ("Gate | Road | 9-5 |", PointSpec("Gate", "Road", "9-5")),
    ],
)  # fmt: skip
def test_a_point_is_read(text: str, spec: PointSpec) -> None:
    assert parse_point(text) == spec


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "text_empty"),
        (" | Road", "text_empty"),
        ("A | b | c | 1, 2 | e", "point_format"),
        ("A | b | c | 91, 0", "point_location_invalid"),
        ("A | b | c | 0, 181", "point_location_invalid"),
        ("A | b | c | north", "point_location_invalid"),
        ("A | b | c | 31.2", "point_location_invalid"),
        ("x" * (limits.POINT_NAME_MAX + 1), "text_too_long"),
        ("A | " + "x" * (limits.POINT_ADDRESS_MAX + 1), "text_too_long"),
        ("A | b | " + "x" * (limits.POINT_HOURS_MAX + 1), "text_too_long"),
    ],
)
def test_bad_points_get_a_reason(text: str, key: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_point(text)
    assert refused.value.key == key


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("Shop 12", (2,)),
        ("shop 12 / property office", (2, 1)),
        ("Property office；Shop 12、Shop 12", (1, 2)),
        ("Shop 12, gate 2", None),  # a place of its own
        ("Shop 12 / Gate 3", None),  # not every part is a point
        ("", None),
    ],
)
def test_a_pickup_line_names_points_only_all_of_it(text: str, ids: tuple[int, ...] | None) -> None:
    assert named(text, POINTS) == ids


def test_a_deal_offers_a_bounded_number_of_points() -> None:
    many = [PickupPoint(n, -1, f"P{n}") for n in range(limits.POINTS_OFFERED + 1)]
    with pytest.raises(InputError) as refused:
        named(" / ".join(p.name for p in many), many)
    assert refused.value.key == "points_offered_too_many"


@pytest.mark.parametrize(
    ("text", "fee"),
    [
        ("5", (500, None)),
        ("free", (0, None)),
        ("免费", (0, None)),
        ("5 | free from 100", (500, 10000)),
        ("5｜满100免", (500, 10000)),
        ("3 | 满50包邮", (300, 5000)),
        ("8 | over 50", (800, 5000)),
    ],
)
def test_a_deals_delivery_fee_is_read(text: str, fee: tuple[int, int | None]) -> None:
    assert parse_delivery(text, "CNY") == fee


@pytest.mark.parametrize(
    ("text", "key"),
    [("", "delivery_format"), ("5 | 6 | 7", "delivery_format"), ("lots", "price_invalid"),
     ("5 | free from lots", "price_invalid"), ("-5", "price_invalid")],
)  # fmt: skip
def test_bad_delivery_fees_get_a_reason(text: str, key: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_delivery(text, "CNY")
    assert refused.value.key == key


def test_an_orders_fee_is_in_its_amount_until_the_free_total() -> None:
    item = Item(1, 1, 0, "Apple", "kg", 1250, 50, None, 0)
    deal = Deal(
        1, -1, 7, "Apples", "", "CNY", NOW, "Gate", "Sun", MinimumKind.NONE, 0, (), None,
        DealStatus.OPEN, NOW, None, None, None, None, (item,),
        delivery_fee=500, delivery_free_from=5000,
    )  # fmt: skip
    order = Order(1, 1, 2, "K7P2X", (OrderLine(1, 2),), delivery=True)
    assert (order.items_amount(deal), order.fee(deal), order.amount(deal)) == (2500, 500, 3000)
    assert Order(1, 1, 2, "K", (OrderLine(1, 4),), delivery=True).amount(deal) == 5000
    assert Order(1, 1, 2, "K", (OrderLine(1, 0),), delivery=True).fee(deal) == 0  # emptied
    assert Order(1, 1, 2, "K", (OrderLine(1, 2),)).amount(deal) == 2500  # collected
