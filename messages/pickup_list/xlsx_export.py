"""The pickup list as an Excel workbook: the orders, the picking totals per item, and who has
paid what.

XlsxWriter writes it (not openpyxl): it is made for writing, about twice as fast on a big
list, and writes every string as a string (`write_string`), so a name typed as "=SUM(…)" is
text, never a formula. openpyxl reads the workbooks back in the tests.

What a leader gets beyond the CSV: the header row frozen and filterable, the columns as wide as
their contents (a CJK character counts two), amounts as numbers that Excel can add up, and a
printout that fits the page width with the header on every page.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]

from .csv_export import csv_header, format_lines
from .model import PickupList
from .sorting import sort_rows

_AMOUNT = 6  # the amount's column in csv_header and csv_row
MAX_WIDTH = 60  # characters; longer cells wrap in Excel's own way
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _width(text: str) -> int:
    """How many character widths `text` takes in a spreadsheet cell (CJK: two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _sheet_name(text: str, fallback: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, not empty."""
    name = _SHEET_FORBIDDEN.sub(" ", text).strip()[:31]
    return name or fallback


def _widths(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[int]:
    widths = [_width(h) for h in header]
    for row in rows:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], _width(str(value)))
    return [min(MAX_WIDTH, w + 2) for w in widths]


def render_xlsx(pl: PickupList) -> bytes:
    """Three sheets: the orders sorted as in the PDF, one row each; the totals per item; the
    payments, an order a row with what it costs, what is paid and what is owed, and their sums."""
    lb = pl.labels
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    book.set_properties({"title": f"{lb.title} - {pl.deal_title}", "author": "GroupBuy"})
    bold = book.add_format({"bold": True, "bg_color": "#EEEEEE", "bottom": 1})
    money_format = "#,##0." + "0" * pl.currency_digits if pl.currency_digits else "#,##0"
    money = book.add_format({"num_format": money_format})
    amount_head = f"{lb.amount} ({pl.currency})" if pl.currency else lb.amount

    header = csv_header(pl)  # the CSV's columns, the amount's named with its currency
    header[_AMOUNT] = amount_head
    points = pl.has_points
    rows = [
        (
            r.building,
            r.unit,
            r.room,
            r.name,
            r.phone or "",
            format_lines(r.lines),
            float(r.amount_value) if r.amount_value is not None else r.amount,
            r.code,
            r.payment,
            lb.picked_mark if r.picked_up else "",
            *((r.point,) if points else ()),
        )
        for r in sort_rows(pl.rows)
    ]
    orders = book.add_worksheet(_sheet_name(lb.title, "Orders"))
    for col, text in enumerate(header):
        orders.write_string(0, col, text, bold)
    for n, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if isinstance(value, str):
                if value:  # an empty cell is no cell
                    orders.write_string(n, col, value)
            else:
                orders.write_number(n, col, value, money)
    for col, width in enumerate(_widths(header, rows)):
        orders.set_column(col, col, width)
    orders.freeze_panes(1, 0)
    orders.autofilter(0, 0, max(len(rows), 1), len(header) - 1)
    orders.repeat_rows(0)
    orders.set_landscape()
    orders.fit_to_pages(1, 0)

    totals = book.add_worksheet(_sheet_name(lb.totals, "Totals"))
    total_header = [lb.items, lb.quantity, lb.measure]
    total_rows = [(t.item, t.quantity, t.unit) for t in pl.totals]
    for col, text in enumerate(total_header):
        totals.write_string(0, col, text, bold)
    for n, (item, quantity, unit) in enumerate(total_rows, start=1):
        totals.write_string(n, 0, item)
        totals.write_number(n, 1, quantity)
        if unit:
            totals.write_string(n, 2, unit)
    for col, width in enumerate(_widths(total_header, total_rows)):
        totals.set_column(col, col, width)
    totals.freeze_panes(1, 0)
    totals.repeat_rows(0)

    _payments(book, pl, bold, money)
    book.close()
    return out.getvalue()


def _payments(book: Any, pl: PickupList, bold: Any, money: Any) -> None:
    """The money of the list, for the leader's books: amounts as numbers, summed in the last
    row (as numbers too: a workbook read by a program, not Excel, has no formulas' results)."""
    lb = pl.labels
    currency = f" ({pl.currency})" if pl.currency else ""
    header = [
        lb.address,
        lb.name,
        lb.code,
        lb.amount + currency,
        lb.paid + currency,
        lb.owed + currency,
        lb.payment,
    ]
    sheet = book.add_worksheet(_sheet_name(lb.payments, "Payments"))
    for col, text in enumerate(header):
        sheet.write_string(0, col, text, bold)
    sums = [Decimal(0), Decimal(0), Decimal(0)]
    shown: list[tuple[str, ...]] = []
    n, counted = 0, False
    for n, row in enumerate(sort_rows(pl.rows), start=1):
        texts = (row.address, row.name, row.code)
        for col, text in enumerate(texts):
            if text:
                sheet.write_string(n, col, text)
        if row.amount_value is None or row.owed_value is None:
            sheet.write_string(n, 3, row.amount)  # no numbers given: the amount as written
        else:
            values = (row.amount_value, row.amount_value - row.owed_value, row.owed_value)
            for i, value in enumerate(values):
                sheet.write_number(n, 3 + i, float(value), money)
                sums[i] += value
            counted = True
        if row.payment:
            sheet.write_string(n, 6, row.payment)
        shown.append((*texts, row.amount, row.amount, row.amount, row.payment))
    if counted:
        sheet.write_string(n + 1, 0, lb.sum_total, bold)
        for i, value in enumerate(sums):
            sheet.write_number(n + 1, 3 + i, float(value), money)
    for col, width in enumerate(_widths(header, shown)):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(n, 1), len(header) - 1)
    sheet.repeat_rows(0)
