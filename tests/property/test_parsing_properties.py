"""Properties of the parsers: prices round-trip exactly; deadlines land in the allowed window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from groupbuy import limits
from groupbuy.codes import ALPHABET, LENGTH, normalize_code
from groupbuy.errors import InputError
from groupbuy.money import MAX_PRICE_MAJOR, exponent, parse_price
from groupbuy.parsing import buildings, deadline

FAST = settings(max_examples=150, deadline=None)
ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"]


@FAST
@given(
    currency=st.sampled_from(["CNY", "JPY", "USD", "XTR", "KWD"]),
    data=st.data(),
    sign=st.sampled_from(["", "¥", "CNY ", "元"]),
)
def test_price_round_trip(currency: str, data: st.DataObject, sign: str) -> None:
    digits = exponent(currency)
    minor = data.draw(st.integers(1, MAX_PRICE_MAJOR * 10**digits))
    major, frac = divmod(minor, 10**digits)
    text = f"{major}.{frac:0{digits}d}" if digits else str(major)
    if sign == "元":
        text += sign
    elif (sign == "CNY " and currency == "CNY") or sign == "¥":
        text = sign + text
    assert parse_price(text, currency) == minor
    assert parse_price(text.replace(".", ","), currency) == minor


@FAST
@given(text=st.text(max_size=20), currency=st.sampled_from(["CNY", "JPY"]))
def test_price_never_crashes(text: str, currency: str) -> None:
    try:
        value = parse_price(text, currency)
    except InputError:
        return
    assert isinstance(value, int)
    assert 0 < value <= MAX_PRICE_MAJOR * 10 ** exponent(currency)


@FAST
@given(
    now=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(ZONES),
    text=st.sampled_from(["20:00", "tomorrow 18:00", "明天 9:30", "后天 00:00", "7:05"]),
)
def test_deadline_is_in_the_future_and_near(now: datetime, zone: str, text: str) -> None:
    try:
        result = deadline(text, now, ZoneInfo(zone))
    except InputError as err:  # only a DST gap/fold can push a relative time out
        assert err.key in {"deadline_past", "deadline_too_far"}
        return
    assert result.tzinfo is not None and result.utcoffset() == timedelta(0)
    assert now < result <= now + timedelta(days=limits.DEADLINE_MAX_DAYS)


@FAST
@given(
    names=st.lists(
        st.text(alphabet="0123456789ABC", min_size=1, max_size=4), min_size=1, max_size=10
    ),
    sep=st.sampled_from([",", "，", "、", " ", "; "]),
    suffix=st.sampled_from(["", "号楼", "栋"]),
)
def test_buildings_keep_order_and_drop_duplicates(names: list[str], sep: str, suffix: str) -> None:
    parsed = buildings(sep.join(n + suffix for n in names))
    assert parsed == tuple(dict.fromkeys(names))


@FAST
@given(code=st.text(alphabet=ALPHABET, min_size=LENGTH, max_size=LENGTH))
def test_codes_normalize_whatever_the_case(code: str) -> None:
    assert normalize_code(f" {code.lower()} ") == code
