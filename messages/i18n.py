"""Locales and gettext catalogues (Babel). English is the source language; zh_Hans is translated."""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("en", "zh_Hans")
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"


def resolve_locale(chosen: str | None, telegram_language: str | None, default: str) -> str:
    """The user's /lang choice, else Telegram's language ('zh', 'zh-hans', 'zh-CN' → zh_Hans)."""
    for candidate in (chosen, telegram_language):
        if not candidate:
            continue
        lowered = candidate.lower().replace("_", "-")
        if lowered.startswith("zh"):
            return "zh_Hans"
        if lowered.startswith("en"):
            return "en"
    return default if default in LOCALES else DEFAULT_LOCALE


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> NullTranslations:
    """Compile the .po in memory at start-up: no build step and no stale .mo files to forget."""
    path = po_path(locale)
    if locale == "en" or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)
