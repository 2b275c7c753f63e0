"""Pickup codes: short, unambiguous, and forgiving of how a leader types them."""

from __future__ import annotations

import pytest

from groupbuy.codes import ALPHABET, LENGTH, new_code, normalize_code


def test_alphabet_has_no_look_alikes() -> None:
    for ch in "01OIL":
        assert ch not in ALPHABET


def test_new_codes_are_valid() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) > 190  # random enough
    for code in codes:
        assert len(code) == LENGTH
        assert normalize_code(code) == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("K7P2X", "K7P2X"),
        ("k7p2x", "K7P2X"),
        ("  K7p2X \n", "K7P2X"),
        ("K7P2", None),
        ("K7P2XX", None),
        ("K0P2X", None),  # zero is not in the alphabet
        ("KOP2X", None),
        ("K1P2X", None),
        ("KIP2X", None),
        ("KLP2X", None),
        ("K7 2X", None),
        ("", None),
        ("K7-2X", None),
    ],
)
def test_normalize_code(text: str, expected: str | None) -> None:
    assert normalize_code(text) == expected
