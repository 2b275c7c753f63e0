"""Numbers, money and dates per locale (Babel)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal

from groupbuy.money import Money

_BABEL_LOCALE = {"en": "en", "zh_Hans": "zh_Hans_CN"}


def babel_locale(locale: str) -> str:
    return _BABEL_LOCALE.get(locale, "en")


@lru_cache(maxsize=8192)  # lists print the same few amounts thousands of times
def money(amount: int, currency: str, locale: str) -> str:
    if currency.upper() == "XTR":
        return f"{amount} ⭐"
    return format_currency(
        Money(amount, currency).as_decimal(), currency.upper(), locale=babel_locale(locale)
    )


def number(value: int, locale: str) -> str:
    return format_decimal(value, locale=babel_locale(locale))


def when(moment: datetime, timezone: str, locale: str) -> str:
    """A deadline as people read it: weekday, date and time in the community's timezone."""
    pattern = "EEE d MMM, HH:mm" if locale == "en" else "M月d日 EEE HH:mm"
    return format_datetime(moment, pattern, tzinfo=ZoneInfo(timezone), locale=babel_locale(locale))


def span(start: datetime, end: datetime, timezone: str, locale: str) -> str:
    """A pickup slot: its day and start as `when` writes them, and its end time."""
    until = format_datetime(end, "HH:mm", tzinfo=ZoneInfo(timezone), locale=babel_locale(locale))
    return f"{when(start, timezone, locale)}–{until}"


def repeated_offset(moment: datetime, timezone: str) -> str | None:
    """'+02:00', the UTC offset of `moment`, when the wall time it shows (to the minute) happens
    twice in the zone that day (clocks go back), so the text must say which one it is; None when
    it happens once. The `when` filter adds it through the `formats` macros."""
    shown = moment.astimezone(ZoneInfo(timezone)).replace(second=0, microsecond=0)
    first, second = shown.replace(fold=0).utcoffset(), shown.replace(fold=1).utcoffset()
    offset = shown.utcoffset()
    # A repeated time reads with a larger offset the first time than the second; a skipped one
    # (never shown: `moment` is a real instant) the other way round.
    if first is None or second is None or offset is None or first <= second:
        return None
    minutes = int(offset.total_seconds()) // 60
    hours, minutes = divmod(abs(minutes), 60)
    return f"{'-' if offset < timedelta(0) else '+'}{hours:02d}:{minutes:02d}"
