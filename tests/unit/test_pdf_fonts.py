"""The pickup list's fonts, read once per process (messages/pickup_list/pdf.py: _add_font).

They lean on fpdf2 internals (pinned <2.9): these tests fail loudly when an fpdf2 upgrade
changes what a document keeps of its own in a font, before a leader gets a broken PDF.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from fontTools import subset as ftsubset  # type: ignore[import-untyped]
from fontTools import ttLib
from fpdf.fonts import TTFFont

from messages.fonts import CJK_SANS, CJK_SANS_COMMON, common
from messages.pickup_list import PickupLine, render_pdf
from messages.pickup_list import pdf as pdf_module
from tests.unit.test_pickup_list import (
    FIXED,
    LABELS_EN,
    LABELS_ZH,
    ROWS,
    _list,
    _pages_text,
    _row,
)

# What TTFFont held when _add_font was written. A new slot may be per-document state that
# _add_font does not make afresh: read TTFFont.__init__ and fpdf/output.py, then update both.
KNOWN_SLOTS = {
    "i", "type", "name", "desc", "glyph_ids", "_hbfont", "sp", "ss", "up", "ut", "cw",
    "ttffile", "fontkey", "emphasis", "scale", "subset", "cmap", "ttfont", "missing_glyphs",
    "biggest_size_pt", "color_font", "unicode_range", "palette_index", "is_compressed",
    "is_cff", "is_cid_keyed", "is_symbol", "cff_ros", "collection_font_number",
}  # fmt: skip


def _by_add_font(pdf: Any, family: str, path: Any) -> None:
    pdf.add_font(family, fname=str(path))  # fpdf2's public way: the font read afresh


def test_the_font_slots_are_those_add_font_was_written_for() -> None:
    assert set(TTFFont.__slots__) == KNOWN_SLOTS


@pytest.mark.parametrize("labels", [LABELS_ZH, LABELS_EN], ids=["zh", "en"])
def test_a_list_drawn_with_the_kept_fonts_is_byte_for_byte_the_one_add_font_draws(
    labels: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Characters the first document did not use, and a code outside the mono font, so that
    # a subset or a missing-glyph record carried over from one document to the next shows.
    first = _list(ROWS, labels)
    second = _list(
        (
            *ROWS,
            _row("7", "808", "欧阳娜娜", "码7Q", lines=(PickupLine("黑松露巧克力", 4, "盒"),)),
            _row("7", "809", "Zoë 🍓 Ng", "Q9Z9", phone="139 0000 0009", picked_up=True),
        ),
        labels,
    )
    kept = [render_pdf(pl, created_at=FIXED) for pl in (first, second, first)]
    assert pdf_module._parsed, "the fonts were not kept"

    monkeypatch.setattr(pdf_module, "_add_font", _by_add_font)
    fresh = [render_pdf(pl, created_at=FIXED) for pl in (first, second)]

    assert kept[0] == fresh[0]
    assert kept[1] == fresh[1]
    assert kept[2] == kept[0]  # the second document left nothing behind in the kept fonts


# --- the common cut of the CJK font (messages/fonts/common.py) ---------------------------------


def _subset_file(path: Any, glyphs: list[str]) -> bytes:
    """The font subset fpdf2 embeds, made from `path` as fpdf/output.py makes it."""
    font = ttLib.TTFont(path, recalcTimestamp=False, lazy=True)
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True)
    options.drop_tables += ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta"]
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(glyphs=glyphs)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def test_the_common_font_is_what_its_script_makes(tmp_path: Path) -> None:
    made = tmp_path / "common.ttf"
    common.make(CJK_SANS, made)
    assert made.read_bytes() == CJK_SANS_COMMON.read_bytes()


def test_any_subset_of_the_common_font_is_byte_for_byte_the_full_fonts() -> None:
    # Every glyph at once: a glyph that differed in any way (outline, metrics, name, order,
    # the characters mapped to it) would show in the bytes.
    glyphs = ttLib.TTFont(CJK_SANS_COMMON, lazy=True).getGlyphOrder()
    assert len(glyphs) > 14_000
    assert _subset_file(CJK_SANS_COMMON, glyphs) == _subset_file(CJK_SANS, glyphs)


def test_the_common_font_has_gb2312_and_not_the_rarer_ideographs() -> None:
    cmap = ttLib.TTFont(CJK_SANS_COMMON, lazy=True).getBestCmap()
    assert all(ord(ch) in cmap for ch in common.gb2312())
    assert all(ord(ch) in cmap for ch in "Zoë Ng, ¥12.00 … 「」（）：")
    assert not any(ord(ch) in cmap for ch in "玥喆堃")  # GBK, not GB 2312: the full font


def _fonts_subset(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The file each document's CJK font subset is made from, as documents are written."""
    files: list[str] = []
    real = pdf_module._from_common

    def spied(font: Any) -> None:
        real(font)
        files.append(Path(font.ttfont.reader.file.name).name)

    monkeypatch.setattr(pdf_module, "_from_common", spied)
    return files


@pytest.mark.parametrize("labels", [LABELS_ZH, LABELS_EN], ids=["zh", "en"])
def test_a_list_is_the_same_pdf_whichever_file_its_font_subset_is_made_from(
    labels: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pl = _list(ROWS, labels)
    files = _fonts_subset(monkeypatch)
    from_common = render_pdf(pl, created_at=FIXED)
    assert files == [CJK_SANS_COMMON.name]

    monkeypatch.setattr(pdf_module, "_from_common", lambda font: None)
    assert render_pdf(pl, created_at=FIXED) == from_common


def test_a_name_outside_gb2312_is_printed_from_the_full_font(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pl = _list((*ROWS, _row("7", "808", "王玥", "Q7Q7")), LABELS_ZH)
    files = _fonts_subset(monkeypatch)
    data = render_pdf(pl, created_at=FIXED)
    assert files == [CJK_SANS.name]
    assert "王玥" in "".join(_pages_text(data))
    # and the next document, all within GB 2312, is made from the common file again
    render_pdf(_list(ROWS, LABELS_ZH), created_at=FIXED)
    assert files == [CJK_SANS.name, CJK_SANS_COMMON.name]
