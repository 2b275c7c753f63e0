"""One Jinja2 environment per locale, built once: autoescape, StrictUndefined, Babel gettext."""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from messages import fitting, formatting
from messages.i18n import LOCALES, translations

TEMPLATES = Path(__file__).with_name("templates")


def _environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]

    def money(amount: int, currency: str) -> str:
        return formatting.money(amount, currency, locale)

    formats: list[Any] = []  # the `formats` macros, made on first use

    def when(moment: datetime, timezone: str) -> str:
        text = formatting.when(moment, timezone, locale)
        offset = formatting.repeated_offset(moment, timezone)
        if offset is None:
            return text
        if not formats:
            formats.append(env.get_template("_formats.html.j2").make_module())
        return html.unescape(str(formats[0].repeated_time(when=text, offset=offset)).strip())

    def number(value: int) -> str:
        return formatting.number(value, locale)

    def span(slot: Any, timezone: str) -> str:
        """A pickup slot (groupbuy.model.Slot): "Sat 9 Dec, 18:00–18:30"."""
        return formatting.span(slot.starts_at, slot.ends_at, timezone, locale)

    env.filters.update(money=money, when=when, number=number, span=span)
    env.filters.update(clip=fitting.clip, clip_bytes=fitting.clip_bytes, fit=fitting.fit)
    env.globals["locale"] = locale
    return env


class Renderer:
    """Renders a named template: `render(locale, "deal_post", deal=...)` for HTML messages,
    `plain(...)` for button labels and alerts, which Telegram shows as plain text."""

    def __init__(self) -> None:
        self._envs = {locale: _environment(locale) for locale in LOCALES}
        self._modules: dict[tuple[str, str], Any] = {}

    def render(self, locale: str, name: str, /, **context: Any) -> str:
        env = self._envs.get(locale) or self._envs["en"]
        return env.get_template(f"{name}.html.j2").render(**context).strip()

    def plain(self, locale: str, name: str, /, **context: Any) -> str:
        return html.unescape(self.render(locale, name, **context))

    def macro(self, locale: str, collection: str, name: str, /, **context: Any) -> str:
        """A short text from a collection of macros (labels, errors): plain text, unescaped."""
        fn = getattr(self._module(locale, collection), name, None)
        if fn is None:
            raise KeyError(f"no text {collection}.{name}")
        if not fn.catch_kwargs:  # a macro takes only what it names; extra facts are dropped
            context = {k: v for k, v in context.items() if k in fn.arguments}
        return html.unescape(str(fn(**context)).strip())

    def _module(self, locale: str, collection: str) -> Any:
        """A collection's macros, made once per locale: macros are pure, and making the module
        runs the whole template (it was most of the cost of a button label)."""
        key = (locale if locale in self._envs else "en", collection)
        module = self._modules.get(key)
        if module is None:
            module = self._envs[key[0]].get_template(f"_{collection}.html.j2").make_module()
            self._modules[key] = module
        return module

    def has_macro(self, collection: str, name: str) -> bool:
        return callable(getattr(self._module("en", collection), name, None))

    def macro_names(self, collection: str) -> list[str]:
        module = self._envs["en"].get_template(f"_{collection}.html.j2").make_module()
        return sorted(
            n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))
        )

    def template_names(self) -> list[str]:
        return sorted(
            str(p.relative_to(TEMPLATES)).removesuffix(".html.j2")
            for p in TEMPLATES.rglob("*.html.j2")
            if not p.name.startswith("_")
        )
