"""Parsing what leaders and residents type: numbers, deadlines, building lists, bounded texts."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from groupbuy import deadlines, limits
from groupbuy.errors import InputError

# Every number a person types is read the same way: ASCII digits, or the full-width digits a
# Chinese input method types in its full-width mode ("１２" is 12), and nothing else. Python's
# int() and re's \d would also take Arabic-Indic "٣", superscript "²" and dozens of other
# scripts' digits, which nobody here types on purpose and which would read back oddly.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_INT_RE = re.compile(r"^[0-9]{1,9}$")
_TIME_RE = r"(?P<h>[0-9]{1,2})[:：.](?P<m>[0-9]{2})"
_DEADLINE_PATTERNS = [
    re.compile(rf"^(?P<rel>today|tomorrow|今天|明天|后天)?\s*{_TIME_RE}$", re.I),
    re.compile(
        rf"^(?P<y>[0-9]{{4}})[-/.](?P<mo>[0-9]{{1,2}})[-/.](?P<d>[0-9]{{1,2}})\s+{_TIME_RE}$"
    ),
    re.compile(rf"^(?P<mo>[0-9]{{1,2}})[-/.](?P<d>[0-9]{{1,2}})\s+{_TIME_RE}$"),
]
# Control characters (C0 but the newline, DEL, C1) are dropped from every text a person types:
# they show as nothing or as garbage, and PostgreSQL text cannot hold NUL at all. A tab is a
# space. Format characters (zero-width joiners in emoji, bidi marks) are kept.
_CONTROLS: dict[int, str | None] = {
    c: None for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)] if c != 0x0A
}
_CONTROLS[0x09] = " "


def typed_digits(text: str) -> str:
    """The number a person typed, with full-width digits as ASCII (see _FULL_WIDTH)."""
    return text.translate(_FULL_WIDTH)


def clean_text(text: str) -> str:
    """A typed text without control characters (see _CONTROLS); "\r\n" is a newline."""
    return text.replace("\r\n", "\n").translate(_CONTROLS)


_RELATIVE_DAYS = {"today": 0, "今天": 0, "tomorrow": 1, "明天": 1, "后天": 2}
_SPLIT_RE = re.compile(r"[,，、;；\s]+")


def bounded_text(text: str, maximum: int, *, key: str = "text") -> str:
    text = clean_text(text)
    value = " ".join(text.split()) if "\n" not in text else text.strip()
    if not value:
        raise InputError("text_empty", field=key)
    if len(value) > maximum:
        raise InputError("text_too_long", field=key, limit=maximum)
    return value


def positive_int(text: str, maximum: int, *, key: str = "number") -> int:
    cleaned = typed_digits(text).strip()
    if not _INT_RE.match(cleaned):
        raise InputError("int_invalid", field=key, limit=maximum)
    value = int(cleaned)
    if value < 1 or value > maximum:
        raise InputError("int_out_of_range", field=key, limit=maximum)
    return value


def timezone(name: str) -> ZoneInfo:
    cleaned = name.strip()
    if cleaned not in available_timezones():
        raise InputError("timezone_invalid")
    try:
        return ZoneInfo(cleaned)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - listed zones load
        raise InputError("timezone_invalid") from exc


_UTC = ZoneInfo("UTC")


def _passed(result: datetime, local_now: datetime) -> bool:
    """Not later than now on the wall clock, or not later in fact: a time the clocks repeat is
    its first occurrence, already over when now is in the repeated hour's second pass."""
    if result.replace(tzinfo=None) <= local_now.replace(tzinfo=None):
        return True
    return result.astimezone(_UTC) <= local_now.astimezone(_UTC)


def _skipped(result: datetime) -> tuple[str, str] | None:
    """For a wall time the clocks jump over (spring forward), the times the jump goes from and
    to ('02:00', '03:00'); None for a time that exists."""
    zone = result.tzinfo
    wall = result.replace(tzinfo=None)
    if result.astimezone(_UTC).astimezone(zone).replace(tzinfo=None) == wall:
        return None
    before, after = result.replace(fold=0).utcoffset(), result.replace(fold=1).utcoffset()
    if before is None or after is None:  # pragma: no cover - a ZoneInfo always has an offset
        return None
    # In a gap fold=0 reads the time with the offset before the jump, fold=1 with the one
    # after: the jump itself is between the two instants. Find it to the second.
    lo, hi = (wall - after).replace(tzinfo=_UTC), (wall - before).replace(tzinfo=_UTC)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    jump = hi.replace(microsecond=0)
    return f"{jump + before:%H:%M}", f"{jump.astimezone(zone):%H:%M}"


def deadline(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    """'20:00' (next such time), 'tomorrow 18:00', '2026-12-01 18:00', '12-01 18:00', and the
    natural forms groupbuy.deadlines reads ('fri 8pm', '周五 20:00', 'in 2 hours'); UTC result.

    A time the clocks skip that day (spring forward) is refused; a time they repeat (autumn)
    is its first occurrence."""
    try:
        return _deadline(text, now, tz)
    except OverflowError as exc:  # '9999-12-31 23:00' west of UTC: past the last datetime
        raise InputError("deadline_invalid") from exc


def _deadline(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    cleaned = " ".join(typed_digits(text).strip().split())
    local_now = now.astimezone(tz)
    result = _exact(cleaned, local_now, tz)
    if result is None:  # "fri 8pm", "周五 20:00", "in 2 hours": read by dateparser
        found = deadlines.natural(cleaned, local_now.replace(tzinfo=None))
        if found is None:
            raise InputError("deadline_invalid")
        result = found.replace(tzinfo=tz)  # fold=0: a repeated time's first
    if _passed(result, local_now):
        raise InputError("deadline_past")
    skipped = _skipped(result)
    if skipped is not None:
        raise InputError(
            "deadline_in_gap",
            time=f"{result:%H:%M}",
            date=result.date().isoformat(),
            zone=tz.key,
            clocks_from=skipped[0],
            clocks_to=skipped[1],
        )
    if result - local_now > timedelta(days=limits.DEADLINE_MAX_DAYS):
        raise InputError("deadline_too_far", days=limits.DEADLINE_MAX_DAYS)
    return result.astimezone(ZoneInfo("UTC"))


def _exact(cleaned: str, local_now: datetime, tz: ZoneInfo) -> datetime | None:
    """The forms read exactly, without dateparser: '20:00', 'tomorrow 18:00', '明天 18:00',
    '2026-12-01 18:00', '12-01 18:00'. None for anything else."""
    for pattern in _DEADLINE_PATTERNS:
        match = pattern.match(cleaned)
        if match is None:
            continue
        parts = match.groupdict()
        try:
            at = time(int(parts["h"]), int(parts["m"]))
            if parts.get("y") or parts.get("mo"):
                day = date(int(parts.get("y") or local_now.year), int(parts["mo"]), int(parts["d"]))
            else:
                day = local_now.date() + timedelta(
                    days=_RELATIVE_DAYS.get((parts.get("rel") or "").lower(), 0)
                )
        except ValueError as exc:
            raise InputError("deadline_invalid") from exc
        result = datetime.combine(day, at, tzinfo=tz)  # fold=0: a repeated time's first
        if parts.get("rel") is None and not parts.get("mo") and _passed(result, local_now):
            result += timedelta(days=1)  # a bare '20:00' said at 21:00 means tomorrow's
        if parts.get("mo") and not parts.get("y") and _passed(result, local_now):
            try:
                result = result.replace(year=result.year + 1)
            except ValueError as exc:  # '02-29' said after a leap day: no such date next year
                raise InputError("deadline_invalid") from exc
        return result
    return None


def buildings(text: str) -> tuple[str, ...]:
    """'1, 2, 3A', '1，2，3A', '1号楼 2号楼' → ('1', '2', '3A'); order kept, duplicates dropped."""
    names: list[str] = []
    for raw in _SPLIT_RE.split(clean_text(text).strip()):
        name = raw.strip().removesuffix("号楼").removesuffix("栋").removesuffix("幢")
        if not name:
            continue
        if len(name) > limits.BUILDING_NAME_MAX:
            raise InputError("building_too_long", limit=limits.BUILDING_NAME_MAX)
        if name not in names:
            names.append(name)
    if not names:
        raise InputError("buildings_empty")
    if len(names) > limits.BUILDINGS_MAX:
        raise InputError("buildings_too_many", limit=limits.BUILDINGS_MAX)
    return tuple(names)


def building_choice(text: str, known: tuple[str, ...]) -> tuple[str, ...]:
    """A deal's buildings: 'all' or a subset of the community's list."""
    if text.strip().lower() in {"all", "全部", "所有", "*"}:
        return ()
    chosen = buildings(text)
    unknown = [b for b in chosen if b not in known]
    if unknown:
        raise InputError("building_unknown", name=", ".join(unknown), known=", ".join(known))
    return () if set(chosen) == set(known) else chosen


# Row ids are 32-bit integers on every database (PostgreSQL's INTEGER); chat ids fit in 52 bits.
ID_MAX = 2**31 - 1
CHAT_ID_MAX = 2**52
_ID_RE = re.compile(r"^[0-9]{1,20}$")


def number_or_none(text: str, maximum: int) -> int | None:
    """The one reading of a number someone typed or pressed: ASCII or full-width digits (no
    '²', no '٣'), 1..maximum; None for anything else."""
    cleaned = typed_digits(text).strip()
    if not _ID_RE.match(cleaned):
        return None
    value = int(cleaned)
    return value if 1 <= value <= maximum else None


def object_id(text: str, *, key: str = "deal") -> int:
    """A row id typed in a command or carried by a link ('/list 12', 'o_12'): refused with a
    reason naming what it should have been ("that is not a deal number")."""
    value = number_or_none(text, ID_MAX)
    if value is None:
        raise InputError("not_an_id", what=key)
    return value


def group_chat_id(text: str) -> int:
    """A group's chat id as links carry it (without its minus sign): 'setup_1001234'."""
    value = number_or_none(text, CHAT_ID_MAX)
    if value is None:
        raise InputError("not_an_id", what="group")
    return -value
