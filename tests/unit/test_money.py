"""Money: exact parsing of typed prices into minor units; currency exponents."""

from __future__ import annotations

import pytest

from groupbuy.errors import InputError
from groupbuy.money import MAX_PRICE_MAJOR, Money, exponent, is_known_currency, parse_price


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.5", 1250),
        ("¥12.50", 1250),
        ("￥12.50", 1250),
        ("12,50", 1250),
        ("CNY 12.50", 1250),
        ("cny12.5", 1250),
        ("12.50 CNY", 1250),
        ("12元", 1200),
        (" 12 ", 1200),
        ("0.01", 1),
        ("12.500", 1250),  # trailing zeros are not extra precision
        ("100000", 100000 * 100),
    ],
)
def test_parse_price_cny(text: str, expected: int) -> None:
    assert parse_price(text, "CNY") == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("-1", "price_invalid"),
        ("abc", "price_invalid"),
        ("1e9", "price_invalid"),
        ("", "price_invalid"),
        ("12.", "price_invalid"),
        ("1.2.3", "price_invalid"),
        ("0", "price_not_positive"),
        ("0.00", "price_not_positive"),
        ("12.345", "price_too_precise"),
        ("0.001", "price_too_precise"),
        ("100000.01", "price_too_large"),
        ("100001", "price_too_large"),
        ("999999999", "price_too_large"),
    ],
)
def test_parse_price_refuses(text: str, key: str) -> None:
    with pytest.raises(InputError) as err:
        parse_price(text, "CNY")
    assert err.value.key == key


def test_too_precise_names_the_digits() -> None:
    with pytest.raises(InputError) as err:
        parse_price("12.5", "JPY")
    assert err.value.key == "price_too_precise"
    assert err.value.params == {"digits": 0}


def test_too_large_names_the_limit() -> None:
    with pytest.raises(InputError) as err:
        parse_price(str(MAX_PRICE_MAJOR + 1), "CNY")
    assert err.value.params == {"limit": MAX_PRICE_MAJOR}


@pytest.mark.parametrize(("text", "expected"), [("12", 12), ("12.0", 12), ("¥500", 500)])
def test_parse_price_jpy_has_no_minor_unit(text: str, expected: int) -> None:
    assert parse_price(text, "JPY") == expected


def test_parse_price_stars() -> None:
    assert parse_price("25", "XTR") == 25
    with pytest.raises(InputError):
        parse_price("2.5", "XTR")


@pytest.mark.parametrize(("code", "digits"), [("JPY", 0), ("CNY", 2), ("XTR", 0), ("xtr", 0)])
def test_exponent(code: str, digits: int) -> None:
    assert exponent(code) == digits


def test_known_currencies() -> None:
    assert is_known_currency("cny")
    assert is_known_currency("XTR")
    assert not is_known_currency("ZZZ")


def test_money_arithmetic() -> None:
    a = Money(1250, "CNY")
    assert a + Money(50, "CNY") == Money(1300, "CNY")
    assert a.times(3) == Money(3750, "CNY")
    assert str(a.as_decimal()) == "12.50"
    assert str(Money(500, "JPY").as_decimal()) == "500"
    with pytest.raises(ValueError, match="currency"):
        a + Money(1, "JPY")


def test_prices_are_integers_never_floats() -> None:
    # 0.1 + 0.2 style errors cannot happen: every accepted price is an exact int
    for cents in range(1, 1000, 7):
        text = f"{cents // 100}.{cents % 100:02d}"
        value = parse_price(text, "CNY")
        assert isinstance(value, int)
        assert value == cents


def test_thousands_comma_is_refused_as_ambiguous() -> None:
    # '1,000' could mean one thousand or one: refuse rather than charge 1000 times too little.
    with pytest.raises(InputError):
        parse_price("1,000", "CNY")
    with pytest.raises(InputError):
        parse_price("1,000", "JPY")
    assert parse_price("1,50", "CNY") == 150
