"""Printable pickup list (提货单): PDF for printing, CSV and an Excel workbook for spreadsheets.

Framework-free: build a :class:`PickupList` from plain values (labels already
translated, amounts already formatted) and call :func:`render_pdf` or
:func:`render_csv` or :func:`render_xlsx`.
"""

from datetime import datetime

from .csv_export import format_lines, render_csv
from .model import ItemTotal, PickupLine, PickupList, PickupListLabels, PickupRow
from .sorting import compute_totals, natural_key, sort_rows


def render_pdf(pl: PickupList, *, created_at: datetime | None = None) -> bytes:
    """The printable list (see :mod:`.pdf`). fpdf2 and fontTools are imported on the first
    list, not when the bot starts: most of a bot's life needs no PDF."""
    from .pdf import render_pdf as render

    return render(pl, created_at=created_at)


def render_xlsx(pl: PickupList) -> bytes:
    """The workbook (see :mod:`.xlsx_export`); XlsxWriter imported on the first list."""
    from .xlsx_export import render_xlsx as render

    return render(pl)


__all__ = [
    "ItemTotal",
    "PickupLine",
    "PickupList",
    "PickupListLabels",
    "PickupRow",
    "compute_totals",
    "format_lines",
    "natural_key",
    "render_csv",
    "render_pdf",
    "render_xlsx",
    "sort_rows",
]
