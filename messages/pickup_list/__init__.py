"""Printable pickup list (提货单): PDF for printing and CSV for spreadsheets.

Framework-free: build a :class:`PickupList` from plain values (labels already
translated, amounts already formatted) and call :func:`render_pdf` or
:func:`render_csv`.
"""

from .csv_export import format_lines, render_csv
from .model import ItemTotal, PickupLine, PickupList, PickupListLabels, PickupRow
from .pdf import render_pdf
from .sorting import compute_totals, natural_key, sort_rows

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
    "sort_rows",
]
