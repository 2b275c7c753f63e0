"""Parsing what people type: deadlines in the community's timezone, building lists, numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from groupbuy import limits
from groupbuy.errors import InputError
from groupbuy.parsing import (
    bounded_text,
    building_choice,
    buildings,
    deadline,
    positive_int,
    timezone,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2026-11-20 12:00 in Shanghai (UTC+8, no DST)
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20:00", utc(2026, 11, 20, 12, 0)),  # later today
        ("9:30", utc(2026, 11, 21, 1, 30)),  # already past today: tomorrow's
        ("12:00", utc(2026, 11, 21, 4, 0)),  # exactly now is past
        ("20：00", utc(2026, 11, 20, 12, 0)),  # full-width colon
        ("20.00", utc(2026, 11, 20, 12, 0)),
        ("today 18:00", utc(2026, 11, 20, 10, 0)),
        ("tomorrow 18:00", utc(2026, 11, 21, 10, 0)),
        ("Tomorrow 18:00", utc(2026, 11, 21, 10, 0)),
        ("明天 9:30", utc(2026, 11, 21, 1, 30)),
        ("明天9:30", utc(2026, 11, 21, 1, 30)),
        ("今天 20:00", utc(2026, 11, 20, 12, 0)),
        ("后天 08:00", utc(2026, 11, 22, 0, 0)),
        ("2026-12-01 18:00", utc(2026, 12, 1, 10, 0)),
        ("2026/12/1 18:00", utc(2026, 12, 1, 10, 0)),
        ("  2026-12-01   18:00 ", utc(2026, 12, 1, 10, 0)),
        ("12-01 18:00", utc(2026, 12, 1, 10, 0)),
        ("01-05 18:00", utc(2027, 1, 5, 10, 0)),  # a past month-day means next year
    ],
)
def test_deadline_formats(text: str, expected: datetime) -> None:
    result = deadline(text, NOW, SHANGHAI)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("today 9:00", "deadline_past"),
        ("今天 11:59", "deadline_past"),
        ("2026-11-19 18:00", "deadline_past"),
        ("2026-11-20 12:00", "deadline_past"),
        ("2027-06-01 18:00", "deadline_too_far"),
        ("11-19 18:00", "deadline_too_far"),  # next year's is far beyond the limit
        ("25:00", "deadline_invalid"),
        ("20:61", "deadline_invalid"),
        ("2026-02-30 10:00", "deadline_invalid"),
        ("next week", "deadline_invalid"),
        ("", "deadline_invalid"),
        ("yesterday 10:00", "deadline_past"),  # read (dateparser), and over
    ],
)
def test_deadline_refused(text: str, key: str) -> None:
    with pytest.raises(InputError) as err:
        deadline(text, NOW, SHANGHAI)
    assert err.value.key == key


def test_deadline_limit_is_inclusive_of_max_days() -> None:
    at = (NOW + timedelta(days=limits.DEADLINE_MAX_DAYS)).astimezone(SHANGHAI)
    assert deadline(at.strftime("%Y-%m-%d %H:%M"), NOW, SHANGHAI) == at
    later = at + timedelta(minutes=1)
    with pytest.raises(InputError):
        deadline(later.strftime("%Y-%m-%d %H:%M"), NOW, SHANGHAI)


def test_deadline_respects_the_timezone() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # UTC+1 in November
    assert deadline("2026-12-01 18:00", NOW, berlin) == utc(2026, 12, 1, 17, 0)
    assert deadline("2026-12-01 18:00", NOW, ZoneInfo("UTC")) == utc(2026, 12, 1, 18, 0)
    # at 04:00 UTC it is 05:00 in Berlin: '9:30' is still today there, tomorrow in Shanghai
    assert deadline("9:30", NOW, berlin) == utc(2026, 11, 20, 8, 30)
    assert deadline("9:30", NOW, SHANGHAI) == utc(2026, 11, 21, 1, 30)


def test_deadline_relative_days_follow_the_local_date() -> None:
    # 23:30 UTC is already the next day in Shanghai
    late = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    assert deadline("tomorrow 9:00", late, SHANGHAI) == utc(2026, 11, 22, 1, 0)
    assert deadline("tomorrow 9:00", late, ZoneInfo("UTC")) == utc(2026, 11, 21, 9, 0)


def test_timezone() -> None:
    assert timezone(" Asia/Shanghai ") == SHANGHAI
    with pytest.raises(InputError):
        timezone("Mars/Olympus")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1, 2, 3A", ("1", "2", "3A")),
        ("1，2，3A", ("1", "2", "3A")),
        ("1、2；3", ("1", "2", "3")),
        ("1号楼 2号楼 3号楼", ("1", "2", "3")),
        ("1号楼，2号楼", ("1", "2")),
        ("5栋 6幢", ("5", "6")),
        ("3 1 2 1 3", ("3", "1", "2")),  # order kept, duplicates dropped
        (" A\nB ", ("A", "B")),
    ],
)
def test_buildings(text: str, expected: tuple[str, ...]) -> None:
    assert buildings(text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "buildings_empty"),
        (" ，, ", "buildings_empty"),
        ("号楼", "buildings_empty"),
        ("X" * (limits.BUILDING_NAME_MAX + 1), "building_too_long"),
        (",".join(str(i) for i in range(limits.BUILDINGS_MAX + 1)), "buildings_too_many"),
    ],
)
def test_buildings_refused(text: str, key: str) -> None:
    with pytest.raises(InputError) as err:
        buildings(text)
    assert err.value.key == key


KNOWN = ("1", "2", "3A")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("all", ()),
        ("ALL", ()),
        ("全部", ()),
        ("*", ()),
        ("1, 2", ("1", "2")),
        ("2号楼，1号楼", ("2", "1")),
        ("1,2,3A", ()),  # every building is the same as all
        ("3A 2 1", ()),
    ],
)
def test_building_choice(text: str, expected: tuple[str, ...]) -> None:
    assert building_choice(text, KNOWN) == expected


def test_building_choice_refuses_unknown() -> None:
    with pytest.raises(InputError) as err:
        building_choice("1, 9", KNOWN)
    assert err.value.key == "building_unknown"
    assert err.value.params["name"] == "9"


def test_positive_int() -> None:
    assert positive_int(" 42 ", 100) == 42
    for bad in ("0", "101", "-1", "1.5", "abc", "", "1e3"):
        with pytest.raises(InputError):
            positive_int(bad, 100)


def test_bounded_text() -> None:
    assert bounded_text("  fresh   apples ", 20) == "fresh apples"
    assert bounded_text(" line one\nline two ", 30) == "line one\nline two"
    with pytest.raises(InputError) as err:
        bounded_text("   ", 10, key="title")
    assert err.value.key == "text_empty"
    assert err.value.params == {"field": "title"}
    with pytest.raises(InputError) as err:
        bounded_text("x" * 11, 10)
    assert err.value.key == "text_too_long"


def test_leap_day_after_it_passed_is_refused_not_a_crash() -> None:
    after_leap_day = datetime(2028, 3, 1, 4, 0, tzinfo=UTC)
    with pytest.raises(InputError) as err:
        deadline("02-29 10:00", after_leap_day, SHANGHAI)
    assert err.value.key == "deadline_invalid"
    before = datetime(2028, 2, 1, 4, 0, tzinfo=UTC)
    assert deadline("02-29 10:00", before, SHANGHAI) == utc(2028, 2, 29, 2, 0)
