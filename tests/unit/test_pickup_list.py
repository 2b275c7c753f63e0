"""Pickup list (提货单): PDF and CSV rendering."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest

pypdf = pytest.importorskip("pypdf")

from messages.pickup_list import (  # noqa: E402
    ItemTotal,
    PickupLine,
    PickupList,
    PickupListLabels,
    PickupRow,
    compute_totals,
    natural_key,
    render_csv,
    render_pdf,
    sort_rows,
)

FIXED = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)

LABELS_ZH = PickupListLabels(
    title="提货单",
    building="楼栋",
    unit="单元",
    room="房号",
    name="姓名",
    phone="电话",
    items="商品",
    amount="金额",
    code="提货码",
    payment="付款",
    picked="已取",
    totals="拣货汇总",
    total_orders="共 {count} 单",
    page="第 {page} 页 / 共 {pages} 页",
    generated_at="生成于 2024-06-01 08:00",
    empty="暂无订单",
    quantity="数量",
    measure="单位",
    building_heading="{building}号楼 · {count} 单",
)

LABELS_EN = PickupListLabels(
    title="Pickup list",
    building="Building",
    unit="Unit",
    room="Room",
    name="Name",
    items="Items",
    amount="Amount",
    code="Code",
    payment="Payment",
    picked="Picked up",
    totals="Picking totals",
    total_orders="Total orders",
    page="Page {page} of {pages}",
    generated_at="Generated 2024-06-01 08:00",
    empty="No orders",
    quantity="Qty",
    measure="Unit",
    building_heading="Building {building} · orders: {count}",
)

MILK = PickupLine("鲜牛奶", 2, "瓶")
EGGS = PickupLine("Eggs", 1, "box")


def _row(building: str, room: str, name: str, code: str, **kw: Any) -> PickupRow:
    values: dict[str, Any] = {
        "building": building,
        "unit": "1",
        "room": room,
        "name": name,
        "phone": None,
        "lines": (MILK,),
        "amount": "¥12.00",
        "code": code,
        "payment": "已付",
        "picked_up": False,
    }
    values.update(kw)
    return PickupRow(**values)


ROWS = (
    _row("10", "101", "Zoe Walker", "Z10A", lines=(EGGS,), payment="Paid"),
    _row("2", "1203", "李娜", "L2B9", phone="13800000002", lines=(MILK, EGGS)),
    _row("3A", "201", "王芳", "W3A1", picked_up=True),
    _row("1", "302", "张伟", "K7P2", phone="+86 138 0000 0001"),
    _row("2", "302", "Bob Smith", "B2C3", unit="2", payment=""),
    _row("3", "101", "陈静", "C3D4", lines=(PickupLine("有机蔬菜礼盒", 3, "份"),)),
)


def _list(rows: tuple[PickupRow, ...] = ROWS, labels: PickupListLabels = LABELS_ZH) -> PickupList:
    return PickupList(
        deal_title="周六鲜奶团 第42期",
        community="阳光花园小区",
        pickup_place="3号楼东门",
        pickup_window="6月1日 09:00–12:00",
        labels=labels,
        rows=rows,
        totals=compute_totals(rows),
    )


def _pages_text(data: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return [page.extract_text() or "" for page in reader.pages]


def _embedded_fonts(data: bytes) -> dict[str, str]:
    """BaseFont -> name of the FontFile* key, for every font on every page."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    found: dict[str, str] = {}
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            desc = target["/FontDescriptor"].get_object()
            files = [k for k in ("/FontFile2", "/FontFile3", "/FontFile") if k in desc]
            if files:
                assert len(desc[files[0]].get_object().get_data()) > 0
                found[str(font["/BaseFont"])] = files[0]
    return found


# --- sorting ------------------------------------------------------------------


def test_natural_sort_order() -> None:
    values = ["10", "3A", "2", "3", "1", "B", "a"]
    assert sorted(values, key=natural_key) == ["1", "2", "3", "3A", "10", "a", "B"]
    assert sorted(["10号楼", "2号楼", "3号楼"], key=natural_key) == ["2号楼", "3号楼", "10号楼"]


def test_rows_sorted_by_building_unit_room() -> None:
    order = [(r.building, r.unit, r.room) for r in sort_rows(ROWS)]
    assert order == [
        ("1", "1", "302"),
        ("2", "1", "1203"),
        ("2", "2", "302"),
        ("3", "1", "101"),
        ("3A", "1", "201"),
        ("10", "1", "101"),
    ]


def test_compute_totals() -> None:
    totals = compute_totals(ROWS)
    assert ItemTotal("鲜牛奶", 8, "瓶") in totals
    assert ItemTotal("Eggs", 2, "box") in totals
    assert ItemTotal("有机蔬菜礼盒", 3, "份") in totals


# --- PDF ----------------------------------------------------------------------


def test_pdf_contains_chinese_names_codes_and_totals_in_building_order() -> None:
    data = render_pdf(_list(), created_at=FIXED)
    assert data.startswith(b"%PDF-")
    text = "\n".join(_pages_text(data))
    for expected in ("提货单", "周六鲜奶团", "阳光花园小区", "3号楼东门", "拣货汇总", "共 6 单"):
        assert expected in text
    names = ["张伟", "李娜", "Bob Smith", "陈静", "王芳", "Zoe Walker"]
    positions = [text.index(n) for n in names]
    assert positions == sorted(positions), "orders must be in natural building order"
    headings = [text.index(f"{b}号楼 · ") for b in ("1", "2", "3", "3A", "10")]
    assert headings == sorted(headings)
    assert "2号楼 · 2 单" in text
    for code in ("K7P2", "L2B9", "B2C3", "C3D4", "W3A1", "Z10A"):
        assert code in text
    assert "13800000002" in text
    assert "+86 138 0000 0001" in text
    # totals: item, quantity, unit of measure
    totals_part = text[text.index("拣货汇总") :]
    assert re.search(r"鲜牛奶\s*8\s*瓶", totals_part)
    assert re.search(r"有机蔬菜礼盒\s*3\s*份", totals_part)
    assert re.search(r"Eggs\s*2\s*box", totals_part)


def test_pdf_embeds_cjk_font_subset() -> None:
    data = render_pdf(_list(), created_at=FIXED)
    fonts = _embedded_fonts(data)
    cjk = [name for name in fonts if "WenQuanYiMicroHei" in name and "Mono" not in name]
    assert cjk, fonts
    assert fonts[cjk[0]] == "/FontFile2"  # TrueType outlines
    # subset-embedded: "ABCDEF+" tag, and far smaller than the 4.6 MB font file
    assert re.match(r"/[A-Z]{6}\+", cjk[0])
    assert len(data) < 300_000


def test_pdf_is_reproducible_with_fixed_creation_date() -> None:
    assert render_pdf(_list(), created_at=FIXED) == render_pdf(_list(), created_at=FIXED)


def test_multi_page_has_header_and_page_numbers_on_every_page() -> None:
    rows = tuple(
        _row(str(1 + i % 7), f"{100 + i}", f"住户{i:03d}", f"C{i:03d}", phone=f"1390000{i:04d}")
        for i in range(300)
    )
    data = render_pdf(_list(rows), created_at=FIXED)
    pages = _pages_text(data)
    n = len(pages)
    assert n > 3
    for i, page in enumerate(pages, start=1):
        assert "周六鲜奶团" in page
        assert "阳光花园小区" in page
        assert "提货码" in page or "数量" in page  # a table header on each page
        assert f"第 {i} 页 / 共 {n} 页" in page
    text = "\n".join(pages)
    for i in range(300):
        assert f"住户{i:03d}" in text
        assert f"C{i:03d}" in text
    assert "共 300 单" in pages[-1]


def test_english_labels_and_long_text_do_not_break() -> None:
    long_name = "Maximilian Alexander Featherstonehaugh-Worthington the Third of Apartment Row"
    long_item = "Extra large organic seasonal vegetable box with herbs " * 3
    rows = (
        _row("1", "1", long_name, "LONGCODE123456", lines=(PickupLine(long_item, 12, "box"),)),
        _row("2", "2", "小王🍉", "A1B2", payment="Paid (cash on pickup, please bring change)"),
    )
    data = render_pdf(_list(rows, LABELS_EN), created_at=FIXED)
    text = "\n".join(_pages_text(data))
    assert "Page 1 of 1" in text
    assert "Building 1 · orders: 1" in text
    assert "Maximilian" in text
    assert "…" in text  # something was truncated rather than overflowing
    assert "小王" in text  # the emoji is dropped, the name kept
    assert "Total orders: 2" in text


def test_empty_list_says_no_orders() -> None:
    pl = _list(rows=())
    data = render_pdf(pl, created_at=FIXED)
    text = "\n".join(_pages_text(data))
    assert "暂无订单" in text
    assert "共 0 单" in text
    assert "第 1 页 / 共 1 页" in text
    assert render_csv(pl).decode("utf-8-sig").splitlines() == [
        "楼栋,单元,房号,姓名,电话,商品,金额,提货码,付款,已取"
    ]


# --- CSV ----------------------------------------------------------------------


def test_csv_round_trip_with_bom() -> None:
    data = render_csv(_list())
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header, body = parsed[0], parsed[1:]
    assert header == [
        "楼栋",
        "单元",
        "房号",
        "姓名",
        "电话",
        "商品",
        "金额",
        "提货码",
        "付款",
        "已取",
    ]
    assert len(body) == len(ROWS)
    assert [r[3] for r in body] == ["张伟", "李娜", "Bob Smith", "陈静", "王芳", "Zoe Walker"]
    first = body[0]
    assert first == [
        "1",
        "1",
        "302",
        "张伟",
        "+86 138 0000 0001",
        "鲜牛奶 ×2",
        "¥12.00",
        "K7P2",
        "已付",
        "",
    ]
    assert body[1][5] == "鲜牛奶 ×2; Eggs ×1"
    assert body[4][9] == "✓"  # 王芳 picked up
    # no totals rows
    assert all(len(r) == 10 for r in body)


def test_csv_quotes_and_guards_formulas() -> None:
    rows = (
        _row("1", "1", '=HYPERLINK("http://x","y")', "A1", payment='say "hi", ok'),
        _row("1", "2", "Anne, Jr.", "A2\nB"),
    )
    text = render_csv(_list(rows)).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[1][3].startswith("'=")
    assert parsed[1][8] == 'say "hi", ok'
    assert parsed[2][3] == "Anne, Jr."
    assert parsed[2][7] == "A2\nB"


def _sizes(data: bytes) -> dict[str, float]:
    """Each piece of text on the first page, with the font size it is printed at."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    found: dict[str, float] = {}

    def seen(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if text.strip():
            found[text.strip()] = size * tm[0]

    reader.pages[0].extract_text(visitor_text=seen)
    return found


def test_every_heading_is_printed_whole_in_both_languages() -> None:
    for labels in (LABELS_EN, LABELS_ZH):
        data = render_pdf(_list(ROWS, labels), created_at=FIXED)
        text = _pages_text(data)[0]
        words = " ".join(text.split())
        for heading in (labels.unit, labels.room, labels.code, labels.payment, labels.picked):
            assert all(word in words for word in heading.split()), (heading, words[:300])
        assert "Pic…" not in text and "Pay…" not in text


def test_cash_to_collect_stands_out_from_names_amounts_and_other_states() -> None:
    rows = (
        _row("1", "101", "张伟", "K7P2", payment="Collect ¥55.00", collect=True),
        _row("1", "102", "李娜", "L2B9", payment="Paid"),
        _row("1", "103", "王芳", "W3A1", payment="Check transfer ¥12.00"),
    )
    data = render_pdf(_list(rows, LABELS_EN), created_at=FIXED)
    sizes = _sizes(data)
    collect = next(size for text, size in sizes.items() if "Collect" in text)
    others = [size for text, size in sizes.items() if text in ("张伟", "Paid", "¥12.00")]
    assert others and all(collect > size for size in others), sizes
    assert "Collect ¥55.00" in " ".join(_pages_text(data)[0].split())
