"""groupbuy.reorder: which open deal a past order is ordered again in, and with what."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from groupbuy.model import DealStatus, Order, OrderLine
from groupbuy.reorder import key, wanted, where_again
from tests.fakes import FakeUnitOfWorkFactory, deal_spec, item_spec, open_deal_committed

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


def test_names_match_with_case_and_spacing_aside() -> None:
    assert key("  Milk   1L ") == key("milk 1l") == "milk 1l"
    assert key("牛奶") != key("酸奶")


async def test_the_newest_open_deal_selling_any_of_it() -> None:
    factory = FakeUnitOfWorkFactory()
    spec = deal_spec(T0 + timedelta(days=1), item_spec("Milk 1L"), item_spec("Bread"))
    past = await open_deal_committed(factory, T0, spec)
    milk, bread = (i.id for i in past.items)
    order = Order(1, past.id, 42, "K7P2X", (OrderLine(milk, 2), OrderLine(bread, 0)))
    assert wanted(past, order) == {"milk 1l": 2}

    other = await open_deal_committed(
        factory, T0, deal_spec(T0 + timedelta(days=1), item_spec("Eggs"))
    )
    older = await open_deal_committed(
        factory, T0, deal_spec(T0 + timedelta(days=1), item_spec("milk 1l"))
    )
    newer = await open_deal_committed(
        factory, T0, deal_spec(T0 + timedelta(days=1), item_spec("Bread"), item_spec("MILK 1L"))
    )
    found = where_again(past, order, [newer, older, other, past])  # newest first
    assert found is not None
    deal, lines = found
    assert deal.id == newer.id and [(i.name, q) for i, q in lines] == [("MILK 1L", 2)]
    # The past deal itself, closed deals and deals selling none of it are passed over.
    closed = replace(newer, status=DealStatus.CLOSED)
    assert where_again(past, order, [closed, older, other, past]) == (older, [(older.items[0], 2)])
    assert where_again(past, order, [other, past]) is None
