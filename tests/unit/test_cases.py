"""Whole cases (groupbuy.cases): the stock and the rule as typed, and the close's rounding, drawn
at random: only whole cases are left (or the leader's spare), the latest orders are cut first,
and nothing else changes."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groupbuy.cases import parse_rule, parse_stock, to_cut
from groupbuy.deals import close_deal
from groupbuy.errors import InputError
from groupbuy.model import CaseRule, CloseReason, DealStatus
from tests.fakes import (
    FakeUnitOfWorkFactory,
    change_committed,
    deal_spec,
    item_spec,
    open_deal_committed,
)

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("96", (96, None)),
        ("8 cases of 12", (96, 12)),
        ("1 case of 12", (12, 12)),
        ("8 x 12", (96, 12)),
        ("8×12", (96, 12)),
        ("8箱×12", (96, 12)),
        ("8箱，每箱12", (96, 12)),
        ("8箱(每箱12瓶)", (96, 12)),
        ("８箱×１２", (96, 12)),
        ("2 cases of 12 bottles", (24, 12)),
    ],
)
def test_the_stock_in_cases(text: str, expected: tuple[int, int | None]) -> None:
    assert parse_stock(text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("8 cases of 0", "case_size"),
        ("8 cases of 1001", "case_size"),
        ("0 cases of 12", "int_out_of_range"),
        ("9000 cases of 12", "int_out_of_range"),
        ("a few cases", "int_invalid"),
    ],
)
def test_a_bad_stock_is_refused(text: str, key: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_stock(text)
    assert refused.value.key == key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("round down", (CaseRule.DOWN, 0, 100)),
        ("Round Up | 80%", (CaseRule.UP, 0, 80)),
        ("keep open 6h", (CaseRule.WAIT, 6, 100)),
        ("wait 12 hours | 90%", (CaseRule.WAIT, 12, 90)),
        ("延长6小时", (CaseRule.WAIT, 6, 100)),
        ("团长包尾", (CaseRule.UP, 0, 100)),
        ("凑不满退｜容差75％", (CaseRule.DOWN, 0, 75)),
        ("80%", (CaseRule.DOWN, 0, 80)),
    ],
)
def test_the_rule(text: str, expected: tuple[CaseRule, int, int]) -> None:
    assert parse_rule(text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("maybe", "case_rule_format"),
        ("keep open 0h", "case_wait"),
        ("keep open 73h", "case_wait"),
        ("round down | 0%", "case_tolerance"),
        ("round down | 101%", "case_tolerance"),
    ],
)
def test_a_bad_rule_is_refused(text: str, key: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_rule(text)
    assert refused.value.key == key


@settings(max_examples=150, deadline=None)
@given(
    size=st.integers(2, 6),
    presses=st.lists(st.tuples(st.integers(1, 6), st.integers(1, 4)), min_size=1, max_size=12),
    rule=st.sampled_from([CaseRule.DOWN, CaseRule.UP]),
    tolerance=st.sampled_from([100, 75, 50]),
)
def test_the_close_rounds_cases_latest_first(
    size: int, presses: list[tuple[int, int]], rule: CaseRule, tolerance: int
) -> None:
    asyncio.run(_close_with_cases(size, presses, rule, tolerance))


async def _close_with_cases(
    size: int, presses: list[tuple[int, int]], rule: CaseRule, tolerance: int
) -> None:
    factory = FakeUnitOfWorkFactory()
    spec = deal_spec(
        T0 + timedelta(days=1), item_spec("Milk", stock=50 * size, limit=None, case_size=size)
    )
    spec = replace(spec, case_rule=rule, case_tolerance=tolerance)
    deal = await open_deal_committed(factory, T0, spec)
    item = deal.items[0].id
    for user, units in presses:  # users join in the order of their first press
        await change_committed(factory, T0, deal.id, item, user, units)
    async with factory() as uow:
        before = await uow.orders.for_deal(deal.id)
        opened = await uow.deals.get(deal.id)
    assert opened is not None
    sold = opened.items[0].sold
    expected_cut = to_cut(opened)[0][1] if to_cut(opened) else 0
    begun = sold % size
    if rule is CaseRule.UP or begun == 0 or begun * 100 >= tolerance * size:
        assert expected_cut == 0
    else:
        assert expected_cut == begun

    async with factory() as uow:
        closed = await close_deal(uow, deal.id, CloseReason.LEADER, T0 + timedelta(hours=1))
        await uow.commit()
    assert closed is not None
    assert closed.status is (DealStatus.FAILED if expected_cut == sold else DealStatus.CLOSED)
    async with factory() as uow:
        after = {o.id: o.quantity(item) for o in await uow.orders.for_deal(deal.id)}
        final = await uow.deals.get(deal.id)
    assert final is not None and final.items[0].sold == sold - expected_cut
    if rule is CaseRule.DOWN and tolerance == 100:
        assert final.items[0].sold % size == 0
    # Latest first: every order keeps all its units up to the one cut in part, and the later
    # ones lose all of theirs.
    kept = [after.get(o.id, 0) for o in before]
    ordered = [o.quantity(item) for o in before]
    cut_from = next(
        (n for n, (k, q) in enumerate(zip(kept, ordered, strict=True)) if k < q), len(before)
    )
    assert kept[:cut_from] == ordered[:cut_from]
    assert all(k == 0 for k in kept[cut_from + 1 :])
    assert sum(ordered) - sum(kept) == expected_cut
