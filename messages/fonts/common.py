"""Make `CJK_SANS_COMMON`: the CJK font cut down to what nearly every pickup list needs.

    .venv/bin/python -m messages.fonts.common      # writes messages/fonts/<CJK_SANS_COMMON>

Why: writing a PDF embeds the subset of the font that the document used, and fontTools makes
that subset by first reading the whole font file: the glyph table, metrics and names of all
~49,500 glyphs, 0.2–0.4 s a document whatever its size, most of a small list's time. Made from
this file, with ~14,600 glyphs, the same subset costs a few hundredths of a second
(`messages.pickup_list.pdf` uses it when every glyph a document needs is here).

What it keeps: every character of the full font outside the CJK ideograph and Hangul blocks
(Latin, Greek, Cyrillic, punctuation, symbols, kana, full-width forms), and the 6,763
ideographs of GB 2312, the set that covers everyday Simplified Chinese, and all glyphs these
reach. It is made by glyphs (not by characters), keeping names, hinting and layout, so that a
subset made from it is byte for byte the subset made from the full font
(tests/unit/test_pdf_fonts.py checks it for every glyph here).
"""

from __future__ import annotations

from pathlib import Path

from fontTools import subset, ttLib  # type: ignore[import-untyped]

from messages.fonts import CJK_SANS, CJK_SANS_COMMON


def gb2312() -> set[str]:
    """The characters of GB 2312 (rows 0xA1–0xF7, cells 0xA1–0xFE), from Python's codec."""
    out: set[str] = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                out.add(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # an unassigned code
    return out


def _ideograph(code: int) -> bool:
    return (
        0x3400 <= code <= 0x4DBF  # CJK Unified Ideographs Extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK Unified Ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF  # CJK compatibility ideographs
        or code > 0xFFFF  # the supplementary planes (extensions B and later)
    )


def make(full: Path = CJK_SANS, out: Path = CJK_SANS_COMMON) -> int:
    """Write the common subset of `full` to `out`; the number of glyphs kept."""
    font = ttLib.TTFont(full, recalcTimestamp=False)
    cmap = font.getBestCmap()
    wanted = {code for code in cmap if not _ideograph(code)}
    wanted |= {ord(ch) for ch in gb2312()}
    glyphs = sorted({cmap[code] for code in wanted if code in cmap})
    options = subset.Options()
    # Keep everything a later subset could look at, so that it comes out the same.
    options.glyph_names = True
    options.notdef_glyph = True
    options.notdef_outline = True
    options.recommended_glyphs = True
    options.hinting = True
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.name_legacy = True
    options.legacy_kern = True
    options.legacy_cmap = True
    options.symbol_cmap = True
    options.drop_tables = []
    options.passthrough_tables = True
    options.prune_unicode_ranges = False
    options.prune_codepage_ranges = False
    options.recalc_bounds = False
    options.recalc_timestamp = False
    options.canonical_order = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(glyphs=glyphs)
    subsetter.subset(font)
    font.save(out)
    return len(font.getGlyphOrder())


if __name__ == "__main__":
    kept = make()
    print(f"{CJK_SANS_COMMON.name}: {kept} glyphs, {CJK_SANS_COMMON.stat().st_size:,} bytes")
