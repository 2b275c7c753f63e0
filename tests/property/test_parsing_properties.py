"""Properties of the parsers: prices round-trip exactly; deadlines land in the allowed window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from groupbuy import limits
from groupbuy.codes import ALPHABET, LENGTH, normalize_code
from groupbuy.errors import InputError
from groupbuy.money import MAX_PRICE_MAJOR, exponent, parse_price
from groupbuy.parsing import buildings, deadline
from messages import formatting

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


@cache
def _clock_changes(zone: str, year: int) -> tuple[datetime, ...]:
    """The wall hours of the year in which the zone's clocks change (spring forward, autumn
    back): the hours in which a wall time is skipped or repeated."""
    tz = ZoneInfo(zone)
    start = datetime(year, 1, 1)
    midnights = [(start + timedelta(days=n)).replace(tzinfo=tz) for n in range(367)]
    changing = (
        a.replace(tzinfo=None) for a, b in pairwise(midnights) if a.utcoffset() != b.utcoffset()
    )
    hours = (d + timedelta(hours=n) for d in changing for n in range(25))
    return tuple(
        h
        for h in hours
        if any(
            h.replace(minute=m, tzinfo=tz, fold=0).utcoffset()
            != h.replace(minute=m, tzinfo=tz, fold=1).utcoffset()
            for m in (0, 30, 59)
        )
    ) or (start,)


@st.composite
def _wall_times(draw: st.DrawFn) -> tuple[str, datetime]:
    """A zone and a wall time in it, often within an hour of its clocks changing."""
    zone = draw(st.sampled_from(ZONES))
    year = draw(st.integers(2025, 2034))
    if draw(st.booleans()):
        hour = draw(st.sampled_from(_clock_changes(zone, year)))
        return zone, hour + timedelta(minutes=draw(st.integers(-15, 74)))
    day = draw(st.dates(date(year, 1, 1), date(year, 12, 31)))
    return zone, datetime.combine(day, time(draw(st.integers(0, 23)), draw(st.integers(0, 59))))


def _occurrences(wall: datetime, zone: ZoneInfo) -> set[datetime]:
    """Every instant whose wall time in the zone is `wall`: tried with each offset the zone
    has within a day of it (an oracle independent of fold)."""
    near = (wall.replace(tzinfo=UTC) + timedelta(hours=h) for h in range(-26, 27))
    offsets = {moment.astimezone(zone).utcoffset() for moment in near}
    candidates = {(wall - offset).replace(tzinfo=UTC) for offset in offsets if offset is not None}
    return {u for u in candidates if u.astimezone(zone).replace(tzinfo=None) == wall}


@FAST
@given(
    wall=_wall_times(),
    lead_minutes=st.one_of(
        st.integers(1, 120), st.integers(1, limits.DEADLINE_MAX_DAYS * 24 * 60)
    ),  # typed a little before (during the clock change itself) or long before
)
def test_deadline_round_trips_to_the_typed_wall_time(
    wall: tuple[str, datetime], lead_minutes: int
) -> None:
    """A typed deadline means exactly that wall time (the first one when the clocks repeat it),
    or it is refused because the clocks skip it that day."""
    zone, typed = ZoneInfo(wall[0]), wall[1]
    now = (typed.replace(tzinfo=UTC) - timedelta(minutes=lead_minutes)).replace(second=7)
    occurrences = _occurrences(typed, zone)
    try:
        result = deadline(f"{typed:%Y-%m-%d %H:%M}", now, zone)
    except InputError as err:
        if err.key == "deadline_in_gap":
            assert not occurrences, f"{typed} exists in {zone.key}"
            params = err.params
            assert params["date"] == typed.date().isoformat() and params["zone"] == zone.key
            assert str(params["clocks_from"]) <= f"{typed:%H:%M}" == params["time"]
            assert params["time"] < str(params["clocks_to"])
        else:
            assert err.key in {"deadline_past", "deadline_too_far"}
        return
    assert result in occurrences and result == min(occurrences)
    assert result.astimezone(zone).replace(tzinfo=None) == typed
    assert now < result


@FAST
@given(wall=_wall_times(), seconds=st.integers(0, 59))
def test_display_names_the_offset_exactly_for_repeated_times(
    wall: tuple[str, datetime], seconds: int
) -> None:
    """`when` adds the UTC offset of the instant shown when, and only when, its wall time (to the
    minute) happens twice that day."""
    zone, typed = ZoneInfo(wall[0]), wall[1]
    occurrences = _occurrences(typed, zone)
    for moment in occurrences:
        offset = formatting.repeated_offset(moment + timedelta(seconds=seconds), wall[0])
        if len(occurrences) < 2:
            assert offset is None
            continue
        minutes = (moment.astimezone(zone).utcoffset() or timedelta(0)) // timedelta(minutes=1)
        sign, (hours, rest) = "-" if minutes < 0 else "+", divmod(abs(minutes), 60)
        assert offset == f"{sign}{hours:02d}:{rest:02d}"


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
