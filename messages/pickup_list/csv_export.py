"""The pickup list as CSV: one row per order, UTF-8 with BOM (opens in Excel)."""

from __future__ import annotations

import csv
import io
import re

from .model import PickupLine, PickupList, PickupRow
from .sorting import sort_rows

BOM = "\ufeff"

# Cells starting with these are treated as formulas by spreadsheet programs
# (CSV/formula injection); names and items are typed by residents.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_PHONE = re.compile(r"\+?[0-9][0-9 ()\-]*")


def _guard_phone(text: str) -> str:
    """Phone numbers like ``+86 138…`` stay verbatim; anything else is guarded."""
    return text if _PHONE.fullmatch(text) else _guard(text)


def _guard(text: str) -> str:
    if len(text) > 1 and text.startswith(_FORMULA_START):  # a lone '-' is no formula
        return "'" + text
    return text


def format_line(line: PickupLine) -> str:
    """``"Milk ×2"``; the unit of measure is not repeated here."""
    return f"{line.item} ×{line.quantity}"


def format_lines(lines: tuple[PickupLine, ...]) -> str:
    """``"Milk ×2; Eggs ×1"``."""
    return "; ".join(format_line(line) for line in lines)


def csv_header(pl: PickupList) -> list[str]:
    lb = pl.labels
    points = [lb.point] if pl.has_points else []
    return [
        lb.building,
        lb.unit,
        lb.room,
        lb.name,
        lb.phone,
        lb.items,
        lb.amount,
        lb.code,
        lb.payment,
        lb.picked,
        *points,
    ]


def csv_row(row: PickupRow, picked_mark: str, points: bool = False) -> list[str]:
    """`points`: the list has a pickup point column (`PickupList.has_points`)."""
    return [
        _guard(row.building),
        _guard(row.unit),
        _guard(row.room),
        _guard(row.name),
        _guard_phone(row.phone or ""),
        _guard(format_lines(row.lines)),
        row.amount,
        _guard(row.code),
        _guard(row.payment),
        picked_mark if row.picked_up else "",
        *([_guard(row.point)] if points else []),
    ]


def render_csv(pl: PickupList) -> bytes:
    """Header (from the labels) plus one row per order, sorted like the PDF.

    Encoded as UTF-8 with a BOM, ``\\r\\n`` line endings (RFC 4180), every field
    quoted only when needed. Totals are not included.
    """
    buf = io.StringIO()
    buf.write(BOM)
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(csv_header(pl))
    mark = pl.labels.picked_mark
    points = pl.has_points
    writer.writerows(csv_row(row, mark, points) for row in sort_rows(pl.rows))
    return buf.getvalue().encode("utf-8")
