"""Parsing what leaders and residents type: numbers, deadlines, building lists, bounded texts."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from groupbuy import limits
from groupbuy.errors import InputError

_INT_RE = re.compile(r"^\d{1,9}$")
_TIME_RE = r"(?P<h>\d{1,2})[:：.](?P<m>\d{2})"
_DEADLINE_PATTERNS = [
    re.compile(rf"^(?P<rel>today|tomorrow|今天|明天|后天)?\s*{_TIME_RE}$", re.I),
    re.compile(rf"^(?P<y>\d{{4}})[-/.](?P<mo>\d{{1,2}})[-/.](?P<d>\d{{1,2}})\s+{_TIME_RE}$"),
    re.compile(rf"^(?P<mo>\d{{1,2}})[-/.](?P<d>\d{{1,2}})\s+{_TIME_RE}$"),
]
_RELATIVE_DAYS = {"today": 0, "今天": 0, "tomorrow": 1, "明天": 1, "后天": 2}
_SPLIT_RE = re.compile(r"[,，、;；\s]+")


def bounded_text(text: str, maximum: int, *, key: str = "text") -> str:
    value = " ".join(text.split()) if "\n" not in text else text.strip()
    if not value:
        raise InputError("text_empty", field=key)
    if len(value) > maximum:
        raise InputError("text_too_long", field=key, limit=maximum)
    return value


def positive_int(text: str, maximum: int, *, key: str = "number") -> int:
    cleaned = text.strip()
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


def deadline(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    """'20:00' (next such time), 'tomorrow 18:00', '2026-12-01 18:00', '12-01 18:00'; UTC result."""
    cleaned = " ".join(text.strip().split())
    local_now = now.astimezone(tz)
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
        result = datetime.combine(day, at, tzinfo=tz)
        if parts.get("rel") is None and not parts.get("mo") and result <= local_now:
            result += timedelta(days=1)  # a bare '20:00' said at 21:00 means tomorrow's
        if parts.get("mo") and not parts.get("y") and result <= local_now:
            try:
                result = result.replace(year=result.year + 1)
            except ValueError as exc:  # '02-29' said after a leap day: no such date next year
                raise InputError("deadline_invalid") from exc
        if result <= local_now:
            raise InputError("deadline_past")
        if result - local_now > timedelta(days=limits.DEADLINE_MAX_DAYS):
            raise InputError("deadline_too_far", days=limits.DEADLINE_MAX_DAYS)
        return result.astimezone(ZoneInfo("UTC"))
    raise InputError("deadline_invalid")


def buildings(text: str) -> tuple[str, ...]:
    """'1, 2, 3A', '1，2，3A', '1号楼 2号楼' → ('1', '2', '3A'); order kept, duplicates dropped."""
    names: list[str] = []
    for raw in _SPLIT_RE.split(text.strip()):
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
