"""Deadlines as leaders type them, in English and Chinese (groupbuy.deadlines through
groupbuy.parsing.deadline): each form resolves to the moment a person means, in the community's
timezone, always in the future; a day without a time, or words that name no time, are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from groupbuy.errors import InputError
from groupbuy.parsing import deadline

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUNDAY = datetime(2026, 12, 6, 15, 30, tzinfo=SHANGHAI)  # Sunday afternoon
FRIDAY_EVENING = datetime(2026, 12, 11, 19, 0, tzinfo=SHANGHAI)


def local(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Friday 20:00", local(12, 11, 20)),
        ("fri 8pm", local(12, 11, 20)),
        ("Fri 8:30 PM", local(12, 11, 20, 30)),
        ("sat 9am", local(12, 12, 9)),
        ("tomorrow 18:00", local(12, 7, 18)),
        ("tmr 6pm", local(12, 7, 18)),
        ("1/2 20:00", local(1, 2, 20, year=2027)),  # January 2nd has passed this year
        ("12/24 9:00", local(12, 24, 9)),
        ("in 2 hours", local(12, 6, 17, 30)),
        ("in 30 minutes", local(12, 6, 16)),
        ("周五 20:00", local(12, 11, 20)),
        ("星期五 晚上8点半", local(12, 11, 20, 30)),
        ("明天下午6点", local(12, 7, 18)),
        ("明天 18:00", local(12, 7, 18)),
        ("明晚8点", local(12, 7, 20)),
        ("今晚8点", local(12, 6, 20)),
        ("后天中午12点", local(12, 8, 12)),
        ("12月24日 20:00", local(12, 24, 20)),
        ("2小时后", local(12, 6, 17, 30)),
        ("两个小时后", local(12, 6, 17, 30)),
        ("30分钟后", local(12, 6, 16)),
        ("２０：００", local(12, 6, 20)),  # full-width, typed in a Chinese input method
    ],
)
def test_the_forms_people_type(text: str, expected: datetime) -> None:
    assert deadline(text, SUNDAY.astimezone(UTC), SHANGHAI) == expected.astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fri 8pm", local(12, 11, 20)),  # still ahead today: today, not next week
        ("周五 20:00", local(12, 11, 20)),
        ("Friday 18:00", local(12, 18, 18)),  # over today: next week's
        ("next fri 8pm", local(12, 18, 20)),
    ],
)
def test_todays_weekday(text: str, expected: datetime) -> None:
    assert deadline(text, FRIDAY_EVENING.astimezone(UTC), SHANGHAI) == expected.astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Friday", "deadline_invalid"),  # a day, without the time ordering closes
        ("周五", "deadline_invalid"),
        ("when the boxes arrive", "deadline_invalid"),
        ("soon", "deadline_invalid"),
        ("11/28 20:00", "deadline_too_far"),  # passed this year: next year's, too far ahead
        ("in 2000 hours", "deadline_too_far"),
        ("yesterday 20:00", "deadline_past"),
    ],
)
def test_refused_with_the_reason(text: str, key: str) -> None:
    with pytest.raises(InputError) as refused:
        deadline(text, SUNDAY.astimezone(UTC), SHANGHAI)
    assert refused.value.key == key


def test_a_natural_form_into_the_spring_gap_is_refused() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    saturday = datetime(2027, 3, 27, 12, 0, tzinfo=berlin)  # clocks go 02:00 → 03:00 at night
    with pytest.raises(InputError) as refused:
        deadline("sunday 2:30am", saturday.astimezone(UTC), berlin)
    assert refused.value.key == "deadline_in_gap"
    assert deadline("sunday 3:30am", saturday.astimezone(UTC), berlin) == datetime(
        2027, 3, 28, 1, 30, tzinfo=UTC
    )
