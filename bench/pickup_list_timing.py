"""Time render_pdf / render_csv at 1k and 10k rows (median of 3).

Run: .venv/bin/python bench/pickup_list_timing.py [N ...]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from functools import partial

from messages.pickup_list import (
    PickupLine,
    PickupList,
    PickupListLabels,
    PickupRow,
    compute_totals,
    render_csv,
    render_pdf,
)

SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰"]
ITEMS = [
    ("鲜牛奶", "瓶"),
    ("土鸡蛋", "盒"),
    ("Organic Apples", "kg"),
    ("有机蔬菜礼盒（大份，含西兰花、胡萝卜、小白菜）", "份"),
    ("Sourdough Bread", "loaf"),
    ("五常大米", "袋"),
]

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
    place="地点",
    window="时间",
)


def make_list(n: int) -> PickupList:
    rows = []
    for i in range(n):
        k = i * 7919
        lines = tuple(
            PickupLine(
                ITEMS[(k + j) % len(ITEMS)][0], 1 + (k + j) % 3, ITEMS[(k + j) % len(ITEMS)][1]
            )
            for j in range(1 + i % 3)
        )
        rows.append(
            PickupRow(
                building=str(1 + k % 12),
                unit=str(1 + k % 4),
                room=f"{1 + k % 18}{(k % 4) + 1:02d}",
                name=SURNAMES[k % len(SURNAMES)] + GIVEN[k % len(GIVEN)],
                phone=f"138{k % 100000000:08d}" if i % 2 else None,
                lines=lines,
                amount=f"¥{(k % 20000) / 100:.2f}",
                code="".join(
                    "ABCDEFGHJKMNPQRSTUVWXYZ23456789"[(k >> (5 * s)) % 31] for s in range(4)
                ),
                payment="已付" if i % 5 else "未付",
                picked_up=i % 7 == 0,
            )
        )
    rows_t = tuple(rows)
    return PickupList(
        deal_title="周六鲜奶团 · 第 42 期",
        community="阳光花园小区",
        pickup_place="3号楼东门快递柜旁",
        pickup_window="6月1日 周六 09:00–12:00",
        labels=LABELS_ZH,
        rows=rows_t,
        totals=compute_totals(rows_t),
    )


def median_time(fn: Callable[[], bytes], repeat: int = 3) -> tuple[float, int]:
    times = []
    size = 0
    for _ in range(repeat):
        t = time.perf_counter()
        size = len(fn())
        times.append(time.perf_counter() - t)
    return statistics.median(times), size


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1_000, 10_000]
    render_pdf(make_list(10))  # warm-up: imports, font parsing code paths
    for n in sizes:
        pl = make_list(n)
        t_pdf, s_pdf = median_time(partial(render_pdf, pl))
        t_csv, s_csv = median_time(partial(render_csv, pl))
        print(
            f"{n:>7} rows  PDF {t_pdf:7.3f} s {s_pdf / 1e6:7.2f} MB   "
            f"CSV {t_csv:7.3f} s {s_csv / 1e6:7.2f} MB"
        )


if __name__ == "__main__":
    main()
