"""The gettext catalogues of the templates: extract, update and check them with Babel.

    python -m messages.catalog update   # templates → locales/messages.pot → every locale's .po
    python -m messages.catalog check    # exit 1 if a text is untranslated, fuzzy or obsolete

English is the source language (the msgids); every other locale in ``messages.i18n.LOCALES``
has ``locales/<locale>/LC_MESSAGES/messages.po``. See docs/i18n.md.
"""

from __future__ import annotations

import configparser
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from messages.i18n import DEFAULT_LOCALE, DOMAIN, LOCALE_DIR, LOCALES, po_path

PACKAGE = Path(__file__).parent
TEMPLATES = PACKAGE / "templates"
MAPPING = PACKAGE / "babel.cfg"
POT = LOCALE_DIR / f"{DOMAIN}.pot"
PROJECT = "GroupBuy"


def _version() -> str:
    try:
        return metadata.version("groupbuy")
    except metadata.PackageNotFoundError:
        return "0"


# Babel names Jinja2's extractor "jinja2" through an entry point; name it directly so
# extraction does not depend on the installed distribution's metadata.
_METHODS = {"jinja2": "jinja2.ext:babel_extract"}
_PLACEHOLDER_RE = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")
_VOLATILE_HEADERS = re.compile(
    rb"^\"(POT-Creation-Date|PO-Revision-Date|Generated-By): .*\\n\"\n", re.M
)


def _mapping() -> tuple[list[tuple[str, str]], dict[str, dict[str, Any]]]:
    """babel.cfg, read as `pybabel extract -F` reads it: `[method: pattern]` sections of options."""
    parser = configparser.RawConfigParser()
    parser.read(MAPPING, encoding="utf-8")
    method_map: list[tuple[str, str]] = []
    options_map: dict[str, dict[str, Any]] = {}
    for section in parser.sections():
        method, pattern = (part.strip() for part in section.split(":", 1))
        method_map.append((pattern, _METHODS.get(method, method)))
        options_map[pattern] = dict(parser.items(section))
    return method_map, options_map


def extract() -> Catalog:
    """Every msgid used in the templates, with the files that use it (the .pot)."""
    method_map, options_map = _mapping()
    template = Catalog(project=PROJECT, version=_version(), domain=DOMAIN, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        TEMPLATES, method_map, options_map
    ):
        template.add(
            message,
            None,
            [(f"templates/{filename}", lineno)],
            auto_comments=comments,
            context=context,
        )
    return template


def msgids() -> set[str]:
    """The msgids of the templates; of a plural text (ngettext), its singular form."""
    return {_singular(m.id) for m in extract() if m.id}


def placeholders(text: str) -> set[str]:
    """``%(name)s`` and ``{count}`` names in a text."""
    return {a or b for a, b in _PLACEHOLDER_RE.findall(text)}


def translated_locales() -> list[str]:
    return [locale for locale in LOCALES if locale != DEFAULT_LOCALE]


def load(locale: str) -> Catalog:
    with po_path(locale).open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


def _singular(msgid: str | tuple[str, ...] | list[str]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _translation(message: Message) -> str:
    string = message.string
    if isinstance(string, str):
        return string
    return string[0] if string else ""


def _serialise(catalog: Catalog) -> bytes:
    buffer = BytesIO()
    write_po(buffer, catalog, include_lineno=False, ignore_obsolete=False, width=100)
    return buffer.getvalue()


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Write unless only the dates differ, so an update with no text change leaves no diff."""
    if path.exists() and _VOLATILE_HEADERS.sub(b"", path.read_bytes()) == _VOLATILE_HEADERS.sub(
        b"", data
    ):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def update(*, keep_obsolete: bool = False) -> list[str]:
    """Re-extract the .pot and merge it into every locale's .po (Babel's Catalog.update:
    new texts are added untranslated, changed texts keep their old translation as fuzzy).
    Texts no longer used are dropped unless ``keep_obsolete``. Returns the files written."""
    template = extract()
    written: list[str] = []
    if _write_if_changed(POT, _serialise(template)):
        written.append(str(POT))
    for locale in translated_locales():
        path = po_path(locale)
        if path.exists():
            catalog = load(locale)
        else:
            catalog = Catalog(
                locale=locale, domain=DOMAIN, project=PROJECT, version=_version(), fuzzy=False
            )
        catalog.update(template, update_creation_date=False)
        if not keep_obsolete:
            catalog.obsolete.clear()
        if _write_if_changed(path, _serialise(catalog)):
            written.append(str(path))
    return written


@dataclass
class Report:
    """What stands between a locale's .po and a complete translation."""

    locale: str
    not_in_po: list[str] = field(default_factory=list)
    untranslated: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    obsolete: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.not_in_po or self.untranslated or self.fuzzy or self.obsolete or self.placeholders
        )

    def lines(self) -> Iterator[str]:
        for title, entries in (
            ("missing from the .po (run update)", self.not_in_po),
            ("untranslated", self.untranslated),
            ("fuzzy", self.fuzzy),
            ("obsolete", self.obsolete),
            ("placeholders differ", self.placeholders),
        ):
            for entry in entries:
                yield f"{self.locale}: {title}: {entry!r}"


def check(locale: str, expected: set[str] | None = None) -> Report:
    """Compare a locale's .po with the templates' msgids (``expected``, extracted if None)."""
    wanted = msgids() if expected is None else expected
    report = Report(locale)
    if not po_path(locale).exists():
        report.not_in_po = sorted(wanted)
        return report
    catalog = load(locale)
    present: set[str] = set()
    for message in catalog:
        if not message.id:
            continue  # the header
        msgid = _singular(message.id)
        present.add(msgid)
        translation = _translation(message)
        if not translation.strip():
            report.untranslated.append(msgid)
        elif message.fuzzy:
            report.fuzzy.append(msgid)
        elif placeholders(msgid) != placeholders(translation):
            report.placeholders.append(msgid)
        if msgid not in wanted:
            report.obsolete.append(msgid)
    report.obsolete += [_singular(key) for key in catalog.obsolete]
    report.not_in_po = sorted(wanted - present)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else ""
    if command == "update":
        written = update(keep_obsolete="--keep-obsolete" in args)
        for path in written:
            print(f"wrote {path}")
        if not written:
            print("catalogues already up to date")
        reports = [check(locale) for locale in translated_locales()]
    elif command == "check":
        reports = [check(locale) for locale in translated_locales()]
    else:
        print("usage: python -m messages.catalog update [--keep-obsolete] | check", file=sys.stderr)
        return 2
    for report in reports:
        for line in report.lines():
            print(line)
    failed = not all(report.ok for report in reports)
    if command == "check":
        print("catalogues incomplete" if failed else "catalogues complete")
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
