"""Deadlines typed in a daylight-saving gap (refused) or overlap (the first one, and shown with its
UTC offset so nobody has to guess which of the two it is)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from groupbuy.errors import InputError
from groupbuy.parsing import deadline
from messages import formatting
from messages.i18n import LOCALES
from messages.render import Renderer
from tests.unit.test_templates import VARIANTS, World, world

BERLIN = ZoneInfo("Europe/Berlin")  # 2027-03-28 02:00 → 03:00; 2026-10-25 03:00 → 02:00
NEW_YORK = ZoneInfo("America/New_York")  # 2027-03-14 02:00 → 03:00; 2026-11-01 02:00 → 01:00
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # half-hour steps: 2026-10-04 02:00 → 02:30
SHANGHAI = ZoneInfo("Asia/Shanghai")  # no daylight saving


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


# --- the gap: a time that does not exist that day is refused ---------------------------------

BEFORE_BERLIN_GAP = local(BERLIN, 2027, 3, 27, 12, 0)


@pytest.mark.parametrize("text", ["2027-03-28 02:30", "tomorrow 02:30", "明天 2:30", "03-28 02:59"])
def test_time_in_the_spring_gap_is_refused(text: str) -> None:
    with pytest.raises(InputError) as err:
        deadline(text, BEFORE_BERLIN_GAP, BERLIN)
    assert err.value.key == "deadline_in_gap"
    assert err.value.params == {
        "time": text[-5:].strip().zfill(5),
        "date": "2027-03-28",
        "zone": "Europe/Berlin",
        "clocks_from": "02:00",
        "clocks_to": "03:00",
    }
    assert all(isinstance(v, str) for v in err.value.params.values())  # already formatted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-03-28 01:59", utc(2027, 3, 28, 0, 59)),  # CET, UTC+1
        ("tomorrow 03:00", utc(2027, 3, 28, 1, 0)),  # CEST, UTC+2: the hour after the jump
        ("2027-03-28 18:00", utc(2027, 3, 28, 16, 0)),
        ("2027-03-29 02:30", utc(2027, 3, 29, 0, 30)),  # the day after has its 02:30
    ],
)
def test_existing_times_on_the_gap_day_work(text: str, expected: datetime) -> None:
    assert deadline(text, BEFORE_BERLIN_GAP, BERLIN) == expected


def test_bare_time_in_the_gap() -> None:
    # at 01:00 on the day, tonight's 02:30 is ahead but skipped: say so
    with pytest.raises(InputError) as err:
        deadline("02:30", local(BERLIN, 2027, 3, 28, 1, 0), BERLIN)
    assert err.value.key == "deadline_in_gap"
    # at 03:15, after the jump, a bare 02:30 is tomorrow's, which exists
    after = datetime(2027, 3, 28, 3, 15, tzinfo=BERLIN).astimezone(UTC)
    assert deadline("02:30", after, BERLIN) == utc(2027, 3, 29, 0, 30)


def test_a_past_time_in_the_gap_is_just_past() -> None:
    with pytest.raises(InputError) as err:
        deadline("2027-03-28 02:30", local(BERLIN, 2027, 3, 28, 5, 0), BERLIN)
    assert err.value.key == "deadline_past"


@pytest.mark.parametrize(
    ("zone", "now", "text", "clocks"),
    [
        (NEW_YORK, utc(2027, 3, 10, 12, 0), "2027-03-14 02:15", ("02:00", "03:00")),
        (LORD_HOWE, utc(2026, 10, 1, 0, 0), "2026-10-04 02:15", ("02:00", "02:30")),
        (
            ZoneInfo("America/Santiago"),
            utc(2026, 9, 1, 0, 0),
            "2026-09-06 00:30",
            ("00:00", "01:00"),
        ),
    ],
)
def test_gaps_in_other_zones(
    zone: ZoneInfo, now: datetime, text: str, clocks: tuple[str, str]
) -> None:
    with pytest.raises(InputError) as err:
        deadline(text, now, zone)
    assert err.value.key == "deadline_in_gap"
    assert (err.value.params["clocks_from"], err.value.params["clocks_to"]) == clocks
    assert err.value.params["zone"] == zone.key


def test_gap_error_text(renderer: Renderer) -> None:
    with pytest.raises(InputError) as err:
        deadline("2027-03-28 02:30", BEFORE_BERLIN_GAP, BERLIN)
    en = renderer.macro("en", "errors", err.value.key, **err.value.params)
    assert en == (
        "02:30 does not exist on 2027-03-28 in Europe/Berlin: clocks go from 02:00 to 03:00. "
        "Choose another time."
    )
    zh = renderer.macro("zh_Hans", "errors", err.value.key, **err.value.params)
    assert zh == (
        "2027-03-28 在 Europe/Berlin 时区没有 02:30 这个时间：时钟会从 02:00 直接拨到 03:00。"
        "请换一个时间。"
    )


# --- the overlap: a time that happens twice is the first one --------------------------------

BEFORE_BERLIN_OVERLAP = local(BERLIN, 2026, 10, 24, 12, 0)


@pytest.mark.parametrize("text", ["2026-10-25 02:30", "tomorrow 02:30", "10-25 02:30"])
def test_repeated_time_is_the_first_occurrence(text: str) -> None:
    result = deadline(text, BEFORE_BERLIN_OVERLAP, BERLIN)
    assert result == utc(2026, 10, 25, 0, 30)  # 02:30 CEST (UTC+2), not 02:30 CET (01:30 UTC)
    assert result.astimezone(BERLIN).utcoffset() == timedelta(hours=2)


def test_repeated_time_in_new_york_is_the_first_occurrence() -> None:
    result = deadline("2026-11-01 01:30", utc(2026, 10, 30, 12, 0), NEW_YORK)
    assert result == utc(2026, 11, 1, 5, 30)  # 01:30 EDT (UTC-4)


def test_repeated_time_whose_first_occurrence_is_over() -> None:
    second_pass = utc(2026, 10, 25, 1, 15)  # 02:15 CET, the hour's second time round
    assert second_pass.astimezone(BERLIN).fold == 1
    with pytest.raises(InputError) as err:
        deadline("2026-10-25 02:40", second_pass, BERLIN)
    assert err.value.key == "deadline_past"  # 02:40 CEST was 00:40 UTC
    assert deadline("02:40", second_pass, BERLIN) == utc(2026, 10, 26, 1, 40)  # tomorrow's
    first_pass = utc(2026, 10, 25, 0, 15)  # 02:15 CEST
    assert deadline("02:40", first_pass, BERLIN) == utc(2026, 10, 25, 0, 40)


def test_zone_without_daylight_saving_is_unaffected() -> None:
    now = utc(2027, 3, 27, 4, 0)
    assert deadline("2027-03-28 02:30", now, SHANGHAI) == utc(2027, 3, 27, 18, 30)
    assert deadline("2026-10-25 02:30", utc(2026, 10, 24, 4, 0), SHANGHAI) == utc(
        2026, 10, 24, 18, 30
    )


# --- the display: the offset, exactly when the shown time happens twice ---------------------


@pytest.mark.parametrize(
    ("moment", "zone", "offset"),
    [
        (utc(2026, 10, 25, 0, 30), "Europe/Berlin", "+02:00"),  # 02:30, first time
        (utc(2026, 10, 25, 1, 30), "Europe/Berlin", "+01:00"),  # 02:30, second time
        (utc(2026, 10, 25, 0, 0), "Europe/Berlin", "+02:00"),  # 02:00 happens twice too
        (utc(2026, 10, 25, 1, 59), "Europe/Berlin", "+01:00"),
        (utc(2026, 10, 25, 2, 0), "Europe/Berlin", None),  # 03:00 happens once
        (utc(2026, 10, 24, 23, 59), "Europe/Berlin", None),  # 01:59
        (utc(2026, 10, 24, 0, 30), "Europe/Berlin", None),  # 02:30 the day before
        (utc(2027, 3, 28, 1, 0), "Europe/Berlin", None),  # 03:00 after the spring jump
        (utc(2026, 11, 1, 5, 30), "America/New_York", "-04:00"),
        (utc(2026, 11, 1, 6, 30), "America/New_York", "-05:00"),
        (utc(2026, 11, 1, 7, 30), "America/New_York", None),
        (utc(2027, 4, 3, 14, 45), "Australia/Lord_Howe", "+11:00"),  # 01:45 on 4 April
        (utc(2027, 4, 3, 15, 15), "Australia/Lord_Howe", "+10:30"),
        (utc(2026, 10, 24, 18, 30), "Asia/Shanghai", None),
        (utc(2026, 10, 25, 0, 30), "UTC", None),
    ],
)
def test_repeated_offset(moment: datetime, zone: str, offset: str | None) -> None:
    assert formatting.repeated_offset(moment, zone) == offset


def world_for(locale: str) -> World:
    return world(VARIANTS["en" if locale == "en" else "zh"])


def post(renderer: Renderer, locale: str, moment: datetime, zone: str) -> str:
    w = world_for(locale)
    deal = replace(w.deal, deadline=moment)
    return renderer.render(locale, "deal_post", deal=deal, stats=w.stats, tz=zone)


@pytest.mark.parametrize(
    ("locale", "moment", "shown"),
    [
        ("en", utc(2026, 10, 25, 0, 30), "Deadline: Sun 25 Oct, 02:30 (UTC+02:00)"),
        ("en", utc(2026, 10, 25, 1, 30), "Deadline: Sun 25 Oct, 02:30 (UTC+01:00)"),
        ("zh_Hans", utc(2026, 10, 25, 0, 30), "10月25日 周日 02:30（UTC+02:00）"),
        ("zh_Hans", utc(2026, 10, 25, 1, 30), "10月25日 周日 02:30（UTC+01:00）"),
    ],
)
def test_deal_post_states_which_repeated_time(
    renderer: Renderer, locale: str, moment: datetime, shown: str
) -> None:
    assert shown in post(renderer, locale, moment, "Europe/Berlin")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("moment", "zone"),
    [
        (utc(2026, 10, 25, 2, 30), "Europe/Berlin"),  # 03:30, once
        (utc(2027, 3, 28, 1, 30), "Europe/Berlin"),  # 03:30 just after the spring jump
        (utc(2026, 11, 27, 12, 0), "Europe/Berlin"),
        (utc(2026, 10, 24, 18, 30), "Asia/Shanghai"),
        (utc(2026, 11, 1, 7, 30), "America/New_York"),
    ],
)
def test_times_that_happen_once_are_shown_as_before(
    renderer: Renderer, locale: str, moment: datetime, zone: str
) -> None:
    text = post(renderer, locale, moment, zone)
    assert formatting.when(moment, zone, locale) in text
    assert "UTC" not in text


@pytest.mark.parametrize("locale", LOCALES)
def test_typed_repeated_deadline_is_shown_as_the_first(renderer: Renderer, locale: str) -> None:
    at = deadline("2026-10-25 02:30", BEFORE_BERLIN_OVERLAP, BERLIN)
    w = world_for(locale)
    deal = replace(w.deal, deadline=at)
    for name in ("deal_post", "notice_deadline_reminder"):
        text = renderer.render(locale, name, deal=deal, stats=w.stats, tz="Europe/Berlin")
        assert "02:30" in text and "UTC+02:00" in text and "UTC+01:00" not in text
    ny = deadline("2026-11-01 01:30", utc(2026, 10, 30, 12, 0), NEW_YORK)
    text = renderer.render(
        locale, "deal_post", deal=replace(deal, deadline=ny), stats=w.stats, tz="America/New_York"
    )
    assert "01:30" in text and "UTC-04:00" in text


def test_a_deadline_past_the_last_datetime_is_refused_not_crashed() -> None:
    with pytest.raises(InputError) as refused:
        deadline(
            "9999-12-31 23:00", datetime(2026, 12, 1, tzinfo=UTC), ZoneInfo("America/New_York")
        )
    assert refused.value.key in ("deadline_invalid", "deadline_too_far")
