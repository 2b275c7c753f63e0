"""Whole cases (整箱): the supplier sells milk or fruit by the case, residents order single units.

The leader writes the stock in cases ("8 cases of 12", "8箱×12"): 96 units, 12 to a case. The
post says how many more units fill the case being filled. At the close a last case that is not
full is handled as the leader chose with the deal ("Cases:" / "整箱:"):

- round down (the default): the units beyond the last full case are cut, the latest orders
  first, and what was paid for them is refunded;
- round up (团长包尾): the leader buys the whole case and keeps the spare units;
- keep open N hours: the deadline moves once, by N hours, for neighbours to fill the case; what
  is still short then is rounded down.

A last case at least `tolerance` percent full counts as full whatever the rule (Foodsoft's
tolerance): the leader takes its few spare units rather than cut a nearly full case.
"""

from __future__ import annotations

import re

from groupbuy import limits
from groupbuy.errors import InputError
from groupbuy.model import CaseRule, Deal, Item
from groupbuy.parsing import positive_int, typed_digits

# "8 cases of 12", "8 x 12", "8×12", "8箱×12", "8箱，每箱12", "8箱(每箱12瓶)": cases, then units
# in one (a unit's word may follow the number).
_CASES = re.compile(
    r"^(?P<n>[0-9]+)\s*(?:cases?|ctns?|boxes|箱|件)?\s*"
    r"(?:of|x|×|\*|[,，(（]?\s*每箱|[,，(（]\s*)\s*(?P<k>[0-9]+)\s*"
    r"(?:each|per\s+case|/\s*case|/\s*箱|[^\s0-9()（）]{1,12})?\s*[)）]?$",
    re.I,
)
_DOWN = {"round down", "down", "cut", "cut the rest", "凑不满退", "不满退", "退", "不足退", "去尾"}
_UP = {"round up", "up", "i take the rest", "leader takes the rest", "包尾", "团长包尾", "补齐"}
_WAIT = re.compile(
    r"^(?:keep\s+open|wait|延长|再等|等)\s*(?P<h>[0-9]+)\s*(?:h|hrs?|hours?|小时|个小时)?$", re.I
)
_TOLERANCE = re.compile(r"^(?:tolerance|容差|满)?\s*(?P<p>[0-9]+)\s*[%％]$", re.I)


def parse_stock(text: str) -> tuple[int, int | None]:
    """An item's stock as typed: a number of units, or cases and the units in one. Returns the
    units and the case size (None: not sold by the case)."""
    cleaned = typed_digits(text).strip()
    found = _CASES.match(cleaned)
    if found is None:
        return positive_int(cleaned, limits.STOCK_MAX, key="stock"), None
    cases, size = int(found["n"]), int(found["k"])
    if size < 1 or size > limits.CASE_SIZE_MAX:
        raise InputError("case_size", limit=limits.CASE_SIZE_MAX)
    if cases < 1 or cases * size > limits.STOCK_MAX:
        raise InputError("int_out_of_range", field="stock", limit=limits.STOCK_MAX)
    return cases * size, size


def parse_rule(text: str) -> tuple[CaseRule, int, int]:
    """The "Cases:" line: a rule ("round down", "round up", "keep open 6h"), a tolerance
    ("80%"), or both separated by '|'. Returns the rule, its hours (WAIT) and the tolerance."""
    rule, hours, tolerance = CaseRule.DOWN, 0, 100
    for part in (p.strip() for p in re.split(r"[|｜;；]", typed_digits(text))):
        words = " ".join(part.lower().split())
        if not words:
            continue
        waiting = _WAIT.match(words)
        share = _TOLERANCE.match(words)
        if words in _DOWN:
            rule = CaseRule.DOWN
        elif words in _UP:
            rule = CaseRule.UP
        elif waiting is not None:
            rule, hours = CaseRule.WAIT, int(waiting["h"])
            if not 1 <= hours <= limits.CASE_WAIT_HOURS_MAX:
                raise InputError("case_wait", limit=limits.CASE_WAIT_HOURS_MAX)
        elif share is not None:
            tolerance = int(share["p"])
            if not 1 <= tolerance <= 100:
                raise InputError("case_tolerance")
        else:
            raise InputError("case_rule_format")
    return rule, hours, tolerance


def to_cut(deal: Deal) -> list[tuple[Item, int]]:
    """The units the close cuts from each item sold by the case under the deal's rule: those of
    a last case neither full, within the tolerance, nor taken by the leader."""
    if deal.case_rule is CaseRule.UP:
        return []
    cuts = []
    for item in deal.items:
        if not item.case_size:
            continue
        begun = item.sold % item.case_size
        if begun and begun * 100 < deal.case_tolerance * item.case_size:
            cuts.append((item, begun))
    return cuts
