"""groupbuy.slots.parse_slots: how a leader's "/slots Sat 18:00-20:00 | 30 | 25" is read; and
slots_in_window: the "30 | 25" given while opening a deal, cutting its pickup window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from groupbuy import limits
from groupbuy.errors import DomainError
from groupbuy.model import Slot
from groupbuy.slots import next_free, parse_slots, slots_in_window

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Shanghai


def _local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def test_a_window_is_cut_into_slots_the_last_one_shorter() -> None:
    plan = parse_slots("Sat 18:00-19:40 | 30 | 25", NOW, SHANGHAI)
    assert plan.seats == 25
    assert plan.stretches == (
        (_local(12, 18), _local(12, 18, 30)),
        (_local(12, 18, 30), _local(12, 19)),
        (_local(12, 19), _local(12, 19, 30)),
        (_local(12, 19, 30), _local(12, 19, 40)),
    )


@pytest.mark.parametrize(
    "text",
    ["周六 18:00-20:00｜60｜10", "12-12 18:00 – 20:00 | 60 | 10", "明天 18:00至20:00 | 60 | 10"],
)
def test_chinese_and_full_width_forms(text: str) -> None:
    plan = parse_slots(text, NOW, SHANGHAI)
    assert len(plan.stretches) == 2 and plan.seats == 10
    assert plan.stretches[1][1] - plan.stretches[0][0] == timedelta(hours=2)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Sat 18:00-20:00", "slots_format"),
        ("Sat 18:00 | 30 | 25", "slots_format"),
        ("Sat 18:00-20:00 | thirty | 25", "int_invalid"),
        ("Sat 18:00-20:00 | 30 | 0", "int_out_of_range"),
        (f"Sat 18:00-20:00 | 30 | {limits.SLOT_SEATS_MAX + 1}", "int_out_of_range"),
        ("Sat 18:00-17:00 | 30 | 25", "slots_end_before_start"),
        ("Sat 18:00-25:00 | 30 | 25", "slots_format"),
        ("Sat 08:00-20:00 | 30 | 25", "slots_too_many"),
        ("someday 18:00-20:00 | 30 | 25", "pickup_time_invalid"),
        ("2026-12-09 18:00-20:00 | 30 | 25", "pickup_in_past"),
    ],
)
def test_bad_slots_get_a_reason(text: str, key: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse_slots(text, NOW, SHANGHAI)
    assert refused.value.key == key


def test_the_next_free_slot_is_a_later_one_else_an_earlier_one_still_to_come() -> None:
    half = timedelta(minutes=30)
    slots = [Slot(n, 1, _local(12, 18) + n * half, _local(12, 18) + (n + 1) * half, 2, b)
             for n, b in enumerate((0, 2, 2, 1))]  # fmt: skip
    assert next_free(slots, slots[1], NOW) == slots[3]
    assert next_free(slots, slots[3], NOW) == slots[0]
    assert next_free(slots, slots[3], slots[0].ends_at) is None  # the first is over


def test_minutes_and_seats_cut_the_deals_window() -> None:
    window = "周六 18:00-19:00"
    assert slots_in_window("30｜25", window, NOW, SHANGHAI) == parse_slots(
        f"{window} | 30 | 25", NOW, SHANGHAI
    )
    # A window of its own wins over the deal's.
    own = slots_in_window("Sun 9:00-10:00 | 60 | 5", window, NOW, SHANGHAI)
    assert own.stretches == ((_local(13, 9), _local(13, 10)),) and own.seats == 5


@pytest.mark.parametrize(
    ("text", "window", "key"),
    [
        ("30 | 25", "weekend mornings", "slots_window_unclear"),
        ("30 | 25", "", "slots_window_unclear"),
        ("30 | none", "Sat 18:00-19:00", "int_invalid"),
        ("as people come", "Sat 18:00-19:00", "slots_format"),
        ("30 | 25", "Sat 19:00-18:00", "slots_end_before_start"),
    ],
)
def test_what_cannot_be_cut_says_why(text: str, window: str, key: str) -> None:
    with pytest.raises(DomainError) as raised:
        slots_in_window(text, window, NOW, SHANGHAI)
    assert raised.value.key == key
    if key == "slots_window_unclear":
        assert raised.value.params == {"window": window}
