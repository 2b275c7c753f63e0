"""The translation catalogues match the templates, and every text the code asks for exists.

When a test here fails after a template change, run `python -m messages.catalog update`,
translate what it reports, and see docs/i18n.md.
"""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from messages import catalog
from messages.i18n import LOCALES, po_path
from messages.pickup_list import PickupListLabels
from messages.render import Renderer

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = (ROOT / "groupbuy", ROOT / "handlers")
TRANSLATED = catalog.translated_locales()

_ERROR_RE = re.compile(r"\b(?:DomainError|InputError|NotAllowed)(\()\s*[\"'](\w+)[\"']")
_LABEL_RES = (
    re.compile(r"\b(?:button|link_button)\(\s*deps,\s*\w+,\s*[\"'](\w+)[\"']"),
    re.compile(r"[\"']labels[\"'],\s*[\"'](\w+)[\"']"),
    re.compile(r"\bkey = [\"'](\w+)[\"'] if .+ else [\"'](\w+)[\"']"),  # leading: toast choice
)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.fixture(scope="module")
def expected() -> set[str]:
    return catalog.msgids()


def source_files() -> list[Path]:
    return sorted(p for d in CODE_DIRS for p in d.rglob("*.py"))


def _call_arguments(text: str, open_paren: int) -> str:
    """The text between a call's parentheses (balanced, so nested calls are included)."""
    depth = 0
    for end in range(open_paren, len(text)):
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        if depth == 0:
            return text[open_paren + 1 : end]
    return text[open_paren + 1 :]


def error_uses() -> list[tuple[str, set[str], str]]:
    """(key, keyword arguments given, where) for every error raised in the code."""
    uses = []
    for path in source_files():
        text = path.read_text(encoding="utf-8")
        for match in _ERROR_RE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            arguments = _call_arguments(text, match.start(1))
            given = set(re.findall(r"(?<![=!<>])\b(\w+)\s*=(?!=)", arguments))
            uses.append((match.group(2), given, f"{path.relative_to(ROOT)}:{line}"))
    return uses


def label_uses() -> list[tuple[str, str]]:
    uses = []
    for path in source_files():
        text = path.read_text(encoding="utf-8")
        for pattern in _LABEL_RES:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                for key in match.groups():
                    uses.append((key, f"{path.relative_to(ROOT)}:{line}"))
    return uses


def test_templates_have_texts(expected: set[str]) -> None:
    assert len(expected) > 50  # extraction works (a broken extractor yields nothing)


def test_template_is_up_to_date(expected: set[str]) -> None:
    with catalog.POT.open("rb") as handle:
        pot = read_po(handle)
    in_pot = {m.id if isinstance(m.id, str) else m.id[0] for m in pot if m.id}
    assert in_pot == expected, "run `python -m messages.catalog update`"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_header(locale: str) -> None:
    po: Catalog = catalog.load(locale)
    headers = dict(po.mime_headers)
    assert headers["Language"] == locale
    assert headers["Plural-Forms"] == "nplurals=1; plural=0;"
    assert "utf-8" in headers["Content-Type"].lower()
    assert not po.fuzzy, "the header is marked fuzzy"
    assert po_path(locale).is_file()


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_text_is_translated(locale: str, expected: set[str]) -> None:
    report = catalog.check(locale, expected)
    assert not report.not_in_po, f"not in the .po, run update: {report.not_in_po}"
    assert not report.untranslated, f"untranslated: {report.untranslated}"
    assert not report.fuzzy, f"fuzzy (check and clear the flag): {report.fuzzy}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_no_obsolete_entries(locale: str, expected: set[str]) -> None:
    po = catalog.load(locale)
    assert not po.obsolete, f"obsolete #~ entries: {list(po.obsolete)}"
    assert not catalog.check(locale, expected).obsolete


@pytest.mark.parametrize("locale", TRANSLATED)
def test_placeholders_match(locale: str) -> None:
    wrong = [
        (m.id, m.string)
        for m in catalog.load(locale)
        if m.id
        and m.string
        and catalog.placeholders(str(m.id)) != catalog.placeholders(str(m.string))
    ]
    assert not wrong, f"placeholders differ between msgid and msgstr: {wrong}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_emoji_and_commands_kept(locale: str) -> None:
    """A translation keeps the msgid's leading emoji and its /commands."""
    wrong = []
    for m in catalog.load(locale):
        if not (m.id and m.string):
            continue
        msgid, msgstr = str(m.id), str(m.string)
        if not msgid[:1].isascii() and msgid[:1] != msgstr[:1]:
            wrong.append((msgid, msgstr))
        if set(re.findall(r"/[a-z]+\b", msgid)) - set(re.findall(r"/[a-z]+\b", msgstr)):
            wrong.append((msgid, msgstr))
    assert not wrong


def test_placeholder_pattern() -> None:
    assert catalog.placeholders("%(n)s of {count} on %(when)s") == {"n", "count", "when"}


def test_locales_are_known() -> None:
    assert "en" in LOCALES and "zh_Hans" in TRANSLATED


def test_code_raises_errors() -> None:
    assert len(error_uses()) > 20, "the error scan found nothing: has the code moved?"


@pytest.mark.parametrize(
    ("key", "given", "where"),
    [pytest.param(*use, id=f"{use[0]}-{use[2]}") for use in error_uses()],
)
def test_error_key_has_a_text(renderer: Renderer, key: str, given: set[str], where: str) -> None:
    assert renderer.has_macro("errors", key), f"{where}: no macro {key} in _errors.html.j2"
    # Given only what the code passes (parse_deal adds `line` to errors raised while reading a
    # line of a one-message deal), the text must render: StrictUndefined fails on a missing fact.
    # Words and numbers, but a time: the moment (`at`, a slot's `next`) and the clock it is
    # told in (`tz`).
    at = datetime(2026, 12, 5, 1, 42, tzinfo=UTC)
    times = {"at": at, "next": at, "tz": "Asia/Shanghai"}
    params = {name: times.get(name, "7") for name in given | {"line"}}
    for locale in LOCALES:
        assert renderer.macro(locale, "errors", key, **params).strip()


@pytest.mark.parametrize(
    ("key", "where"), [pytest.param(*use, id=f"{use[0]}-{use[1]}") for use in label_uses()]
)
def test_label_key_has_a_text(renderer: Renderer, key: str, where: str) -> None:
    assert renderer.has_macro("labels", key), f"{where}: no macro {key} in _labels.html.j2"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_language_has_a_button(renderer: Renderer, locale: str) -> None:
    assert renderer.has_macro("labels", f"lang_{locale}")  # handlers.language


@pytest.mark.parametrize("field", [f.name for f in fields(PickupListLabels)])
def test_pickup_labels_cover_the_pdf(renderer: Renderer, field: str) -> None:
    """handlers.pickup_list asks the collection for every field of PickupListLabels."""
    assert renderer.has_macro("pickup_labels", field)


def test_update_merges_new_changed_and_removed_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m messages.catalog update` in a scratch tree: new texts arrive untranslated,
    a reworded text keeps its old translation as fuzzy, a removed text is dropped."""
    templates = tmp_path / "templates"
    templates.mkdir()
    po = tmp_path / "zh_Hans" / "LC_MESSAGES" / "messages.po"
    monkeypatch.setattr(catalog, "TEMPLATES", templates)
    monkeypatch.setattr(catalog, "POT", tmp_path / "messages.pot")
    monkeypatch.setattr(catalog, "po_path", lambda locale: po)
    monkeypatch.setattr(catalog, "translated_locales", lambda: ["zh_Hans"])

    (templates / "a.html.j2").write_text('{{ _("Deal closed.") }} {{ _("Gone soon") }}')
    catalog.update()
    old = catalog.load("zh_Hans")
    old["Deal closed."].string = "已截单。"
    old["Gone soon"].string = "即将删除"
    po.write_bytes(catalog._serialise(old))
    assert catalog.check("zh_Hans").ok

    (templates / "a.html.j2").write_text(
        '{{ _("Deal closed!") }} {{ _("Hello %(name)s", name=n) }}'
    )
    catalog.update()
    report = catalog.check("zh_Hans")
    assert report.fuzzy == ["Deal closed!"]
    assert report.untranslated == ["Hello %(name)s"]
    assert not report.obsolete and not report.not_in_po
    assert "Gone soon" not in po.read_text(encoding="utf-8")
    assert catalog.main(["check"]) == 1
    assert catalog.update() == []  # nothing changed: nothing written
