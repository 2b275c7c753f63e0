"""The printable pickup list (提货单) as an A4 PDF, rendered with fpdf2.

Layout is done in three passes so that every page knows the total page count
and no text ever overflows its column:

1. *measure*: every order is laid out once (wrapping/truncation with our own
   width table, cached per string) into a ``_RowLayout`` with a fixed height;
2. *paginate*: blocks (building headings, rows, totals) are placed on pages,
   repeating the table header (and the current building heading) on each page;
3. *draw*: pages are drawn with ``FPDF.text``/``rect``/``line`` only (no
   ``multi_cell``), which keeps 10,000 orders well under a second or two.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fontTools import ttLib  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

from messages.fonts import CJK_SANS, CJK_SANS_COMMON, MONO_ASCII

from .model import ItemTotal, PickupLine, PickupList, PickupRow
from .sorting import group_by_building

__all__ = ["render_pdf"]

# --- geometry (mm, A4 portrait) ---------------------------------------------
PAGE_W = 210.0
PAGE_H = 297.0
MARGIN_X = 10.0
MARGIN_TOP = 9.0
BODY_BOTTOM = PAGE_H - 13.0
FOOTER_BASELINE = PAGE_H - 7.0
CONTENT_W = PAGE_W - 2 * MARGIN_X
PT = 25.4 / 72.0  # mm per point

SANS = "gb-sans"
MONO = "gb-mono"

# font sizes (pt)
TEXT_PT = 9.0
SMALL_PT = 7.5
HEAD_PT = 8.0
CODE_PT = 15.0
CODE_MIN_PT = 9.0
COLLECT_PT = 10.5  # cash to take at the table: the most visible thing on its line
COLLECT_LINE_H = 4.4
HEAD_LINE_H = 3.1
TITLE_PT = 14.0
BUILDING_PT = 10.5

LINE_H = 4.0  # one 9 pt text line
SMALL_LINE_H = 3.4
PAD = 1.5
TABLE_HEAD_H = 8.5  # room for a heading in two lines ("Picked / up") rather than cut
BUILDING_H = 7.5
TOTALS_ROW_H = 6.0
BOX = 5.0  # tick box side
MAX_ITEM_LINES = 40  # a single order never needs more than ~2/3 of a page
MAX_NAME_LINES = 2
MAX_ITEM_NAME_LINES = 2
MAX_PAYMENT_LINES = 2

ELLIPSIS = "…"
MISSING = "□"

GRAY_TEXT = 90
RULE_GRAY = 190
BAND_GRAY = 228
HEAD_GRAY = 210
ZEBRA_GRAY = 246


@dataclass(frozen=True, slots=True)
class _Col:
    key: str
    width: float
    align: str  # "L" | "R" | "C"


_ORDER_COLS: tuple[_Col, ...] = (
    _Col("unit", 12.0, "L"),
    _Col("room", 14.0, "L"),
    _Col("name", 32.0, "L"),
    _Col("items", 53.0, "L"),
    _Col("amount", 18.0, "R"),
    _Col("code", 23.0, "L"),
    _Col("payment", 25.0, "L"),  # "Collect ¥128.50" large enough to read at arm's length
    _Col("picked", 13.0, "C"),
)
assert abs(sum(c.width for c in _ORDER_COLS) - CONTENT_W) < 1e-6


def _col_x() -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    x = MARGIN_X
    for c in _ORDER_COLS:
        out[c.key] = (x, c.width)
        x += c.width
    return out


COLS = _col_x()
CELL_PAD = 1.0  # horizontal padding inside a column

_TOTALS_COLS = ((MARGIN_X, 120.0), (MARGIN_X + 120.0, 35.0), (MARGIN_X + 155.0, 35.0))


# --- fonts -----------------------------------------------------------------
_parsed: dict[Path, TTFFont] = {}  # font file -> its TTFFont as parsed, used in no document


def _add_font(pdf: FPDF, family: str, path: Path) -> None:
    """``pdf.add_font(family, fname=path)``, with the font read once per process.

    fpdf2 reads the whole font at every ``add_font``: the width and glyph id of each of the
    CJK font's ~30,000 characters, 0.2–0.4 s a document, a third of a 1,000-order list. What
    it reads never changes, so it is kept (`_parsed`); each document gets a copy of it with
    what is the document's own made afresh, as ``TTFFont.__init__`` makes them: its number
    among the document's fonts, the glyphs it used (``SubsetMap``), and its own fontTools
    font (opened lazily, ~0.1 ms), because writing the document subsets that one in place.
    These are fpdf2 internals (pinned <2.9 in pyproject.toml):
    tests/unit/test_pdf_fonts.py checks that a document so made is byte for byte the one
    ``add_font`` makes."""
    parsed = _parsed.get(path)
    if parsed is None:
        scratch = FPDF()
        scratch.add_font(family, fname=str(path))
        made = scratch.fonts[family.lower()]
        assert isinstance(made, TTFFont)
        parsed = _parsed[path] = made
    font = copy.copy(parsed)
    font.i = len(pdf.fonts) + 1
    font.fontkey = family.lower()
    font.ttfont = ttLib.TTFont(
        font.ttffile, recalcTimestamp=False, fontNumber=font.collection_font_number, lazy=True
    )
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.subset = SubsetMap(font)
    pdf.fonts[font.fontkey] = font


_common: frozenset[str] = frozenset()  # the glyph names of CJK_SANS_COMMON, once read


def _from_common(font: TTFFont) -> None:
    """Have the font subset that the document embeds made from `CJK_SANS_COMMON` when that
    file has every glyph the document used: fontTools reads the whole file it subsets, and
    the common one is a third of the full font, a tenth of the time (messages.fonts.common),
    for the same bytes. Widths and glyph names came from the full font while drawing; the
    common one has the very same glyphs under the same names."""
    global _common
    if not _common:
        _common = frozenset(ttLib.TTFont(CJK_SANS_COMMON, lazy=True).getGlyphOrder())
    if _common.issuperset(font.subset.get_all_glyph_names()):
        font.ttfont = ttLib.TTFont(
            CJK_SANS_COMMON,
            recalcTimestamp=False,
            fontNumber=font.collection_font_number,
            lazy=True,
        )


# --- text measurement -------------------------------------------------------
class _Metrics:
    """Glyph widths of one font, with a per-string cache (names/items repeat a lot)."""

    def __init__(self, font: Any) -> None:
        self._cw: Any = font.cw  # 1/1000 em per code point (defaultdict)
        self._cmap: dict[int, str] = font.cmap
        self._units: dict[str, float] = {}
        self._clean: dict[str, str] = {}

    def has(self, ch: str) -> bool:
        return ord(ch) in self._cmap

    def clean(self, text: str) -> str:
        """Drop what cannot be printed (emoji, controls); mark unknown letters with □."""
        cached = self._clean.get(text)
        if cached is not None:
            return cached
        out: list[str] = []
        for ch in text:
            if ch in "\r\n\t":
                out.append(" ")
            elif ord(ch) in self._cmap:
                out.append(ch)
            else:
                cat = unicodedata.category(ch)
                if cat[0] in "LN":
                    out.append(MISSING)
                elif cat == "Zs":
                    out.append(" ")
                # emoji (So), variation selectors/ZWJ (Mn/Cf), surrogates: dropped
        result = " ".join("".join(out).split()) if out else ""
        self._clean[text] = result
        return result

    def units(self, text: str) -> float:
        u = self._units.get(text)
        if u is None:
            cw = self._cw
            u = float(sum(cw[ord(c)] for c in text))
            self._units[text] = u
        return u

    def width(self, text: str, size_pt: float) -> float:
        return self.units(text) * size_pt * PT / 1000.0

    def fit(self, text: str, width: float, size_pt: float) -> str:
        """``text`` if it fits in ``width`` mm, else truncated with an ellipsis."""
        if self.width(text, size_pt) <= width:
            return text
        limit = width * 1000.0 / (size_pt * PT) - self._cw[ord(ELLIPSIS)]
        cw = self._cw
        acc = 0.0
        for i, ch in enumerate(text):
            acc += cw[ord(ch)]
            if acc > limit:
                return text[:i].rstrip() + ELLIPSIS
        return text  # pragma: no cover - rounding only

    def wrap(self, text: str, width: float, size_pt: float, max_lines: int) -> list[str]:
        """Greedy wrap: break at spaces when possible, anywhere inside CJK/long words.

        The last allowed line is truncated with an ellipsis.
        """
        if not text:
            return [""]
        if self.width(text, size_pt) <= width:
            return [text]
        limit = width * 1000.0 / (size_pt * PT)
        cw = self._cw
        lines: list[str] = []
        rest = text
        while rest and len(lines) < max_lines - 1:
            acc = 0.0
            cut = len(rest)
            last_space = -1
            for i, ch in enumerate(rest):
                if ch == " ":
                    last_space = i
                acc += cw[ord(ch)]
                if acc > limit:
                    cut = i
                    break
            if cut == len(rest):
                lines.append(rest)
                return lines
            if last_space > 0 and not _is_cjk(rest[cut]):
                cut = last_space
            cut = max(cut, 1)
            lines.append(rest[:cut].rstrip())
            rest = rest[cut:].lstrip()
        if rest:
            lines.append(self.fit(rest, width, size_pt))
        return lines


def _is_cjk(ch: str) -> bool:
    return ord(ch) >= 0x2E80


# --- layout -----------------------------------------------------------------
@dataclass(slots=True)
class _RowLayout:
    unit: str
    room: str
    name_lines: list[str]
    phone: str
    item_lines: list[tuple[str, str]]  # (item text, "×2 瓶" or "" for a continuation line)
    amount: str
    code: str
    code_mono: bool
    code_pt: float
    payment_lines: list[str]
    collect: bool
    picked: bool
    height: float


class _Layout:
    """Lays out orders. Names, item lines and payment states repeat across a list (a
    neighbour's name in every deal, the same item and quantity in hundreds of orders), so
    each is wrapped once per document."""

    def __init__(self, sans: _Metrics, mono: _Metrics) -> None:
        self.sans = sans
        self.mono = mono
        self._names: dict[str, list[str]] = {}
        self._items: dict[PickupLine, list[tuple[str, str]]] = {}
        self._payments: dict[tuple[str, bool], list[str]] = {}
        self._cells: dict[tuple[str, str], str] = {}

    def inner(self, key: str) -> float:
        return COLS[key][1] - 2 * CELL_PAD

    def cell(self, key: str, text: str) -> str:
        """`text` as printed on one line of column `key` (TEXT_PT): cleaned, and cut to fit."""
        printed = self._cells.get((key, text))
        if printed is None:
            s = self.sans
            printed = self._cells[(key, text)] = s.fit(s.clean(text), self.inner(key), TEXT_PT)
        return printed

    def item_lines(self, line: PickupLine) -> list[tuple[str, str]]:
        """An order line as printed: (item text, "×2 瓶") and its continuation lines."""
        cached = self._items.get(line)
        if cached is not None:
            return cached
        s = self.sans
        items_w = self.inner("items")
        qty = f"×{line.quantity}"
        unit = s.clean(line.unit)
        if unit:
            qty = f"{qty} {unit}"
        qty = s.fit(qty, items_w * 0.45, TEXT_PT)
        name_w = items_w - s.width(qty, TEXT_PT) - 1.5
        parts = s.wrap(s.clean(line.item), name_w, TEXT_PT, MAX_ITEM_NAME_LINES)
        out = [(parts[0], qty), *((p, "") for p in parts[1:])]
        self._items[line] = out
        return out

    def row(self, r: PickupRow) -> _RowLayout:
        s = self.sans
        name_lines = self._names.get(r.name)
        if name_lines is None:
            name_lines = s.wrap(s.clean(r.name), self.inner("name"), TEXT_PT, MAX_NAME_LINES)
            self._names[r.name] = name_lines
        phone = s.fit(s.clean(r.phone), self.inner("name"), SMALL_PT) if r.phone else ""

        if len(r.lines) == 1:
            item_lines = self.item_lines(r.lines[0])
        else:
            item_lines = [part for line in r.lines for part in self.item_lines(line)]
        if len(item_lines) > MAX_ITEM_LINES:
            hidden = len(item_lines) - (MAX_ITEM_LINES - 1)
            item_lines = [*item_lines[: MAX_ITEM_LINES - 1], (f"{ELLIPSIS} (+{hidden})", "")]

        amount = self.cell("amount", r.amount)

        code_w = self.inner("code")
        code = r.code.strip()
        code_mono = bool(code) and all(self.mono.has(c) for c in code)
        m = self.mono if code_mono else s
        if not code_mono:
            code = s.clean(code)
        code_pt = CODE_PT
        w = m.width(code, code_pt)
        if w > code_w:
            code_pt = max(CODE_MIN_PT, code_pt * code_w / w)
            code = m.fit(code, code_w, code_pt)

        payment_lines = self._payments.get((r.payment, r.collect))
        if payment_lines is None:
            pay_pt = COLLECT_PT if r.collect else SMALL_PT
            payment_lines = s.wrap(
                s.clean(r.payment), self.inner("payment"), pay_pt, MAX_PAYMENT_LINES
            )
            self._payments[(r.payment, r.collect)] = payment_lines

        name_h = len(name_lines) * LINE_H + (SMALL_LINE_H if phone else 0.0)
        items_h = max(1, len(item_lines)) * LINE_H
        code_h = code_pt * PT * 1.15
        pay_h = len(payment_lines) * (COLLECT_LINE_H if r.collect else SMALL_LINE_H)
        height = 2 * PAD + max(name_h, items_h, code_h, pay_h, BOX + 0.5)

        return _RowLayout(
            unit=self.cell("unit", r.unit),
            room=self.cell("room", r.room),
            name_lines=name_lines,
            phone=phone,
            item_lines=item_lines,
            amount=amount,
            code=code,
            code_mono=code_mono,
            code_pt=code_pt,
            payment_lines=payment_lines,
            collect=r.collect,
            picked=r.picked_up,
            height=height,
        )


# --- pagination -------------------------------------------------------------
Draw = Callable[[float], None]


class _Flow:
    """Places fixed-height blocks on pages; replays ``repeat`` blocks after each break."""

    def __init__(self, top: float) -> None:
        self.top = top
        self.pages: list[list[tuple[float, Draw]]] = [[]]
        self.y = top
        self.repeat: list[tuple[float, Draw]] = []

    def new_page(self) -> None:
        self.pages.append([])
        self.y = self.top
        for h, draw in self.repeat:
            self._put(h, draw)

    def _put(self, h: float, draw: Draw) -> None:
        self.pages[-1].append((self.y, draw))
        self.y += h

    def ensure(self, h: float) -> None:
        if self.y + h > BODY_BOTTOM and self.pages[-1]:
            self.new_page()

    def add(self, h: float, draw: Draw) -> None:
        self.ensure(h)
        self._put(h, draw)


# --- fast text output -------------------------------------------------------
K = 72.0 / 25.4  # points per mm


class _Fragments:
    """Text as pieces of a page's content stream, each whole (font, colour, position within
    its row, glyphs), made once per document for each place in a row and string.

    ``FPDF.text`` costs ~6 µs of bookkeeping per call and emits one text object per string;
    a 10,000-order list has >100,000 strings, most of them repeated (rooms, names, items,
    amounts and payment states; only codes and phones are each order's own). A row is drawn
    translated to its top (``_Renderer.order_row``), so a string in the same place of any
    row is the same piece, looked up rather than made again. Each string is encoded by
    fpdf2's own ``TTFFont.encode_text``, which records its glyphs for the font subset. The
    row wraps its pieces in ``q … Q``, which restores the graphics state, so fpdf2's view of
    colours and fonts stays true. The fonts are registered on each page by
    ``_Renderer.register_fonts`` (through ``FPDF.text``).
    """

    __slots__ = ("_boxes", "_fonts", "_made", "_metrics")

    def __init__(self, sans: Any, mono: Any, sans_metrics: _Metrics, mono_metrics: _Metrics):
        self._fonts = (sans, mono)
        self._metrics = (sans_metrics, mono_metrics)
        self._made: dict[tuple[Any, ...], str] = {}
        self._boxes: dict[tuple[float, bool, bool], tuple[str, str]] = {}

    def at(
        self,
        key: str,
        dy: float,
        s: str,
        size: float,
        *,
        align: str = "L",
        indent: float = 0.0,
        gray: int = 0,
        mono: bool = False,
        bold: bool = False,
    ) -> str:
        """`s` in column `key`, its baseline `dy` mm below the row's top; "" for no text.
        `bold`: faux bold (fill and a thin stroke), the bundled font having a single
        weight."""
        if not s:
            return ""
        place = (key, dy, s, size, align, indent, gray, mono, bold)
        made = self._made.get(place)
        if made is not None:
            return made
        x, w = COLS[key]
        if align == "R":
            x = x + w - CELL_PAD - self._metrics[mono].width(s, size)
        elif align == "C":
            x = x + (w - self._metrics[mono].width(s, size)) / 2
        else:
            x += CELL_PAD + indent
        made = self._made[place] = self.text(x, dy, s, size, gray=gray, mono=mono, bold=bold)
        return made

    def text(
        self,
        x: float,
        dy: float,
        s: str,
        size: float,
        *,
        gray: int = 0,
        mono: bool = False,
        bold: bool = False,
    ) -> str:
        """`s` from `x` mm off the page's left edge, its baseline `dy` mm below the origin;
        "" for no text."""
        if not s:
            return ""
        place = (x, dy, s, size, gray, mono, bold)
        made = self._made.get(place)
        if made is not None:
            return made
        font = self._fonts[mono]
        ink = f"{gray / 255:.3f}"
        stroke = f" 2 Tr {0.18 * K:.2f} w {ink} G" if bold else ""
        glyphs: str = font.encode_text(s)
        made = (
            f"/F{font.i} {size:.2f} Tf {ink} g{stroke} 1 0 0 1 {x * K:.2f} {-dy * K:.2f} Tm "
            f"{glyphs}{' 0 Tr' if bold else ''}"
        )
        self._made[place] = made
        return made

    def box(self, height: float, picked: bool, zebra: bool) -> tuple[str, str]:
        """What a row of `height` mm draws under its text (its zebra band) and over it (the
        tick box, ticked or not, and the rule under the row)."""
        place = (height, picked, zebra)
        made = self._boxes.get(place)
        if made is None:
            under = _band(0.0, height, ZEBRA_GRAY) if zebra else ""
            px, pw = COLS["picked"]
            bx = (px + (pw - BOX) / 2) * K
            over = f"0 G {0.3 * K:.2f} w {bx:.2f} {-PAD * K:.2f} {BOX * K:.2f} {-BOX * K:.2f} re S"
            if picked:
                over += (
                    f" {0.55 * K:.2f} w {bx + 0.9 * K:.2f} {-(PAD + 2.6) * K:.2f} m "
                    f"{bx + 2.1 * K:.2f} {-(PAD + 3.9) * K:.2f} l "
                    f"{bx + 4.2 * K:.2f} {-(PAD + 1.0) * K:.2f} l S"
                )
            made = self._boxes[place] = (under, f"{over} {_rule(height, RULE_GRAY, 0.15)}")
        return made


def _moved(y: float, ops: str) -> str:
    """`ops` drawn with their origin `y` mm below the page's top, in their own graphics
    state."""
    return f"q 1 0 0 1 0 {(PAGE_H - y) * K:.2f} cm {ops} Q"


def _band(dy: float, h: float, level: int) -> str:
    """A filled band across the page, `dy` mm below the origin, `h` mm high."""
    return (
        f"{level / 255:.3f} g {MARGIN_X * K:.2f} {-dy * K:.2f} {CONTENT_W * K:.2f} "
        f"{-h * K:.2f} re f"
    )


def _rule(dy: float, level: int, width: float) -> str:
    """A line across the page, `dy` mm below the origin."""
    y = -dy * K
    return (
        f"{level / 255:.3f} G {width * K:.2f} w {MARGIN_X * K:.2f} {y:.2f} m "
        f"{(MARGIN_X + CONTENT_W) * K:.2f} {y:.2f} l S"
    )


# --- drawing ----------------------------------------------------------------
class _Renderer:
    def __init__(self, pl: PickupList, created_at: datetime | None) -> None:
        self.pl = pl
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.alias_nb_pages("")  # disabled: we know the page count; never rewrite user text
        pdf.set_margins(MARGIN_X, MARGIN_TOP, MARGIN_X)
        _add_font(pdf, SANS, CJK_SANS)
        _add_font(pdf, MONO, MONO_ASCII)
        pdf.set_title(_plain(f"{pl.labels.title} - {pl.deal_title}"))
        pdf.set_creator("GroupBuy")
        pdf.set_producer("GroupBuy / fpdf2")
        pdf.set_lang("zh-CN" if _has_cjk(pl.labels.title) else "en")
        if created_at is not None:
            pdf.set_creation_date(created_at)
        self.pdf = pdf
        self.sans_font: Any = pdf.fonts[SANS]
        self.mono_font: Any = pdf.fonts[MONO]
        self.sans = _Metrics(self.sans_font)
        self.mono = _Metrics(self.mono_font)
        self.pieces = _Fragments(self.sans_font, self.mono_font, self.sans, self.mono)
        self._head: str | None = None  # page_header, made once
        self._table_head: str | None = None  # orders_table_header, made once
        self.layout = _Layout(self.sans, self.mono)
        self.header_lines = self._header_lines()
        # title + info lines + rule
        self.body_top = MARGIN_TOP + 7.0 + 4.2 * len(self.header_lines) + 2.5

    # page furniture ----------------------------------------------------------
    def _header_lines(self) -> list[str]:
        pl, s = self.pl, self.sans
        place = _prefixed(pl.labels.place, pl.pickup_place)
        window = _prefixed(pl.labels.window, pl.pickup_window)
        parts = [s.clean(p) for p in (pl.community, place, window) if p.strip()]
        one = "  ·  ".join(parts)
        if s.width(one, TEXT_PT) <= CONTENT_W or len(parts) < 2:
            return [s.fit(one, CONTENT_W, TEXT_PT)] if one else []
        first = "  ·  ".join(parts[:-1])
        return [s.fit(first, CONTENT_W, TEXT_PT), s.fit(parts[-1], CONTENT_W, TEXT_PT)]

    def page_header(self) -> None:
        """The deal, the list's title and where and when, the same on every page: made once."""
        if self._head is None:
            s, lb, t = self.sans, self.pl.labels, self.pieces.text
            title = s.clean(lb.title)
            tw = s.width(title, 12.0)
            deal = s.fit(s.clean(self.pl.deal_title), CONTENT_W - tw - 6.0, TITLE_PT)
            ops = ["BT", t(MARGIN_X + CONTENT_W - tw, MARGIN_TOP + 5.5, title, 12.0)]
            ops.append(t(MARGIN_X, MARGIN_TOP + 5.5, deal, TITLE_PT, bold=True))
            y = MARGIN_TOP + 7.0 + 3.6
            for line in self.header_lines:
                ops.append(t(MARGIN_X, y, line, TEXT_PT, gray=40))
                y += 4.2
            ops += ["ET", _rule(self.body_top - 1.2, 60, 0.4)]
            self._head = _moved(0.0, " ".join(ops))
        self.pdf._out(self._head)

    def register_fonts(self) -> None:
        """Make both fonts part of the current page's resources (see ``_Fragments``)."""
        for family in (MONO, SANS):
            self.pdf.set_font(family, size=TEXT_PT)
            self.pdf.text(MARGIN_X, MARGIN_TOP, "")

    def page_footer(self, page: int, pages: int) -> None:
        s, lb, t = self.sans, self.pl.labels, self.pieces.text
        label = s.clean(_format(lb.page, page=page, pages=pages))
        lw = s.width(label, SMALL_PT)
        gen = s.fit(s.clean(lb.generated_at), CONTENT_W - lw - 8.0, SMALL_PT)
        ops = [_rule(FOOTER_BASELINE - 3.5, RULE_GRAY, 0.15), "BT"]
        ops.append(t(MARGIN_X + CONTENT_W - lw, FOOTER_BASELINE, label, SMALL_PT, gray=GRAY_TEXT))
        ops.append(t(MARGIN_X, FOOTER_BASELINE, gen, SMALL_PT, gray=GRAY_TEXT))
        ops.append("ET")
        self.pdf._out(_moved(0.0, " ".join(ops)))

    # blocks ------------------------------------------------------------------
    def orders_table_header(self, y: float) -> None:
        """The columns' headings, the same on every page: made once."""
        if self._table_head is None:
            lb, s = self.pl.labels, self.sans
            texts = {
                "unit": lb.unit,
                "room": lb.room,
                "name": lb.name,
                "items": lb.items,
                "amount": lb.amount,
                "code": lb.code,
                "payment": lb.payment,
                "picked": lb.picked,
            }
            ops = [_band(0.0, TABLE_HEAD_H, HEAD_GRAY), "BT"]
            for col in _ORDER_COLS:
                text = s.clean(texts[col.key])
                inner = col.width - 2 * CELL_PAD
                # A heading wider than its column goes on two lines, never cut: a leader must
                # know which column is which.
                lines = s.wrap(text, inner, HEAD_PT, 2)
                size = HEAD_PT
                if len(lines) == 2 and any(ELLIPSIS in line for line in lines):
                    size = max(6.0, HEAD_PT * inner / max(s.width(x, HEAD_PT) for x in lines))
                    lines = s.wrap(text, inner, size, 2)
                base = TABLE_HEAD_H - 1.8 - (len(lines) - 1) * HEAD_LINE_H
                for n, line in enumerate(lines):
                    ops.append(
                        self.pieces.at(col.key, base + n * HEAD_LINE_H, line, size, align=col.align)
                    )
            ops.append("ET")
            self._table_head = " ".join(ops)
        self.pdf._out(_moved(y, self._table_head))

    def building_heading(self, y: float, text: str) -> None:
        heading = self.pieces.text(
            MARGIN_X + CELL_PAD + 0.5, BUILDING_H - 2.4, text, BUILDING_PT, bold=True
        )
        self.pdf._out(_moved(y, f"{_band(1.0, BUILDING_H - 1.5, BAND_GRAY)} BT {heading} ET"))

    def order_row(self, y: float, r: _RowLayout, zebra: bool) -> None:
        """One order as one ``q … Q`` chunk of the page's content, drawn translated to the
        row's top (so that its pieces are the same in every row: ``_Fragments``): its zebra
        band, its text, its tick box and the rule under it, written directly (fpdf2's
        ``rect``/``line`` and colour setters are ~10 µs each, 40,000 a list)."""
        at = self.pieces.at
        under, over = self.pieces.box(r.height, r.picked, zebra)
        base = PAD + TEXT_PT * PT * 0.85
        ops = [under, "BT"]
        ops.append(at("unit", base, r.unit, TEXT_PT))
        ops.append(at("room", base, r.room, TEXT_PT))
        b = base
        for line in r.name_lines:
            ops.append(at("name", b, line, TEXT_PT))
            b += LINE_H
        b = base
        for item, qty in r.item_lines:
            if qty:
                ops.append(at("items", b, qty, TEXT_PT, align="R"))
                ops.append(at("items", b, item, TEXT_PT))
            else:
                ops.append(at("items", b, item, TEXT_PT, indent=2.0))
            b += LINE_H
        ops.append(at("amount", base, r.amount, TEXT_PT, align="R"))
        if r.phone:
            b = base + (len(r.name_lines) - 1) * LINE_H + SMALL_LINE_H
            ops.append(at("name", b, r.phone, SMALL_PT, gray=GRAY_TEXT))
        # Cash to take at the table: large, black and bold; any other state small and grey.
        pay_pt, pay_gray = (COLLECT_PT, 0) if r.collect else (SMALL_PT, GRAY_TEXT)
        b = PAD + pay_pt * PT * 0.9
        for line in r.payment_lines:
            ops.append(at("payment", b, line, pay_pt, gray=pay_gray, bold=r.collect))
            b += COLLECT_LINE_H if r.collect else SMALL_LINE_H
        code_base = PAD + r.code_pt * PT * 0.82
        ops.append(at("code", code_base, r.code, r.code_pt, mono=r.code_mono))
        ops.append("ET")
        ops.append(over)
        self.pdf._out(_moved(y, " ".join(ops)))

    def message(self, y: float, text: str) -> None:
        line = self.pieces.text(
            MARGIN_X + CELL_PAD, 7.0, self.sans.fit(text, CONTENT_W, 11.0), 11.0, gray=GRAY_TEXT
        )
        self.pdf._out(_moved(y, f"BT {line} ET"))

    def totals_table_header(self, y: float) -> None:
        lb, s = self.pl.labels, self.sans
        ops = [_band(0.0, TABLE_HEAD_H, HEAD_GRAY), "BT"]
        for (x, w), text, align in zip(
            _TOTALS_COLS, (lb.items, lb.quantity, lb.measure), "LRL", strict=True
        ):
            t = s.fit(s.clean(text), w - 2 * CELL_PAD, HEAD_PT)
            tx = x + w - CELL_PAD - s.width(t, HEAD_PT) if align == "R" else x + CELL_PAD
            ops.append(self.pieces.text(tx, TABLE_HEAD_H - 1.8, t, HEAD_PT))
        ops.append("ET")
        self.pdf._out(_moved(y, " ".join(ops)))

    def totals_row(self, y: float, t: ItemTotal) -> None:
        s, text = self.sans, self.pieces.text
        base = TOTALS_ROW_H - 1.8
        (x0, w0), (x1, w1), (x2, w2) = _TOTALS_COLS
        qty = str(t.quantity)
        ops = [
            "BT",
            text(x0 + CELL_PAD, base, s.fit(s.clean(t.item), w0 - 2 * CELL_PAD, 10.0), 10.0),
            text(x1 + w1 - CELL_PAD - s.width(qty, 10.0), base, qty, 10.0, bold=True),
            text(x2 + CELL_PAD, base, s.fit(s.clean(t.unit), w2 - 2 * CELL_PAD, 10.0), 10.0),
            "ET",
            _rule(TOTALS_ROW_H, RULE_GRAY, 0.15),
        ]
        self.pdf._out(_moved(y, " ".join(ops)))

    # document ----------------------------------------------------------------
    def build(self) -> bytes:
        pl, lb, s = self.pl, self.pl.labels, self.sans
        flow = _Flow(self.body_top)
        groups = group_by_building(pl.rows)

        if groups:
            header = (TABLE_HEAD_H, self.orders_table_header)
            flow.repeat = [header]
            flow.add(*header)
        for building, rows in groups:
            heading = s.fit(
                s.clean(_format(lb.building_heading, building=building, count=len(rows))),
                CONTENT_W - 4.0,
                BUILDING_PT,
            )
            draw_heading = _bind_str(self.building_heading, heading)
            layouts = [self.layout.row(r) for r in rows]
            # keep the heading with the first order of the building
            flow.ensure(BUILDING_H + layouts[0].height)
            flow.add(BUILDING_H, draw_heading)
            flow.repeat = [header, (BUILDING_H, draw_heading)]
            for i, lay in enumerate(layouts):
                flow.add(lay.height, _bind_row(self.order_row, lay, i % 2 == 1))
            flow.repeat = [header]

        flow.repeat = []
        if not groups:
            flow.add(12.0, _bind_str(self.message, s.clean(lb.empty)))
        if pl.totals:
            title = s.clean(lb.totals)
            first = TOTALS_ROW_H
            flow.ensure(BUILDING_H + 2.0 + TABLE_HEAD_H + first)
            flow.add(2.0, _noop)
            flow.add(BUILDING_H, _bind_str(self.building_heading, title))
            theader = (TABLE_HEAD_H, self.totals_table_header)
            flow.add(*theader)
            flow.repeat = [theader]
            for t in pl.totals:
                flow.add(TOTALS_ROW_H, _bind_total(self.totals_row, t))
            flow.repeat = []
        n = len(pl.rows)
        total_text = (
            _format(lb.total_orders, count=n)
            if "{count}" in lb.total_orders
            else f"{lb.total_orders}: {n}"
        )
        flow.add(
            BUILDING_H + 2.0,
            _bind_str(
                self.building_heading, s.fit(s.clean(total_text), CONTENT_W - 4, BUILDING_PT)
            ),
        )

        pages = len(flow.pages)
        pdf = self.pdf
        for page_no, blocks in enumerate(flow.pages, start=1):
            pdf.add_page()
            self.register_fonts()
            self.page_header()
            for y, draw in blocks:
                draw(y)
            self.page_footer(page_no, pages)
        _from_common(self.sans_font)
        return bytes(pdf.output())


def _noop(_y: float) -> None:
    return None


def _bind_str(fn: Callable[[float, str], None], text: str) -> Draw:
    return lambda y: fn(y, text)


def _bind_row(fn: Callable[[float, _RowLayout, bool], None], lay: _RowLayout, zebra: bool) -> Draw:
    return lambda y: fn(y, lay, zebra)


def _bind_total(fn: Callable[[float, ItemTotal], None], t: ItemTotal) -> Draw:
    return lambda y: fn(y, t)


def _prefixed(label: str, value: str) -> str:
    if not value.strip():
        return ""
    return f"{label}: {value}" if label.strip() else value


def _format(template: str, **values: object) -> str:
    """``str.format`` that tolerates unknown/missing placeholders in translations."""
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def _has_cjk(text: str) -> bool:
    return any(_is_cjk(c) for c in text)


def _plain(text: str) -> str:
    return " ".join(text.split())


def render_pdf(pl: PickupList, *, created_at: datetime | None = None) -> bytes:
    """Render the pickup list as an A4 PDF (bytes).

    ``created_at`` sets the PDF creation date; pass a fixed value for
    byte-for-byte reproducible output (tests), otherwise "now" is used.
    """
    return _Renderer(pl, created_at).build()
