"""Tiered prices (阶梯价): the more the compound buys of an item, the less each unit costs.

A leader writes the price as "39; 35 from 50; 32 from 100" (or "39；满50件35；满100件32"): 39 a
unit, 35 once the deal's buyers hold 50 units of it, 32 from 100. Every buyer pays the price of
the tier the whole deal has reached, so it falls for everyone as neighbours join, and rises
again if they leave: the supplier's price follows the quantity actually bought. The close fixes
it (groupbuy.deals.close_deal), and whoever paid for a higher tier gets the difference back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from groupbuy import limits
from groupbuy.errors import InputError
from groupbuy.model import Tier
from groupbuy.money import parse_price
from groupbuy.parsing import typed_digits

# "35 from 50", "50+ 35", "50+: 35", "满50件35", "满50 35": a tier's price and where it starts.
_FROM = re.compile(r"^(?P<price>.+?)\s*(?:from|over|@|≥|>=)\s*(?P<n>[0-9]+)\s*\+?$", re.I)
_PLUS = re.compile(r"^(?P<n>[0-9]+)\s*\+\s*[:：]?\s*(?P<price>.+)$")
_ZH = re.compile(r"^满\s*(?P<n>[0-9]+)\s*[^\s0-9:：¥￥]{0,2}\s*[:：]?\s*(?P<price>.+)$")


def parse_prices(text: str, currency: str) -> tuple[int, tuple[Tier, ...]]:
    """An item's price as typed: the price of one unit, then the tiers, if any, separated by
    ';'. Refused when a tier cannot be read or the tiers do not each start later and cost
    less than the one before."""
    base, *rest = (part.strip() for part in re.split(r"[;；]", typed_digits(text)))
    price = parse_price(base, currency)
    tiers: list[Tier] = []
    for part in rest:
        if not part:
            continue
        match = _FROM.match(part) or _PLUS.match(part) or _ZH.match(part)
        if match is None:
            raise InputError("tier_format")
        tiers.append(Tier(int(match["n"]), parse_price(match["price"], currency)))
    if len(tiers) > limits.TIERS_MAX:
        raise InputError("tiers_too_many", limit=limits.TIERS_MAX)
    check_order(price, tiers)
    return price, tuple(tiers)


def check_order(price: int, tiers: Sequence[Tier]) -> None:
    """Each tier starts at more units than the one before (the first above 1) and costs less."""
    start, cost = 1, price
    for tier in tiers:
        if tier.from_quantity <= start or tier.price >= cost:
            raise InputError("tiers_order")
        start, cost = tier.from_quantity, tier.price


def check_reachable(tiers: Sequence[Tier], stock: int) -> None:
    """A tier that starts beyond the stock could never be reached: a slip, said at once."""
    if tiers and tiers[-1].from_quantity > stock:
        raise InputError("tier_beyond_stock", n=tiers[-1].from_quantity, stock=stock)


def stored(tiers: Sequence[Tier]) -> str:
    """The tiers as the items table keeps them: '50:3500;100:3200' ('' for none)."""
    return ";".join(f"{t.from_quantity}:{t.price}" for t in tiers)


def read_stored(text: str | None) -> tuple[Tier, ...]:
    if not text:
        return ()
    return tuple(
        Tier(int(start), int(price))
        for start, price in (part.split(":") for part in text.split(";"))
    )
