"""The pickup list as an Excel workbook (messages/pickup_list/xlsx_export.py), read back with
openpyxl cell by cell: what a leader opening it in Excel or WPS would see."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

openpyxl = pytest.importorskip("openpyxl")

from messages.pickup_list import (  # noqa: E402
    ItemTotal,
    PickupLine,
    PickupList,
    compute_totals,
    render_csv,
    render_xlsx,
    sort_rows,
)
from tests.unit.test_pickup_list import LABELS_EN, LABELS_ZH, MILK, ROWS, _list, _row  # noqa: E402

HEADER_ZH = ["楼栋", "单元", "房号", "姓名", "电话", "商品", "金额 (CNY)", "提货码", "付款", "已取"]


def _with_values(pl: PickupList, currency: str = "CNY", digits: int = 2) -> PickupList:
    rows = tuple(replace(r, amount_value=Decimal("12.00")) for r in pl.rows)
    return replace(pl, rows=rows, currency=currency, currency_digits=digits)


def _book(data: bytes) -> Any:
    assert data[:2] == b"PK"  # a zip, as every .xlsx
    return openpyxl.load_workbook(io.BytesIO(data))


def _values(sheet: Any) -> list[list[Any]]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_the_orders_sheet_is_the_list_row_by_row_sorted_as_the_pdf() -> None:
    book = _book(render_xlsx(_with_values(_list(ROWS, LABELS_ZH))))
    assert book.sheetnames == ["提货单", "拣货汇总", "Payments"]
    orders = book["提货单"]
    values = _values(orders)
    assert values[0] == HEADER_ZH
    # buildings in natural order (1, 2, 2, 3, 3A, 10), empty cells read back as None
    assert [row[0] for row in values[1:]] == ["1", "2", "2", "3", "3A", "10"]
    assert values[1] == [
        "1", "1", "302", "张伟", "+86 138 0000 0001", "鲜牛奶 ×2", 12, "K7P2", "已付", None,
    ]  # fmt: skip
    assert values[3][2:8] == ["302", "Bob Smith", None, "鲜牛奶 ×2", 12, "B2C3"]
    assert values[5][3] == "王芳" and values[5][9] == "✓"  # handed out
    assert values[2][5] == "鲜牛奶 ×2; Eggs ×1"


def test_amounts_are_numbers_in_the_currency_and_text_stays_text() -> None:
    rows = (
        *ROWS,
        _row("9", "901", '=HYPERLINK("http://x")', "Q9Z9", phone="0123", lines=(MILK,)),
    )
    book = _book(render_xlsx(_with_values(_list(rows, LABELS_ZH))))
    orders = book.worksheets[0]
    amount = orders.cell(row=2, column=7)
    assert amount.data_type == "n" and amount.value == 12
    assert amount.number_format == "#,##0.00"
    typed = next(r for r in orders.iter_rows() if r[7].value == "Q9Z9")
    # A name that looks like a formula is a string (never run), a phone keeps its leading 0.
    assert typed[3].data_type == "s" and typed[3].value == '=HYPERLINK("http://x")'
    assert typed[4].data_type == "s" and typed[4].value == "0123"


def test_a_currency_without_decimals_and_a_list_without_numbers() -> None:
    stars = _book(render_xlsx(_with_values(_list(ROWS, LABELS_EN), "XTR", 0)))
    assert stars.worksheets[0].cell(row=2, column=7).number_format == "#,##0"
    assert stars.worksheets[0].cell(row=1, column=7).value == "Amount (XTR)"
    # No numbers given: the formatted amounts, as text, under the plain heading.
    plain = _book(render_xlsx(_list(ROWS, LABELS_EN)))
    orders = plain.worksheets[0]
    assert orders.cell(row=1, column=7).value == "Amount"
    assert orders.cell(row=2, column=7).value == "¥12.00"


def test_headers_are_frozen_filterable_and_printed_on_every_page() -> None:
    book = _book(render_xlsx(_with_values(_list(ROWS, LABELS_ZH))))
    orders, totals, payments = book.worksheets
    assert orders.freeze_panes == totals.freeze_panes == payments.freeze_panes == "A2"
    assert orders.auto_filter.ref == f"A1:J{len(ROWS) + 1}"
    assert orders.print_title_rows == "$1:$1"
    assert orders.page_setup.orientation == "landscape"
    # fit to one page wide (Excel's default width of 1 is left unwritten), as tall as it takes
    assert orders.sheet_properties.pageSetUpPr.fitToPage is True
    assert orders.page_setup.fitToHeight == 0 and orders.page_setup.fitToWidth in (None, 1)


def test_columns_are_as_wide_as_their_contents_cjk_counting_double() -> None:
    long_item = PickupLine("有机蔬菜礼盒（大份，含西兰花、胡萝卜、小白菜）", 1, "份")
    rows = (*ROWS, _row("8", "801", "欧阳娜娜", "O8N8", lines=(long_item,)))
    orders = _book(render_xlsx(_list(rows, LABELS_ZH))).worksheets[0]
    width = {c: orders.column_dimensions[c].width for c in "ABDFH"}
    # 楼栋: two CJK characters (4) and padding; the items column: 25 CJK characters and " ×1"
    assert width["A"] == pytest.approx(6, abs=1.5)
    assert width["F"] == pytest.approx(2 * 24 + 3 + 2, abs=1.5)
    assert width["F"] > width["D"] > width["A"]


def test_the_totals_sheet_has_each_item_once_with_a_numeric_quantity() -> None:
    pl = _list(ROWS, LABELS_EN)
    totals = _book(render_xlsx(pl)).worksheets[1]
    assert totals.title == "Picking totals"
    values = _values(totals)
    assert values[0] == ["Items", "Qty", "Unit"]
    expected = [[t.item, t.quantity, t.unit] for t in compute_totals(ROWS)]
    assert values[1:] == expected
    assert all(isinstance(row[1], int) for row in values[1:])
    assert ItemTotal("鲜牛奶", 8, "瓶") in compute_totals(ROWS)  # four orders of two


def test_sheet_names_follow_excels_rules() -> None:
    labels = replace(LABELS_EN, title="Pickup list: Sat/Sun [week 23] * ?", totals="")
    book = _book(render_xlsx(_list(ROWS, labels)))
    first, second, _ = book.sheetnames
    assert len(first) <= 31 and not set(first) & set("[]:*?/\\")
    assert second == "Totals"


def test_an_empty_list_is_a_workbook_with_its_headings() -> None:
    book = _book(render_xlsx(_list((), LABELS_ZH)))
    assert _values(book.worksheets[0]) == [[*HEADER_ZH[:6], "金额", *HEADER_ZH[7:]]]
    assert _values(book.worksheets[1]) == [["商品", "数量", "单位"]]
    assert len(_values(book.worksheets[2])) == 1  # the headings, and no sum of nothing


def _owing(pl: PickupList) -> PickupList:
    """Each order 12.00; the second owes all of it, the third half (a part refunded back)."""
    owed = {1: Decimal("12.00"), 2: Decimal("6.00")}
    rows = tuple(
        replace(r, amount_value=Decimal("12.00"), owed_value=owed.get(i, Decimal(0)))
        for i, r in enumerate(sort_rows(pl.rows))
    )
    return replace(pl, rows=rows, currency="CNY")


def test_the_payments_sheet_has_each_order_with_paid_and_owed_and_their_sums() -> None:
    labels = replace(LABELS_ZH, payments="收款明细", address="地址", paid="已付金额",
                     owed="待付金额", sum_total="合计")  # fmt: skip
    pl = _owing(_list(ROWS, labels))
    payments = _book(render_xlsx(pl))["收款明细"]
    values = _values(payments)
    assert values[0] == [
        "地址", "姓名", "提货码", "金额 (CNY)", "已付金额 (CNY)", "待付金额 (CNY)", "付款",
    ]  # fmt: skip
    ordered = sort_rows(pl.rows)
    assert [row[2] for row in values[1:-1]] == [r.code for r in ordered]
    assert values[1][:6] == ["1-1-302", "张伟", "K7P2", 12, 12, 0]
    assert values[2][3:6] == [12, 0, 12] and values[3][3:6] == [12, 6, 6]
    assert values[-1][0] == "合计"
    assert values[-1][3:6] == [12 * len(ROWS), 12 * len(ROWS) - 18, 18]
    assert payments.cell(row=2, column=5).number_format == "#,##0.00"
    # The filter covers the orders, not the sums under them.
    assert payments.auto_filter.ref == f"A1:G{len(ROWS) + 1}"


def test_payments_without_numbers_show_the_amount_as_written() -> None:
    payments = _book(render_xlsx(_list(ROWS, LABELS_EN))).worksheets[2]
    assert payments.title == "Payments"
    assert payments.cell(row=1, column=4).value == "Amount"
    assert payments.cell(row=2, column=4).value == "¥12.00"
    assert payments.cell(row=2, column=5).value is None
    assert payments.max_row == len(ROWS) + 1  # no sums of amounts it was not given


def test_a_list_with_pickup_points_names_each_orders_point_last() -> None:
    """A deal with pickup points: the orders sheet (and the CSV, whose columns it shares) end
    with each order's point, filterable like the rest; a list without points has no such
    column (the test above)."""
    points = ("物业办公室", "12号商铺")
    rows = tuple(replace(r, point=points[n % 2]) for n, r in enumerate(ROWS))
    labels = replace(LABELS_ZH, point="取货点")
    pl = _with_values(_list(rows, labels))
    orders = _book(render_xlsx(pl)).worksheets[0]
    values = _values(orders)
    assert values[0] == [*HEADER_ZH, "取货点"]
    assert [row[10] for row in values[1:]] == [r.point for r in sort_rows(rows)]
    assert orders.auto_filter.ref == f"A1:K{len(ROWS) + 1}"
    csv_text = render_csv(pl).decode("utf-8-sig").splitlines()
    assert csv_text[0].split(",")[-1] == "取货点"
    assert [line.split(",")[-1] for line in csv_text[1:]] == [r.point for r in sort_rows(rows)]
