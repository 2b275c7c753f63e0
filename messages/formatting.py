"""Numbers, money and dates per locale (Babel)."""

from __future__ import annotations

from datetime import datetime
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
