"""Callback data: what the bot packs it unpacks to the same; anything else is refused (None),
so a forged press never reaches a handler with numbers it did not make."""

from __future__ import annotations

import pytest

from groupbuy.parsing import ID_MAX
from handlers.callbacks import Callback, Op, unpack


@pytest.mark.parametrize(
    "callback",
    [
        Callback(Op.JOIN, 12, 34),
        Callback(Op.LESS, 12, -1),
        Callback(Op.SKIP),
        Callback(Op.LATER, 12, 4567, 89),
        Callback(Op.LATER, ID_MAX, ID_MAX, ID_MAX),
    ],
)
def test_what_is_packed_unpacks_the_same(callback: Callback) -> None:
    data = callback.pack()
    assert len(data.encode()) <= 64
    assert unpack(data) == callback


def test_a_third_number_is_written_only_when_there_is_one() -> None:
    assert Callback(Op.PICKED, 3, 4).pack() == "p:3:4"
    assert Callback(Op.LATER, 3, 4, 5).pack() == "H:3:4:5"


@pytest.mark.parametrize(
    "data",
    [
        "",
        "j:1",
        "j:1:2:3:4",  # one number too many
        "H:1:2:0",  # a third number is never 0: it is left out
        "H:1:2",  # an order's item to hold back, and no item
        "c:1:1:1",  # a third number where the bot never writes one
        "H:1:2:-5",
        "H:1:2:05",
        f"H:1:2:{ID_MAX + 1}",
        "j:99999999999:1",
        "?:1:2",  # no such operation
        "j:1:2 ",
        "j:١:2",  # digits, but not ASCII ones
    ],
)
def test_anything_else_is_refused(data: str) -> None:
    assert unpack(data) is None
