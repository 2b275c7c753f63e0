"""The pickup list's fonts, read once per process (messages/pickup_list/pdf.py: _add_font).

They lean on fpdf2 internals (pinned <2.9): these tests fail loudly when an fpdf2 upgrade
changes what a document keeps of its own in a font, before a leader gets a broken PDF.
"""

from __future__ import annotations

from typing import Any

import pytest
from fpdf.fonts import TTFFont

from messages.pickup_list import PickupLine, render_pdf
from messages.pickup_list import pdf as pdf_module
from tests.unit.test_pickup_list import FIXED, LABELS_EN, LABELS_ZH, ROWS, _list, _row

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
