"""The model: the deal state machine, minimums, derived values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from groupbuy.model import (
    TRANSITIONS,
    Deal,
    DealStats,
    DealStatus,
    Item,
    MinimumKind,
    Order,
    OrderLine,
    User,
    can_move,
    minimum_reached,
)

T = datetime(2026, 6, 1, tzinfo=UTC)


def make_deal(
    kind: MinimumKind = MinimumKind.NONE,
    minimum: int = 0,
    items: tuple[Item, ...] = (),
    buildings: tuple[str, ...] = (),
) -> Deal:
    return Deal(
        id=1,
        community_id=-1,
        leader_id=7,
        title="t",
        description="d",
        currency="CNY",
        deadline=T,
        pickup_place="p",
        pickup_window="w",
        minimum_kind=kind,
        minimum=minimum,
        buildings=buildings,
        photo_file_id=None,
        status=DealStatus.OPEN,
        created_at=T,
        closed_at=None,
        close_reason=None,
        post_chat_id=None,
        post_message_id=None,
        items=items,
    )


def make_item(item_id: int, stock: int, sold: int, price: int = 100) -> Item:
    return Item(item_id, 1, item_id, f"i{item_id}", "kg", price, stock, None, sold)


@pytest.mark.parametrize(
    ("kind", "minimum", "participants", "quantity", "reached"),
    [
        (MinimumKind.NONE, 0, 0, 0, False),  # nobody joined: nothing to hand out
        (MinimumKind.NONE, 0, 1, 1, True),
        (MinimumKind.PARTICIPANTS, 3, 2, 10, False),
        (MinimumKind.PARTICIPANTS, 3, 3, 3, True),
        (MinimumKind.PARTICIPANTS, 3, 4, 4, True),
        (MinimumKind.QUANTITY, 10, 5, 9, False),
        (MinimumKind.QUANTITY, 10, 1, 10, True),
        (MinimumKind.QUANTITY, 10, 1, 11, True),
    ],
)
def test_minimum_reached(
    kind: MinimumKind, minimum: int, participants: int, quantity: int, reached: bool
) -> None:
    deal = make_deal(kind, minimum)
    assert minimum_reached(deal, DealStats(participants, quantity)) is reached


def test_transitions_only_leave_open() -> None:
    for src in DealStatus:
        for dst in DealStatus:
            expected = src is DealStatus.OPEN and dst is not DealStatus.OPEN
            assert can_move(src, dst) is expected, (src, dst)
    assert set(TRANSITIONS) == set(DealStatus)


def test_sold_out_and_remaining() -> None:
    deal = make_deal(items=(make_item(1, 5, 5), make_item(2, 3, 2)))
    assert [i.remaining for i in deal.items] == [0, 1]
    assert not deal.sold_out
    assert make_deal(items=(make_item(1, 5, 5), make_item(2, 3, 3))).sold_out
    assert deal.item(2) is deal.items[1]
    assert deal.item(99) is None


def test_open_to_buildings() -> None:
    assert make_deal().open_to("anything")
    restricted = make_deal(buildings=("1", "2"))
    assert restricted.open_to("2")
    assert not restricted.open_to("3")


def test_order_amount_and_quantities() -> None:
    deal = make_deal(items=(make_item(1, 5, 0, price=1250), make_item(2, 5, 0, price=300)))
    order = Order(1, 1, 42, "K7P2X", (OrderLine(1, 2), OrderLine(2, 0)))
    assert order.quantity(1) == 2
    assert order.quantity(2) == 0
    assert order.quantity(3) == 0
    assert order.total_quantity == 2
    assert order.active
    assert order.amount(deal) == 2500
    assert not Order(2, 1, 43, "K7P2Y", (OrderLine(1, 0),)).active


def test_display_name() -> None:
    assert User(1, "Li").display_name == "Li"
    assert User(1, "Li", "Wei").display_name == "Li Wei"


def test_an_order_waits_until_all_of_it_is_handed_out() -> None:
    order = Order(1, 1, 42, "K7P2X", (OrderLine(1, 2), OrderLine(2, 1)))
    handed = replace(order, picked_up_at=datetime(2026, 6, 1, tzinfo=UTC))
    assert order.waits(held_back=False)  # not handed out yet
    assert handed.waits(held_back=True)  # handed out, a line held back for later
    assert not handed.waits(held_back=False)  # all of it handed out
    empty = Order(2, 1, 43, "K7P2Y", (OrderLine(1, 0),))
    assert not empty.waits(held_back=False)  # cancelled: nothing to come for
