"""groupbuy.tiers: tiered prices as leaders type them, and the price an item's units cost at
the tier the deal has reached (groupbuy.model.Item)."""

from __future__ import annotations

import pytest

from groupbuy import limits
from groupbuy.errors import DomainError
from groupbuy.model import Item, Tier
from groupbuy.tiers import check_reachable, parse_prices, read_stored, stored


@pytest.mark.parametrize(
    "text",
    [
        "39; 35 from 50; 32 from 100",
        "¥39；满50件35；满100件¥32",
        "39; 50+ 35; 100+: 32",
        "39;35 from 50;32 from 100;",
        "３９；满50件35；满１００ 32",
    ],
)
def test_the_forms_leaders_type(text: str) -> None:
    assert parse_prices(text, "CNY") == (3900, (Tier(50, 3500), Tier(100, 3200)))


def test_one_price_has_no_tiers() -> None:
    assert parse_prices("12.50", "CNY") == (1250, ())


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("39; 35 from 50; 36 from 100", "tiers_order"),  # dearer than the tier before
        ("39; 39 from 50", "tiers_order"),  # not cheaper
        ("39; 35 from 100; 32 from 50", "tiers_order"),  # starts before the tier before
        ("39; 35 from 1", "tiers_order"),  # every unit is from 1: that is the price
        ("39; 35 from 0", "tiers_order"),
        ("39; cheaper later", "tier_format"),
        ("39; 35 from", "tier_format"),
        ("39; 0 from 50", "price_not_positive"),
        ("thirty; 35 from 50", "price_invalid"),
        ("; 35 from 50", "price_invalid"),
        ("39" + "".join(f"; {38 - n} from {10 * (n + 1)}" for n in range(5)), "tiers_too_many"),
    ],
)
def test_what_is_refused_says_why(text: str, key: str) -> None:
    with pytest.raises(DomainError) as raised:
        parse_prices(text, "CNY")
    assert raised.value.key == key
    if key == "tiers_too_many":
        assert raised.value.params == {"limit": limits.TIERS_MAX}


def test_a_tier_beyond_the_stock_is_a_slip() -> None:
    tiers = (Tier(50, 3500), Tier(100, 3200))
    check_reachable(tiers, 100)
    with pytest.raises(DomainError) as raised:
        check_reachable(tiers, 99)
    assert raised.value.key == "tier_beyond_stock"
    assert raised.value.params == {"n": 100, "stock": 99}


def test_kept_in_one_column_and_read_back() -> None:
    tiers = (Tier(50, 3500), Tier(100, 3200))
    assert stored(tiers) == "50:3500;100:3200"
    assert read_stored(stored(tiers)) == tiers
    assert stored(()) == "" and read_stored("") == () and read_stored(None) == ()


def _item(sold: int) -> Item:
    tiers = (Tier(50, 3500), Tier(100, 3200))
    return Item(1, 1, 0, "Milk", "bottle", 3900, 200, None, sold, tiers)


@pytest.mark.parametrize(
    ("sold", "price", "next_at"),
    [
        (0, 3900, 50),
        (49, 3900, 50),
        (50, 3500, 100),
        (99, 3500, 100),
        (100, 3200, None),
        (200, 3200, None),
    ],
)
def test_the_price_is_the_tier_the_deal_reached(sold: int, price: int, next_at: int | None) -> None:
    item = _item(sold)
    assert item.unit_price == price
    assert (item.next_tier.from_quantity if item.next_tier else None) == next_at
